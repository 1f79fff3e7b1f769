"""The YAML files of ``schema/`` as documents: parsed keeping the line and column of every
node, and checked against the published JSON Schemas (``generator/tenantspec/schemas``), each
problem at the node it is about."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from tenantspec.errors import Location, Problem, TenantspecError
from tenantspec.spec.located import YAMLSyntaxError, load_located

SCHEMA_DIR = Path(__file__).parents[1] / "schemas"  # published beside the package: specs point at it
PROJECT_FILE = "project.yaml"


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text()))


@dataclass(frozen=True)
class Document:
    """One parsed YAML file, keeping line and column of every node."""

    path: str
    data: Any

    def locate(self, path: tuple = (), key: bool = False) -> Location:
        """Location of the node at ``path``; of its key instead of its value when ``key``."""
        node, line, col = self.data, 0, 0
        for step in path:
            if isinstance(node, dict) and step in node:
                line, col = node.lc.key(step) if key and step == path[-1] else node.lc.value(step)
            elif isinstance(node, list) and isinstance(step, int) and step < len(node):
                line, col = node.lc.item(step)
            else:
                break
            node = node[step]
        return Location(self.path, line + 1, col + 1)


def read_document(file: Path, root: Path) -> Document:
    """Parse one YAML file; syntax errors and duplicate keys become located problems."""
    shown = str(file.relative_to(root)) if file.is_relative_to(root) else str(file)
    try:
        data = load_located(file.read_text(encoding="utf-8"))
    except YAMLSyntaxError as error:
        where = Location(shown, error.line + 1, error.column + 1)
        message = error.message
        if duplicate := re.match(r'found duplicate key "([^"]*)"', message):
            message = f"duplicate key '{duplicate.group(1)}': each key, and so each column, appears once"
        raise TenantspecError(Problem(where, message)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise TenantspecError(Problem(Location(shown, 1, 1), f"cannot read: {error}")) from None
    if not isinstance(data, dict):
        raise TenantspecError(Problem(Location(shown, 1, 1), "must be a mapping of keys to values"))
    return Document(shown, data)


def shape_problems(doc: Document, schema_name: str) -> list[Problem]:
    """Check ``doc`` against its JSON Schema, turning each error into a located message."""
    problems = []
    for error in _validator(schema_name).iter_errors(doc.data):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            known = sorted(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - set(known)):
                hint = difflib.get_close_matches(str(key), known, n=1)
                suggestion = f" (did you mean '{hint[0]}'?)" if hint else f" (expected one of: {', '.join(known)})"
                problems.append(Problem(doc.locate(path + (key,), key=True), f"unknown key '{key}'{suggestion}"))
            continue
        if "propertyNames" in error.absolute_schema_path:
            problems.append(Problem(doc.locate(path + (error.instance,), key=True),
                                    _value_message(error, f"name '{error.instance}'")))
            continue
        if error.validator == "required":
            missing = error.message.split("'")[1]
            problems.append(Problem(doc.locate(path, key=bool(path)), f"missing required key '{missing}'"))
            continue
        subject = f"'{path[-1]}'" if path and isinstance(path[-1], str) else "value"
        problems.append(Problem(doc.locate(path), _value_message(error, subject)))
    return problems


def _value_message(error, subject: str) -> str:
    schema = error.schema
    if error.validator == "pattern" and schema.get("pattern", "").startswith("^[A-Za-z_]"):
        return (f"{error.instance!r} is not a valid identifier (letters, digits, underscores and $, not "
                "starting with a digit; a name in upper or mixed case is the quoted name PostgreSQL keeps)")
    if error.validator == "maxLength":
        return f"{error.instance!r} is longer than {schema['maxLength']} bytes, PostgreSQL's limit for names"
    if error.validator == "type":
        types = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        expected = " or ".join(_JSON_TYPE_WORDS[t] for t in types)
        return f"{subject} must be {expected}, not {_yaml_type(error.instance)}"
    if error.validator == "enum":
        return f"{subject} must be one of {', '.join(map(repr, schema['enum']))}, not {error.instance!r}"
    if error.validator == "uniqueItems":
        return f"{subject} lists an item twice"
    return f"{subject}: {error.message}"


_JSON_TYPE_WORDS = {"string": "a string", "boolean": "a boolean", "integer": "an integer",
                    "number": "a number", "array": "a list", "object": "a mapping", "null": "null"}


def _yaml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null" if value is None else type(value).__name__
