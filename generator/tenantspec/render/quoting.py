"""The one way identifiers and literals reach generated SQL."""

from __future__ import annotations

import re

from pglast.keywords import (
    COL_NAME_KEYWORDS,
    RESERVED_KEYWORDS,
    TYPE_FUNC_NAME_KEYWORDS,
)

from tenantspec.spec.model import Name

_PLAIN = re.compile(r"[a-z_][a-z0-9_]*\Z")
_NEEDS_QUOTES = RESERVED_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS | COL_NAME_KEYWORDS


def ident(name: str) -> str:
    """An identifier, double-quoted only where PostgreSQL would misread it bare."""
    if _PLAIN.match(name) and name not in _NEEDS_QUOTES:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(name: Name) -> str:
    """A schema-qualified name: ``schema.name``."""
    return f"{ident(name.schema)}.{ident(name.name)}"


def literal(value: str) -> str:
    """A string literal (standard_conforming_strings, as on Supabase)."""
    return "'" + value.replace("'", "''") + "'"


def literal_list(values) -> str:
    return ", ".join(literal(v) for v in values)


def ident_list(names) -> str:
    return ", ".join(ident(n) for n in names)
