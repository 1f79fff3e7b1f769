"""YAML read with the line and column of every key, value and item, through libyaml (PyYAML's C
parser) where it is installed: the specs, the intent and the case files are read this way, and
a round-trip loader written in Python costs a third of a no-op ``generate``.

Values are resolved by YAML 1.2's core schema, as the specs are documented: ``yes``, ``no``,
``on`` and ``off`` are strings, as are dates. Maps and lists carry ``lc`` with ``key(k)``,
``value(k)`` and ``item(i)``, each a 0-based ``(line, column)``.
"""

from __future__ import annotations

import re

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STANDARD = "tag:yaml.org,2002:"
_NULL = re.compile(r"\A(?:~|null|Null|NULL|)\Z")
_TRUE = re.compile(r"\A(?:true|True|TRUE)\Z")
_FALSE = re.compile(r"\A(?:false|False|FALSE)\Z")
_INT = re.compile(r"\A[-+]?[0-9]+\Z")
_OCTAL = re.compile(r"\A0o[0-7]+\Z")
_HEX = re.compile(r"\A0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"\A[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INFINITY = re.compile(r"\A([-+]?)\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\A\.(?:nan|NaN|NAN)\Z")


class YAMLSyntaxError(Exception):
    """Text that is not YAML, or a key given twice: where, and what."""

    def __init__(self, line: int, column: int, message: str):
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


class LineCol:
    """Positions of a map's keys and values, or of a list's items (0-based line, column)."""

    def __init__(self) -> None:
        self.keys: dict = {}
        self.values: dict = {}

    def key(self, key) -> tuple[int, int]:
        return self.keys[key]

    def value(self, key) -> tuple[int, int]:
        return self.values[key]

    def item(self, index: int) -> tuple[int, int]:
        return self.values[index]


class LocatedMap(dict):
    """A mapping that knows where each key and value stood."""

    lc: LineCol


class LocatedList(list):
    """A sequence that knows where each item stood."""

    lc: LineCol


def load_located(text: str):
    """The YAML document ``text`` as maps, lists and scalars, positions kept."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise YAMLSyntaxError(mark.line if mark else 0, mark.column if mark else 0,
                              error.problem or str(error)) from None
    return None if node is None else _value(node)


def _at(node: Node) -> tuple[int, int]:
    return node.start_mark.line, node.start_mark.column


def _value(node: Node):
    if isinstance(node, MappingNode):
        return _mapping(node)
    if isinstance(node, SequenceNode):
        items = LocatedList()
        items.lc = LineCol()
        for index, child in enumerate(node.value):
            items.lc.values[index] = _at(child)
            items.append(_value(child))
        return items
    return _scalar(node)


def _mapping(node: MappingNode) -> LocatedMap:
    result = LocatedMap()
    result.lc = LineCol()
    merged: list[LocatedMap] = []
    for key_node, value_node in node.value:
        if key_node.tag == _STANDARD + "merge":
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            merged += [_mapping(source) for source in sources if isinstance(source, MappingNode)]
            continue
        key = _value(key_node)
        if key in result:
            line, column = _at(key_node)
            raise YAMLSyntaxError(line, column, f'found duplicate key "{key}"')
        result.lc.keys[key], result.lc.values[key] = _at(key_node), _at(value_node)
        result[key] = _value(value_node)
    for source in merged:  # << merges: the map's own keys win
        for key, value in source.items():
            if key not in result:
                result.lc.keys[key], result.lc.values[key] = source.lc.key(key), source.lc.value(key)
                result[key] = value
    return result


def _scalar(node: ScalarNode):
    text = node.value
    if node.style not in (None, "") or not node.tag.startswith(_STANDARD):
        return text  # quoted, block, or a tag of the application's own: a string
    if node.tag != _STANDARD + "str" and node.tag not in _RESOLVED_BY_LIBYAML:
        return text
    if _NULL.match(text):
        return None
    if _TRUE.match(text):
        return True
    if _FALSE.match(text):
        return False
    if _INT.match(text):
        return int(text)
    if _OCTAL.match(text):
        return int(text[2:], 8)
    if _HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if match := _INFINITY.match(text):
        return float(f"{match.group(1)}inf")
    if _NAN.match(text):
        return float("nan")
    return text


# Tags YAML 1.1's resolver gives plain scalars; each is resolved again by 1.2's rules.
_RESOLVED_BY_LIBYAML = {_STANDARD + t for t in ("null", "bool", "int", "float", "timestamp", "value", "str")}
