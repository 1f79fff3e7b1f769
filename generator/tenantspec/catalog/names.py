"""The names PostgreSQL gives constraints and indexes created without one, and how it quotes
an identifier and a string (`sql_identifier`, `sql_literal`).

A migration that writes ``user_id uuid references auth.users`` gets a constraint named
``<table>_user_id_fkey``, and a later ``drop constraint <table>_user_id_fkey`` must find it.
PostgreSQL builds such names from the table, the columns and a label, shortening the table
and column parts (the longer first) so the whole fits in 63 bytes, and adds a number to the
label when the name is taken in the schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from pglast.keywords import (
    COL_NAME_KEYWORDS,
    RESERVED_KEYWORDS,
    TYPE_FUNC_NAME_KEYWORDS,
)

_PLAIN = re.compile(r"[a-z_][a-z0-9_]*\Z")
_NEEDS_QUOTES = RESERVED_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS | COL_NAME_KEYWORDS


def sql_identifier(name: str) -> str:
    """An identifier as SQL spells it, double-quoted only where PostgreSQL would misread it
    bare (a keyword, upper case, other characters), as ``quote_ident()`` quotes: the one rule
    generated SQL quotes by, and the one replay evaluates ``quote_ident()`` and ``%I`` with."""
    if _PLAIN.match(name) and name not in _NEEDS_QUOTES:
        return name
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: str) -> str:
    """A string literal as ``quote_literal()`` writes it (standard_conforming_strings, as on
    Supabase)."""
    return "'" + value.replace("'", "''") + "'"

NAME_BYTES = 63  # NAMEDATALEN - 1

PRIMARY_KEY = "pkey"
UNIQUE = "key"
FOREIGN_KEY = "fkey"
CHECK = "check"
NOT_NULL = "not_null"  # PostgreSQL 18 names NOT NULL constraints
NOT_NULL_CHECK = "proves_not_null"  # the planner's CHECK that proves a column holds no NULL
INDEX = "idx"


def _clip(text: str, limit: int) -> str:
    """The longest prefix of ``text`` within ``limit`` UTF-8 bytes, never splitting a character."""
    data = text.encode()[:limit]
    return data.decode(errors="ignore")


def object_name(table: str, addition: str | None, label: str) -> str:
    """``<table>_<addition>_<label>`` shortened the way PostgreSQL's makeObjectName does."""
    overhead = len(label.encode()) + 1 + (1 if addition else 0)  # the label and the underscores
    available = NAME_BYTES - overhead
    table_bytes, addition_bytes = len(table.encode()), len(addition.encode()) if addition else 0
    while table_bytes + addition_bytes > available:
        if table_bytes > addition_bytes:
            table_bytes -= 1
        else:
            addition_bytes -= 1
    parts = [_clip(table, table_bytes)]
    if addition:
        parts.append(_clip(addition, addition_bytes))
    return "_".join(parts + [label])


def column_addition(columns: Iterable[str]) -> str:
    """The column part of a default name: the column names joined by ``_``."""
    return "_".join(columns)


def choose_name(table: str, addition: str | None, label: str, taken: Callable[[str], bool]) -> str:
    """The default name, numbered (``label1``, ``label2``, …) while ``taken`` says it is used."""
    name = object_name(table, addition, label)
    number = 0
    while taken(name):
        number += 1
        name = object_name(table, addition, f"{label}{number}")
    return name


# English plural endings of table names, longest first: companies, classes, statuses, boxes,
# batches, wishes, teams.
PLURALS = (("ies", "y"), ("sses", "ss"), ("uses", "us"), ("xes", "x"), ("ches", "ch"), ("shes", "sh"), ("s", ""))


def singular(name: str) -> str:
    """``organizations`` -> ``organization``: what one row of a table is called."""
    for plural, single in PLURALS:
        if name.endswith(plural) and len(name) > len(plural) + 1:
            return name[: -len(plural)] + single
    return name
