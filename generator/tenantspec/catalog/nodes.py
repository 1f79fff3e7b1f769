"""Small readers of pglast syntax trees shared by the replay and the expression readers."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Iterator

import pglast
from pglast import ast, enums
from pglast.stream import RawStream


@lru_cache(maxsize=256)
def parsed(text: str) -> tuple:
    """pglast's statements of a file's ``text``, parsed once per process. The trees are shared
    between callers: copy one before changing it."""
    return tuple(pglast.parse_sql(text))


def deparse(node: ast.Node) -> str:
    return RawStream()(node)


def children(node) -> Iterator:
    """The direct child nodes of a pglast node (lists flattened)."""
    for name in node.__slots__:
        value = getattr(node, name, None)
        if isinstance(value, ast.Node):
            yield value
        elif isinstance(value, (tuple, list)):
            for item in value:
                if isinstance(item, ast.Node):
                    yield item
                elif isinstance(item, (tuple, list)):
                    yield from (i for i in item if isinstance(i, ast.Node))


def walk(node, ancestors: tuple = ()) -> Iterator[tuple[ast.Node, tuple]]:
    """Every node under ``node`` (itself included), each with its chain of ancestors."""
    if node is None:
        return
    yield node, ancestors
    inner = ancestors + (node,)
    for child in children(node):
        yield from walk(child, inner)


def uncast(node):
    """``node`` without the casts around it (``'a'::text`` is ``'a'``)."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def function_name(call: ast.FuncCall) -> tuple[str | None, str]:
    """``(schema or None, name)`` of a function call."""
    parts = [p.sval for p in call.funcname]
    return (parts[-2] if len(parts) > 1 else None, parts[-1])


def column_ref_name(ref: ast.ColumnRef) -> tuple[str | None, str | None]:
    """``(qualifier or None, column)`` of a column reference; ``*`` gives ``None``."""
    fields = ref.fields
    last = fields[-1]
    if not isinstance(last, ast.String):
        return (None, None)
    qualifier = fields[-2].sval if len(fields) > 1 and isinstance(fields[-2], ast.String) else None
    return (qualifier, last.sval)


def relation_alias(relation: ast.RangeVar) -> str:
    """The name a FROM item's row goes by: its alias, else the table's name."""
    return relation.alias.aliasname if relation.alias else relation.relname


def columns_read(node) -> set[str]:
    """Names of the columns ``node`` mentions (``*`` left out)."""
    return {column_ref_name(child)[1] for child, _ in walk(node) if isinstance(child, ast.ColumnRef)} - {None}


def rename_column_refs(node, table: str, old: str, new: str, top_level_only: bool = False):
    """A copy of ``node`` where references to ``table``'s column ``old`` read ``new``.

    A reference counts when it is qualified with the table's name, or unqualified; with
    ``top_level_only`` an unqualified one inside a subquery is left alone, since there it may
    name a column of the subquery's own tables.
    """
    if node is None:
        return None
    renamed = copy.deepcopy(node)
    for child, ancestors in walk(renamed):
        if not isinstance(child, ast.ColumnRef):
            continue
        qualifier, column = column_ref_name(child)
        if column != old:
            continue
        nested = any(isinstance(a, ast.SubLink) for a in ancestors)
        if qualifier == table or (qualifier is None and not (top_level_only and nested)):
            child.fields = child.fields[:-1] + (ast.String(new),)
    return renamed


STRING_TYPES = ("text", "varchar", "bpchar")


def normalized(node):
    """A copy of ``node`` as PostgreSQL would read it the same: string literals without a cast
    to a string type (``'draft'::text``), and ``x = any (array[...])`` of literals as
    ``x in (...)``. Dumps spell out what hand-written SQL leaves implicit."""
    if node is None:
        return None
    found = copy.deepcopy(node)

    def plain(item):
        while isinstance(item, ast.TypeCast) and isinstance(item.arg, ast.A_Const) \
                and isinstance(item.arg.val, ast.String) and item.typeName.names[-1].sval in STRING_TYPES \
                and not item.typeName.arrayBounds:
            item = item.arg
        return item

    def visit(item):
        if isinstance(item, ast.Node):
            for name in item.__slots__:
                value = getattr(item, name, None)
                if isinstance(value, ast.Node):
                    setattr(item, name, visit(plain(value)))
                elif isinstance(value, tuple):
                    setattr(item, name, tuple(visit(plain(v)) if isinstance(v, ast.Node) else v for v in value))
            if isinstance(item, ast.A_Expr) and item.kind == enums.A_Expr_Kind.AEXPR_OP_ANY \
                    and isinstance(item.rexpr, ast.A_ArrayExpr) and [n.sval for n in item.name] == ["="]:
                return ast.A_Expr(kind=enums.A_Expr_Kind.AEXPR_IN, name=item.name, lexpr=item.lexpr,
                                  rexpr=tuple(item.rexpr.elements or ()))
        return item

    return visit(plain(found))


@lru_cache(maxsize=4096)
def function_body(language: str, body: str) -> str:
    """A function body in a form two spellings of the same code share: SQL bodies parsed and
    printed again, other languages with their whitespace collapsed."""
    if language == "sql":
        try:
            return "; ".join(deparse(raw.stmt) for raw in pglast.parse_sql(body))
        except pglast.parser.ParseError:
            pass
    return " ".join(body.split())
