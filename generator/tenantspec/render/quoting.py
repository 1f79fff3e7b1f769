"""The one way identifiers and literals reach generated SQL."""

from __future__ import annotations

from tenantspec.catalog.names import sql_literal as literal  # noqa: F401  (one rule for strings)
from tenantspec.spec.model import Name
from tenantspec.spec.model import (
    sql_identifier as ident,  # (the spec names types by the same rule)
)


def qualified(name: Name) -> str:
    """A schema-qualified name: ``schema.name``."""
    return name.sql


def literal_list(values) -> str:
    return ", ".join(literal(v) for v in values)


def ident_list(names) -> str:
    return ", ".join(ident(n) for n in names)
