"""JSON columns a CHECK holds to a JSON Schema (pg_jsonschema's ``jsonb_matches_schema(schema,
column)``), and a small document each such schema accepts: what the proof writes into the
column where a row needs a value, so that nobody is asked for one.

The document is the least the schema asks for: an object of its required properties, an array
of its fewest items, a string of its shortest length (a ``format``'s usual shape, an ``enum``'s
or ``const``'s value where it names one), a number at its lower bound. ``anyOf`` and ``oneOf``
take their first choice, ``allOf`` every part. A pattern a string must match is beyond it: the
shortest string is written and the row's insert says so if the schema refuses it.
"""

from __future__ import annotations

import json
from typing import Any

from pglast import ast

from tenantspec.catalog.nodes import column_ref_name, function_name, uncast, walk

CHECKS = ("jsonb_matches_schema", "json_matches_schema")
FORMATS = {"date": "2026-01-01", "date-time": "2026-01-01T00:00:00Z", "time": "00:00:00Z",
           "email": "someone@example.com", "uri": "https://example.com/", "uuid": "00000000-0000-4000-8000-000000000000",
           "hostname": "example.com", "ipv4": "192.0.2.1"}


def schema_checks(expression) -> dict[str, Any]:
    """column -> schema, for each ``jsonb_matches_schema('<schema>', column)`` call in a parsed
    CHECK expression whose schema is a literal (named arguments too)."""
    found = {}
    for node, _ in walk(expression):
        if not (isinstance(node, ast.FuncCall) and function_name(node)[1] in CHECKS and len(node.args or ()) == 2):
            continue
        args = list(node.args)
        named = {a.name: a.arg for a in args if isinstance(a, ast.NamedArgExpr)}
        schema, column = (named.get("schema"), named.get("instance")) if named else (args[0], args[1])
        schema, column = uncast(schema), uncast(column)
        if isinstance(schema, ast.A_Const) and isinstance(schema.val, ast.String) and isinstance(column, ast.ColumnRef):
            try:
                found[column_ref_name(column)[1]] = json.loads(schema.val.sval)
            except ValueError:
                continue
    return found


def document(schema: Any) -> Any:
    """A small document ``schema`` accepts (see the module's docstring)."""
    if not isinstance(schema, dict):
        return {}  # true (or {}) accepts anything; false accepts nothing, and nothing written helps
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    merged = dict(schema)
    for part in schema.get("allOf") or ():
        if isinstance(part, dict):
            merged = _merge(merged, part)
    for choice in ("anyOf", "oneOf"):
        if merged.get(choice) and isinstance(merged[choice][0], dict):
            merged = _merge({k: v for k, v in merged.items() if k != choice}, merged[choice][0])
            return document(merged)
    kind = merged.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None:
        kind = "object" if {"properties", "required"} & set(merged) else "array" if "items" in merged else None
    if kind == "object":
        properties = merged.get("properties") or {}
        return {name: document(properties.get(name, {})) for name in merged.get("required") or ()}
    if kind == "array":
        items = merged.get("items", {})
        fewest = int(merged.get("minItems") or 0)
        prefix = merged.get("prefixItems") or (items if isinstance(items, list) else [])
        made = [document(item) for item in prefix[:fewest]]
        rest = items if isinstance(items, dict) else {}
        return made + [document(rest) for _ in range(fewest - len(made))]
    if kind == "string":
        text = FORMATS.get(merged.get("format"), "")
        return text + "x" * max(int(merged.get("minLength") or 0) - len(text), 0)
    if kind in ("integer", "number"):
        return _number(merged, kind == "integer")
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return {}


def _merge(base: dict, part: dict) -> dict:
    merged = dict(base)
    for key, value in part.items():
        if key == "required":
            merged[key] = list(dict.fromkeys([*(merged.get(key) or ()), *value]))
        elif key == "properties":
            merged[key] = {**(merged.get(key) or {}), **value}
        else:
            merged.setdefault(key, value)
    return merged


def _number(schema: dict, integer: bool) -> int | float:
    low = schema.get("minimum")
    if low is None and isinstance(schema.get("exclusiveMinimum"), (int, float)):
        low = schema["exclusiveMinimum"] + (1 if integer else 0.5)
    high = schema.get("maximum")
    value = low if low is not None else 0 if high is None or high >= 0 else high
    if integer:
        value = int(-(-value // 1))  # the least integer at or above the bound
    step = schema.get("multipleOf")
    if step:
        value = -(-value // step) * step
    return value
