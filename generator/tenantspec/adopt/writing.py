"""Adoption's YAML: spec values as plain or quoted scalars and flow mappings, types and
defaults as specs spell them, and ``external`` entries added to a project file with its
comments kept."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from pglast import ast
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from tenantspec.catalog.nodes import deparse, normalized

# A plain scalar in a flow mapping: no indicator first, no comma, bracket, brace, ": " or " #".
PLAIN = re.compile(r"(?![-?:,\[\]{}#&*!|>'\"%@`])[^,\[\]{}\n]*\Z")
YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"}




def scalar(value) -> str:
    """A YAML scalar in flow context: plain when unambiguous, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if PLAIN.match(text) and ": " not in text and " #" not in text and text.lower() not in YAML_WORDS \
            and text == text.strip() and text and not re.fullmatch(r"[-+.0-9eE]+", text):
        return text
    return json.dumps(text, ensure_ascii=False)


def flow(mapping: dict) -> str:
    """``{key: value, ...}`` with nested mappings and lists."""
    parts = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            parts.append(f"{key}: {flow(value)}")
        elif isinstance(value, (list, tuple)):
            parts.append(f"{key}: [{', '.join(scalar(v) for v in value)}]")
        else:
            parts.append(f"{key}: {scalar(value)}")
    return "{" + ", ".join(parts) + "}"


def spec_type(node: ast.TypeName) -> str:
    """A column type as a spec writes it: ``uuid``, ``text``, ``integer``, ``varchar(80)``."""
    text = deparse(node)
    return {"timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
            "double precision": "float8", "character varying": "varchar"}.get(text, text)


def spec_default(node) -> str | bool | int | None:
    """A default as a spec writes it: a YAML boolean or integer for a constant, else one SQL
    expression without the casts a string literal needs not."""
    if node is None:
        return None
    node = normalized(node)
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Boolean):
        return bool(node.val.boolval)
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Integer):
        return node.val.ival
    if isinstance(node, ast.FuncCall) and not node.args and len(node.funcname) == 1:
        return f"{node.funcname[0].sval.lower()}()"  # now(), gen_random_uuid()
    return deparse(node)




def declare_external(path: Path, tables: dict[str, dict], functions: list[str],
                     enums: dict[str, list[str]] | None = None, domains: dict[str, str] | None = None) -> str:
    """The project file with ``tables``, ``functions``, ``enums`` and ``domains`` added under
    ``external``, its comments kept."""
    yaml = YAML(typ="rt")
    yaml.width = 4096
    data = yaml.load(path.read_text(encoding="utf-8"))
    external = data.setdefault("external", CommentedMap())
    declared = external.setdefault("tables", CommentedMap())
    for name, entry in tables.items():
        columns = CommentedMap(entry["columns"])
        columns.fa.set_flow_style()
        item = CommentedMap(columns=columns, **({"workspace_column": entry["workspace_column"]}
                                                 if "workspace_column" in entry else {}))
        if entry.get("seed"):
            item["seed"] = CommentedMap(entry["seed"])
        if entry.get("references"):
            references = CommentedMap()
            for column, target in entry["references"].items():
                references[column] = CommentedMap(target)
                references[column].fa.set_flow_style()
            item["references"] = references
        item.fa.set_flow_style()
        declared[name] = item
    if enums:
        types = external.setdefault("enums", CommentedMap())
        for name, values in enums.items():
            entry = CommentedSeq(values)
            entry.fa.set_flow_style()
            types[name] = entry
    if domains:
        declared_domains = external.setdefault("domains", CommentedMap())
        for name, base in domains.items():
            declared_domains[name] = base
    listed = external.setdefault("functions", CommentedSeq())
    for signature in functions:
        listed.append(signature)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
