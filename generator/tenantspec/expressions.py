"""SQL fragments from specs: each must be exactly one expression; types must be known."""

from __future__ import annotations

import pglast
from pglast import ast, enums

from tenantspec.catalog.nodes import walk

# Base types a spec may name, by the name PostgreSQL's parser resolves them to.
KNOWN_TYPES = frozenset({
    "bool", "int2", "int4", "int8", "float4", "float8", "numeric", "money",
    "text", "varchar", "bpchar", "citext", "name", "uuid", "json", "jsonb",
    "bytea", "date", "time", "timetz", "timestamp", "timestamptz", "interval",
    "inet", "cidr", "macaddr", "tsvector", "bit", "varbit", "oid", "xml",
    "int4range", "int8range", "numrange", "tstzrange", "daterange",
})


def parse_expression(text: str) -> str | None:
    """Return None when ``text`` is exactly one SQL expression, else why it is not."""
    try:
        statements = pglast.parse_sql(f"select {text}")
    except pglast.parser.ParseError as error:
        return f"not a SQL expression: {error.args[0]}"
    if len(statements) != 1:
        return "must be one SQL expression, found several statements"
    select = statements[0].stmt
    if isinstance(select, ast.SelectStmt) and not select.targetList:
        return "must be one SQL expression, found none"
    if not isinstance(select, ast.SelectStmt) or len(select.targetList) != 1:
        return "must be one SQL expression, found a list"
    extra = [clause for clause in ("fromClause", "whereClause", "groupClause", "havingClause",
                                   "sortClause", "limitCount", "limitOffset", "windowClause",
                                   "distinctClause", "intoClause", "lockingClause")
             if getattr(select, clause)]
    if extra or select.op.value != 0:
        return "must be one SQL expression, not a query"
    if select.targetList[0].name:
        return "must be one SQL expression, not an aliased column"
    return None


def type_error(text: str) -> str | None:
    """Return None when ``text`` names a known PostgreSQL type, else why not."""
    try:
        statements = pglast.parse_sql(f"select null::{text}")
        type_name = statements[0].stmt.targetList[0].val.typeName
    except (pglast.parser.ParseError, AttributeError, IndexError):
        return f"not a SQL type: {text!r}"
    if len(statements) != 1:
        return f"not a SQL type: {text!r}"
    base = type_name.names[-1].sval
    if base not in KNOWN_TYPES:
        return f"unknown SQL type {text!r}"
    return None


def is_timestamptz(text: str) -> bool:
    """Whether a spec type names timestamptz (``timestamp with time zone`` too)."""
    try:
        type_name = pglast.parse_sql(f"select null::{text}")[0].stmt.targetList[0].val.typeName
    except (pglast.parser.ParseError, AttributeError, IndexError):
        return False
    return type_name.names[-1].sval == "timestamptz" and not type_name.arrayBounds


def timezone_call(text: str) -> str | None:
    """``timezone(...)`` or ``... at time zone ...`` inside an expression, as written, else None."""
    try:
        tree = pglast.parse_sql(f"select {text}")
    except pglast.parser.ParseError:
        return None
    for node, _ in walk(tree[0].stmt):
        if isinstance(node, ast.FuncCall) and node.funcname[-1].sval == "timezone":
            return "at time zone" if node.funcformat == enums.CoercionForm.COERCE_SQL_SYNTAX else "timezone()"
    return None

