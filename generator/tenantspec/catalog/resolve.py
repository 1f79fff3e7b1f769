"""Column names as PostgreSQL resolves them: an unqualified column inside a subquery belongs
to the innermost FROM item whose table has it. The access reader qualifies policy
expressions and helper bodies this way before reading them, so every spelling of the same
condition reads the same."""

from __future__ import annotations

import copy

from pglast import ast, enums

from tenantspec.catalog.expression import conjuncts
from tenantspec.catalog.keys import relation_key
from tenantspec.catalog.nodes import relation_alias
from tenantspec.catalog.state import SchemaState


def from_relations(from_clause) -> tuple[list[tuple[str, tuple[str, str]]] | None, list]:
    """``[(alias, table key)]`` of a FROM list of tables and inner joins, with the join
    conditions; ``None`` when it holds anything else."""
    relations, parts = [], []

    def visit(item) -> bool:
        if isinstance(item, ast.RangeVar):
            relations.append((relation_alias(item), relation_key(item)))
            return True
        if isinstance(item, ast.JoinExpr) and item.jointype == enums.JoinType.JOIN_INNER:
            if item.quals is not None:
                parts.extend(conjuncts(item.quals))
            return visit(item.larg) and visit(item.rarg)
        return False

    if not from_clause or not all(visit(item) for item in from_clause):
        return None, []
    return relations, parts


def copy_node(node):
    return copy.deepcopy(node)


def qualify_columns(node, state: SchemaState, scopes: list, top: bool = False):
    """Qualify, in place, the unqualified columns of the subqueries in ``node`` as PostgreSQL
    resolves them: by the innermost FROM item whose table has the column (``scopes`` lists
    ``[(alias, columns)]`` per query level, innermost first). Columns of the outermost level,
    names no table has (a function's parameters) and ambiguous ones stay as written."""
    if isinstance(node, ast.SelectStmt):
        relations, _ = from_relations(node.fromClause)
        level = [(alias, set(state.tables[key].columns) if key in state.tables else set())
                 for alias, key in relations or ()]
        inner = [level] + scopes
        for name in node.__slots__:
            value = getattr(node, name, None)
            _qualify_value(value, state, inner, False)
        return node
    if isinstance(node, ast.ColumnRef) and not top and len(node.fields) == 1 \
            and isinstance(node.fields[0], ast.String):
        column = node.fields[0].sval
        for level in scopes:
            owners = [alias for alias, columns in level if column in columns]
            if len(owners) == 1:
                node.fields = (ast.String(sval=owners[0]), node.fields[0])
                return node
            if len(owners) > 1:
                return node
        return node
    if isinstance(node, ast.Node):
        for name in node.__slots__:
            _qualify_value(getattr(node, name, None), state, scopes, top)
    return node


def _qualify_value(value, state: SchemaState, scopes: list, top: bool) -> None:
    if isinstance(value, ast.Node):
        qualify_columns(value, state, scopes, top)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _qualify_value(item, state, scopes, top)
