"""SQL fragments from specs: each must be exactly one expression; types must be known."""

from __future__ import annotations

from functools import lru_cache

import pglast
from pglast import ast, enums

from tenantspec.catalog.expression import conjuncts
from tenantspec.catalog.nodes import walk

# Base types a spec may name, by the name PostgreSQL's parser resolves them to.
KNOWN_TYPES = frozenset({
    "bool", "int2", "int4", "int8", "float4", "float8", "numeric", "money",
    "text", "varchar", "bpchar", "citext", "name", "uuid", "json", "jsonb",
    "bytea", "date", "time", "timetz", "timestamp", "timestamptz", "interval",
    "inet", "cidr", "macaddr", "tsvector", "bit", "varbit", "oid", "xml",
    "int4range", "int8range", "numrange", "tstzrange", "daterange",
    "serial", "bigserial", "smallserial", "serial4", "serial8", "serial2",
    # types of the extensions Supabase offers (pgvector, hstore, ltree)
    "vector", "halfvec", "sparsevec", "hstore", "ltree",
})
SERIAL_TYPES = frozenset({"serial", "bigserial", "smallserial", "serial4", "serial8", "serial2"})
IDENTITY_TYPES = frozenset({"int2", "int4", "int8"})


@lru_cache(maxsize=4096)  # specs repeat their types and expressions
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


@lru_cache(maxsize=4096)  # specs repeat their types and expressions
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
        return f"unknown SQL type {text!r}{type_hint(text)}"
    return None


# What spec writers type, for "did you mean" on an unknown type.
TYPE_SPELLINGS = (
    "boolean", "smallint", "integer", "bigint", "serial", "bigserial", "real", "double precision",
    "numeric", "money", "text", "varchar", "char", "citext", "uuid", "json", "jsonb", "bytea", "date",
    "time", "timetz", "timestamp", "timestamptz", "interval", "inet", "cidr", "macaddr", "tsvector",
    "bit", "varbit", "oid", "xml", "int4range", "int8range", "numrange", "tstzrange", "daterange",
)
INTEGER_TYPES = frozenset({"int2", "int4", "int8"})
NUMBER_TYPES = frozenset({"float4", "float8", "numeric", "money"})
BOOLEAN_WORDS = ("true", "false", "yes", "no", "on", "off", "1", "0")


# Other languages' names for PostgreSQL types, which spec writers reach for first.
TYPE_ALIASES = {"string": "text", "str": "text", "int": "integer", "long": "bigint", "float": "double precision",
                "double": "double precision", "datetime": "timestamptz", "dict": "jsonb", "object": "jsonb",
                "bool": "boolean", "decimal": "numeric", "guid": "uuid"}


def type_hint(text: str) -> str:
    """`` (did you mean 'integer'?)`` for a misspelt type, else ''."""
    import difflib

    word = text.strip().lower()
    candidates = [TYPE_ALIASES[w] for w in difflib.get_close_matches(word, TYPE_ALIASES, n=1, cutoff=0.8)]
    candidates += difflib.get_close_matches(word, TYPE_SPELLINGS, n=1, cutoff=0.75)
    return f" (did you mean '{candidates[0]}'?)" if candidates else ""


@lru_cache(maxsize=4096)  # specs repeat their types and expressions
def default_error(type_text: str, default: str) -> str | None:
    """Why ``default`` cannot be a default of a column of ``type_text``, judged on the type's
    values (a literal the type cannot hold, a column name where a value belongs), else None.
    Expressions other than literals (``now()``, ``gen_random_uuid()``) are left to PostgreSQL."""
    try:
        value = pglast.parse_sql(f"select {default}")[0].stmt.targetList[0].val
        type_name = pglast.parse_sql(f"select null::{type_text}")[0].stmt.targetList[0].val.typeName
    except (pglast.parser.ParseError, AttributeError, IndexError):
        return None  # reported as not an expression or not a type
    for node, _ in walk(value):
        if isinstance(node, ast.ColumnRef):
            name = ".".join(getattr(f, "sval", "*") for f in node.fields)
            return (f"a default cannot read a column ({name}): write a value, e.g. a string as "
                    f"\"'{name}'\", or a function call")
    if isinstance(value, ast.TypeCast):  # '{}'::jsonb: the literal is judged by the cast's type
        type_name, value = value.typeName, value.arg
    if not isinstance(value, ast.A_Const) or value.isnull or type_name.arrayBounds:
        return None
    base = type_name.names[-1].sval
    constant = value.val
    kind = type(constant).__name__  # Integer, Float, String, Boolean, BitString
    shown = type_text.strip()
    if base in INTEGER_TYPES:
        if kind == "Integer" or (kind == "String" and _is_integer(constant.sval)):
            return None
        return f"default {default} is not a value of type {shown} (an integer)"
    if base in NUMBER_TYPES:
        if kind in ("Integer", "Float") or (kind == "String" and _is_number(constant.sval)):
            return None
        return f"default {default} is not a value of type {shown} (a number)"
    if base == "bool":
        if kind == "Boolean" or (kind == "String" and _is_boolean(constant.sval)):
            return None
        return f"default {default} is not a value of type {shown} (true or false)"
    if base == "uuid":
        if kind == "String" and _is_uuid(constant.sval):
            return None
        return f"default {default} is not a value of type {shown}"
    if base in ("json", "jsonb"):
        if kind == "String" and _is_json(constant.sval):
            return None
        return f"default {default} is not a value of type {shown} (a JSON document in quotes, e.g. \"'{{}}'\")"
    return None


