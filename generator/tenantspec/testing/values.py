"""Values of a column's type that the policy tests write, and their canonical text.

Every value travels as text with an explicit cast to the column's declared type, so one
function covers every type the specs may name. A value is canonical when it reads back the
same from a ``to_jsonb`` snapshot (see `canonical`), which is how the tests compare rows.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from functools import cache

import pglast
from pglast import ast

_NAMESPACE = uuid.UUID("6f1c9a43-3f0e-4c1b-9d59-2b7f4c3e8a10")
_EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)

_FAMILIES = {
    "uuid": "uuid",
    "text": "text", "varchar": "text", "bpchar": "text", "char": "text", "citext": "text", "name": "text",
    "int2": "integer", "int4": "integer", "int8": "integer", "smallint": "integer", "integer": "integer",
    "bigint": "integer", "int": "integer", "serial": "integer", "bigserial": "integer", "smallserial": "integer",
    "serial4": "integer", "serial8": "integer", "serial2": "integer",
    "numeric": "number", "decimal": "number", "float4": "number", "float8": "number", "real": "number",
    "bool": "boolean", "boolean": "boolean",
    "json": "json", "jsonb": "json",
    "timestamptz": "timestamp", "timestamp": "timestamp",
    "date": "date",
    "time": "time", "timetz": "time",
    "interval": "interval",
}

# Families whose canonical text is what a to_jsonb snapshot reads back.
COMPARABLE = frozenset({"uuid", "text", "integer", "boolean"})


def fixed_id(name: str) -> uuid.UUID:
    """A stable uuid for a named test row: a failure names the same rows on every run."""
    return uuid.uuid5(_NAMESPACE, name)


@cache
def type_shape(type_text: str) -> tuple[str | None, int | None]:
    """``(family, length limit)`` of a SQL type name; family None when the tests cannot
    make values of it (a domain, an enum, a range ...)."""
    try:
        cast = pglast.parse_sql(f"select null::{type_text}")[0].stmt.targetList[0].val
    except pglast.parser.ParseError:
        return None, None
    type_name: ast.TypeName = cast.typeName
    if type_name.arrayBounds:
        return "array", None
    last = type_name.names[-1].sval.lower()
    limit = None
    if type_name.typmods and _FAMILIES.get(last) == "text":
        first = type_name.typmods[0]
        if isinstance(first, ast.A_Const) and isinstance(first.val, ast.Integer):
            limit = first.val.ival
    return _FAMILIES.get(last), limit


@cache
def numeric_shape(type_text: str) -> tuple[int, int] | None:
    """``(precision, scale)`` of ``numeric(p, s)`` (``numeric(p)``: scale 0); None otherwise."""
    try:
        type_name = pglast.parse_sql(f"select null::{type_text}")[0].stmt.targetList[0].val.typeName
    except pglast.parser.ParseError:
        return None
    if type_name.arrayBounds or type_name.names[-1].sval.lower() not in ("numeric", "decimal") \
            or not type_name.typmods:
        return None
    mods = [m.val.ival for m in type_name.typmods if isinstance(m, ast.A_Const) and isinstance(m.val, ast.Integer)]
    return (mods[0], mods[1] if len(mods) > 1 else 0) if mods else None


def family(type_text: str) -> str | None:
    return type_shape(type_text)[0]


def sample(type_text: str, n: int, tag: str, scope: str = "") -> str | None:
    """The ``n``-th value of the type: ``tag`` (a short text unique to the row) is the text
    value, and with ``scope`` (table and column) names the uuid. None when the type is not
    one the tests can make values of."""
    kind, limit = type_shape(type_text)
    if kind == "uuid":
        return str(fixed_id(f"{scope}/{tag}"))
    if kind == "text":
        return tag[-limit:] if limit else tag
    if kind == "number" and (shape := numeric_shape(type_text)) is not None and n >= 10 ** (shape[0] - shape[1]):
        precision, scale = shape  # numeric(5, 4) holds less than 10: n = 501 is 0.0501
        whole = n // 10 ** scale % 10 ** max(precision - scale, 0)
        return f"{whole}.{n % 10 ** scale:0{scale}d}" if scale else str(whole)
    if kind in ("integer", "number"):
        return str(n)
    if kind == "boolean":
        return "true" if n % 2 else "false"
    if kind == "json":
        return json.dumps({"n": n})
    if kind == "timestamp":
        return (_EPOCH + datetime.timedelta(minutes=n)).isoformat()
    if kind == "date":
        return (_EPOCH + datetime.timedelta(days=n)).date().isoformat()
    if kind == "time":
        return f"{n // 3600 % 24:02}:{n // 60 % 60:02}:{n % 60:02}"
    if kind == "interval":
        return f"{n} seconds"
    if kind == "array":
        return "{}" if n == 0 else f"{{{n}}}"
    return None


def other_than(type_text: str, current: str | None, n: int, tag: str, scope: str = "") -> str | None:
    """A value of the type that differs from ``current``."""
    value = sample(type_text, n, tag, scope)
    if value == current and family(type_text) == "boolean":
        return "false" if current == "true" else "true"
    if value == current:
        return sample(type_text, n + 1, tag + "x", scope)
    return value


def outside(one_of: tuple[str, ...]) -> str:
    """A text value that is not one of the allowed ones."""
    value = "not_" + one_of[0]
    while value in one_of:
        value += "_"
    return value


def canonical(value) -> str | None:
    """The text a snapshot value compares as (JSON scalars to their SQL text)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)


def checked_text(text: str, rule: tuple[str | None, bool, int]) -> str:
    """``text`` (a row's label) made to pass a CHECK's rule for its column (`text_rules`): as
    long as the rule's least length, and, under a pattern, the simplest text the pattern finds
    with the label inside where it fits (``a1`` under an e-mail pattern: ``a10@0.AA``)."""
    pattern, ignore_case, least = rule
    if pattern is None:
        return text + "x" * max(least - len(text), 0)
    try:
        compiled = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error:
        return text
    simplest = _simplest_match(pattern, ignore_case, least)
    if simplest is None:
        return text
    for at in range(len(simplest) + 1):
        candidate = simplest[:at] + text + simplest[at:]
        if compiled.search(candidate) and len(candidate) >= least:
            return candidate
    return simplest


@cache
def _simplest_match(pattern: str, ignore_case: bool, least: int) -> str | None:
    """The simplest text PostgreSQL's ``~`` would find ``pattern`` in (read as Python's re
    reads it), as hypothesis shrinks it: the same every run."""
    from hypothesis import HealthCheck, find, settings
    from hypothesis import strategies as st
    from hypothesis.errors import NoSuchExample

    try:
        compiled = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        return find(st.from_regex(compiled), lambda s: len(s) >= least and "\x00" not in s,
                    settings=settings(database=None, derandomize=True, max_examples=200,
                                      suppress_health_check=list(HealthCheck)))
    except (re.error, NoSuchExample, ValueError):
        return None