def _is_integer(text: str) -> bool:
    try:
        int(text.strip().replace("_", ""))
    except ValueError:
        return False
    return True


def _is_number(text: str) -> bool:
    try:
        float(text.strip())
    except ValueError:
        return False
    return True


def _is_boolean(text: str) -> bool:
    word = text.strip().lower()
    # PostgreSQL takes any unambiguous prefix of its words ('t', 'ye', 'of' …)
    return bool(word) and any(w.startswith(word) for w in BOOLEAN_WORDS) and word not in ("o",)


def _is_uuid(text: str) -> bool:
    import uuid

    try:
        uuid.UUID(text.strip())
    except ValueError:
        return False
    return True


def _is_json(text: str) -> bool:
    import json

    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=4096)  # specs repeat their types and expressions
def is_timestamptz(text: str) -> bool:
    """Whether a spec type names timestamptz (``timestamp with time zone`` too)."""
    try:
        type_name = pglast.parse_sql(f"select null::{text}")[0].stmt.targetList[0].val.typeName
    except (pglast.parser.ParseError, AttributeError, IndexError):
        return False
    return type_name.names[-1].sval == "timestamptz" and not type_name.arrayBounds


@lru_cache(maxsize=4096)  # specs repeat their types and expressions
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



UTC_NAMES = {"utc", "uct", "gmt", "gmt0", "gmt+0", "gmt-0", "zulu", "z", "universal", "greenwich"}


@lru_cache(maxsize=4096)  # specs repeat their types and expressions
def utc_timezone_call(text: str) -> bool:
    """Whether the ``timezone()`` / ``at time zone`` of an expression converts to UTC: right
    while the session's TimeZone is UTC, as Supabase's sessions are."""
    try:
        tree = pglast.parse_sql(f"select {text}")
    except pglast.parser.ParseError:
        return False
    for node, _ in walk(tree[0].stmt):
        if isinstance(node, ast.FuncCall) and node.funcname[-1].sval == "timezone" and node.args:
            zone = node.args[0]
            while isinstance(zone, ast.TypeCast):
                zone = zone.arg
            return isinstance(zone, ast.A_Const) and isinstance(zone.val, ast.String) \
                and zone.val.sval.lower().removeprefix("etc/") in UTC_NAMES
    return False


SERIAL_STORAGE = {"serial": "integer", "serial4": "integer", "bigserial": "bigint", "serial8": "bigint",
                  "smallserial": "smallint", "serial2": "smallint"}


def storage_type(text: str) -> str:
    """The type a column holds: a serial's integer type, else the type as written."""
    return SERIAL_STORAGE.get(text.strip().lower(), text)


def type_node(text: str) -> ast.TypeName | None:
    """A type as PostgreSQL's parser reads it, or None when ``text`` is no type."""
    try:
        return pglast.parse_sql(f"select null::{text}")[0].stmt.targetList[0].val.typeName
    except (pglast.parser.ParseError, AttributeError, IndexError):
        return None


def expression_node(text: str):
    """The parsed node of one SQL expression (``parse_expression`` found it is one)."""
    return pglast.parse_sql(f"select {text}")[0].stmt.targetList[0].val


@lru_cache(maxsize=4096)  # specs repeat their types and expressions
def base_type(text: str) -> str | None:
    """The base name of a type that is no array (``serial``, ``int4``), else None."""
    type_name = type_node(text)
    return None if type_name is None or type_name.arrayBounds else type_name.names[-1].sval


def is_serial(text: str) -> bool:
    """serial, bigserial, smallserial: integers a sequence numbers."""
    return base_type(text) in SERIAL_TYPES


def condition_values(text: str) -> dict[str, object] | None:
    """The column values a row needs for ``text`` (a condition on one row: ``is_active``,
    ``deleted_at is null``, ``status = 'active'``, ``not archived``, joined by ``and``) to
    hold; None when it is no such condition."""
    values: dict[str, object] = {}
    for part in conjuncts(expression_node(text)):
        found = _part_value(part)
        if found is None:
            return None
        values[found[0]] = found[1]
    return values


def _column(node) -> str | None:
    if isinstance(node, ast.ColumnRef) and isinstance(node.fields[-1], ast.String):
        return node.fields[-1].sval
    return None


def _part_value(part) -> tuple[str, object] | None:
    if (column := _column(part)) is not None:
        return column, True
    if isinstance(part, ast.BoolExpr) and part.boolop == enums.BoolExprType.NOT_EXPR \
            and (column := _column(part.args[0])) is not None:
        return column, False
    if isinstance(part, ast.NullTest) and (column := _column(part.arg)) is not None \
            and part.nulltesttype == enums.NullTestType.IS_NULL:
        return column, None
    if isinstance(part, ast.BooleanTest) and (column := _column(part.arg)) is not None \
            and part.booltesttype in (enums.BoolTestType.IS_TRUE, enums.BoolTestType.IS_FALSE):
        return column, part.booltesttype == enums.BoolTestType.IS_TRUE
    if isinstance(part, ast.A_Expr) and part.kind == enums.A_Expr_Kind.AEXPR_OP and part.name[-1].sval == "=":
        for side, other in ((part.lexpr, part.rexpr), (part.rexpr, part.lexpr)):
            while isinstance(other, ast.TypeCast):
                other = other.arg
            if (column := _column(side)) is not None and isinstance(other, ast.A_Const) and other.val is not None:
                value = other.val
                found = value.boolval if isinstance(value, ast.Boolean) else value.sval \
                    if isinstance(value, ast.String) else value.ival if isinstance(value, ast.Integer) else None
                return (column, found) if found is not None else None
    return None
