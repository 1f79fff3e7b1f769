"""Reading policy and default expressions: walking them, naming calls, spotting subqueries
that refer back to the row (and so run once per row instead of once per statement)."""

from __future__ import annotations

from typing import Iterator

from pglast import ast, enums

from tenantspec.catalog.keys import relation_key
from tenantspec.catalog.nodes import (
    column_ref_name,
    deparse,
    function_name,
    uncast,
    walk,
)
from tenantspec.catalog.state import SchemaState, Table


def display_call(call: ast.FuncCall) -> str:
    schema, name = function_name(call)
    qualified = f"{schema}.{name}" if schema and schema != "pg_catalog" else name
    args = ", ".join(display_expression(a) for a in call.args or ())
    return f"{qualified}({args})"


def display_expression(node) -> str:
    try:
        return deparse(node)
    except Exception:  # deparse is only for messages; never let it hide a finding
        return "…"


def refers_to_row(node, table: Table, scope_columns: set[str] | None = None) -> bool:
    """Whether ``node`` reads a column of the policy's row.

    A reference counts when it is qualified with the table's name, or unqualified, names a
    column of the table, and is not a column of a table the enclosing subquery reads
    (``scope_columns``; ``None`` when unknown, then unqualified names are taken as inner).
    """
    for child, _ in walk(node):
        if not isinstance(child, ast.ColumnRef):
            continue
        qualifier, column = column_ref_name(child)
        if column is None:
            continue
        if qualifier is not None:
            if qualifier == table.name:
                return True
        elif scope_columns is not None and column in table.columns and column not in scope_columns:
            return True
    return False


def subquery_scope(state: SchemaState, subselect) -> set[str] | None:
    """Columns of every table a subquery reads; ``None`` if one of them is not known."""
    columns: set[str] = set()
    for node, _ in walk(subselect):
        if isinstance(node, ast.RangeVar):
            table = state.tables.get(relation_key(node))
            if table is None or table.external:
                return None
            columns.update(table.columns)
        elif isinstance(node, ast.RangeFunction):
            return None
    return columns


def correlated(state: SchemaState, sublink: ast.SubLink, table: Table) -> bool:
    """A subquery that reads the policy's row is re-run for every row."""
    return refers_to_row(sublink.subselect, table, subquery_scope(state, sublink.subselect))


def per_row_calls(state: SchemaState, expression, table: Table, wanted) -> Iterator[tuple[ast.FuncCall, str]]:
    """Calls matching ``wanted`` that PostgreSQL evaluates once per row.

    A call is per row unless its nearest enclosing subquery does not read the row: that
    subquery becomes an initPlan, run once per statement.
    Yields the call and ``"row"`` (not in any subquery) or ``"correlated"``.
    """
    for node, ancestors in walk(expression):
        if not isinstance(node, ast.FuncCall) or not wanted(node):
            continue
        sublinks = [a for a in ancestors if isinstance(a, ast.SubLink)]
        if not sublinks:
            yield node, "row"
        elif correlated(state, sublinks[-1], table):
            yield node, "correlated"


def conjuncts(expression) -> list:
    """The AND-ed parts of a boolean expression."""
    if isinstance(expression, ast.BoolExpr) and expression.boolop == enums.BoolExprType.AND_EXPR:
        return [part for arg in expression.args for part in conjuncts(arg)]
    return [expression]


def mentions_column(node, table: Table, column: str) -> bool:
    for child, _ in walk(node):
        if isinstance(child, ast.ColumnRef):
            qualifier, name = column_ref_name(child)
            if name == column and qualifier in (None, table.name):
                return True
    return False


def ties_column(expression, table: Table, column: str) -> bool:
    """Whether some AND-ed part of ``expression`` constrains ``column`` against a query or
    a function (a membership set, a lookup of the referenced row), not just a constant."""
    for part in conjuncts(expression):
        if not mentions_column(part, table, column):
            continue
        if any(isinstance(n, (ast.SubLink, ast.FuncCall)) for n, _ in walk(part)):
            return True
    return False


def calls(expression, name: str) -> list[ast.FuncCall]:
    """Calls of the function ``name`` (any schema) inside ``expression``."""
    return [n for n, _ in walk(expression)
            if isinstance(n, ast.FuncCall) and function_name(n)[1] == name]


def value_list(expression) -> tuple[str | None, tuple[str, ...]] | None:
    """``(column, values)`` of ``col in ('a', 'b')`` / ``col = any (array['a', 'b'])``."""
    if not isinstance(expression, ast.A_Expr) or not isinstance(expression.lexpr, ast.ColumnRef):
        return None
    name = column_ref_name(expression.lexpr)[1]
    if expression.kind == enums.A_Expr_Kind.AEXPR_IN and isinstance(expression.rexpr, (tuple, list)):
        items = expression.rexpr
    elif expression.kind == enums.A_Expr_Kind.AEXPR_OP_ANY and isinstance(expression.rexpr, ast.A_ArrayExpr):
        items = expression.rexpr.elements or ()
    else:
        return None
    values = string_constants(items)
    return None if values is None else (name, values)


def string_constants(items, numbers: bool = False) -> tuple[str, ...] | None:
    """The strings of a list of literals (casts allowed: ``'a'::text``), or None when one is not;
    integers too, as their text, with ``numbers``."""
    values = []
    for item in items:
        while isinstance(item, ast.TypeCast):
            item = item.arg
        if numbers and isinstance(item, ast.A_Const) and isinstance(item.val, ast.Integer):
            values.append(str(item.val.ival))
            continue
        if not (isinstance(item, ast.A_Const) and isinstance(item.val, ast.String)):
            return None
        values.append(item.val.sval)
    return tuple(values)


def lower_bounds(expression) -> dict[str, int]:
    """column -> the least integer a CHECK's comparisons with constants leave it (``n > 0`` is
    1, ``n >= 5`` 5, ``0 < n`` 1, ``n between 2 and 9`` 2), for each conjunct that says one."""
    found: dict[str, int] = {}
    for column, least in _floors(expression, _column):
        found[column] = max(found.get(column, least), least)
    return found


def text_rules(expression) -> dict[str, tuple[str | None, bool, int]]:
    """column -> (pattern, case-insensitive, least length) a CHECK's conjuncts ask of a text
    column: ``email ~* '^…@…$'``, ``char_length(name) >= 3`` (``length``, ``>``, ``between``),
    ``name <> ''``."""
    found: dict[str, tuple[str | None, bool, int]] = {}

    def note(column: str, pattern: str | None = None, ignore_case: bool = False, least: int = 0) -> None:
        was = found.get(column, (None, False, 0))
        found[column] = (pattern or was[0], ignore_case or was[1], max(least, was[2]))

    for part in conjuncts(expression):
        if not isinstance(part, ast.A_Expr) or part.kind != enums.A_Expr_Kind.AEXPR_OP:
            continue
        left, operator, right = uncast(part.lexpr), part.name[0].sval, uncast(part.rexpr)
        if not (isinstance(left, ast.ColumnRef) and isinstance(right, ast.A_Const)
                and isinstance(right.val, ast.String)):
            continue
        if operator in ("~", "~*"):
            note(column_ref_name(left)[1], right.val.sval, operator == "~*")
        elif operator in ("<>", "!=") and right.val.sval == "":
            note(column_ref_name(left)[1], least=1)
    for column, least in _floors(expression, _measured):
        note(column, least=least)
    return found


def _floors(expression, subject) -> Iterator[tuple[str, int]]:
    """``(column, least integer)`` for each conjunct bounding ``subject(node)`` (the column a
    side names, or None) from below by a constant: ``x > n``, ``x >= n``, ``n < x``, ``n <= x``,
    ``x between n and m``."""
    for part in conjuncts(expression):
        if not isinstance(part, ast.A_Expr):
            continue
        if part.kind == enums.A_Expr_Kind.AEXPR_BETWEEN:
            low = _integer(part.rexpr[0]) if isinstance(part.rexpr, (list, tuple)) else None
            if (column := subject(part.lexpr)) and low is not None:
                yield column, low
            continue
        if part.kind != enums.A_Expr_Kind.AEXPR_OP or len(part.name) != 1:
            continue
        operator = part.name[0].sval
        if operator in (">", ">=") and (column := subject(part.lexpr)) and (bound := _integer(part.rexpr)) is not None:
            yield column, bound + (operator == ">")
        elif operator in ("<", "<=") and (column := subject(part.rexpr)) \
                and (bound := _integer(part.lexpr)) is not None:
            yield column, bound + (operator == "<")


def _integer(node) -> int | None:
    node = uncast(node)
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Integer):
        return node.val.ival
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Float):
        return int(float(node.val.fval)) + 1  # above a fraction: the next integer is safe
    return None


def _column(node) -> str | None:
    return column_ref_name(node)[1] if isinstance(node, ast.ColumnRef) else None


def _measured(node) -> str | None:
    """The column of ``char_length(col)`` / ``length(col)`` (a trim inside too)."""
    node = uncast(node)
    if isinstance(node, ast.FuncCall) and function_name(node)[1] in ("char_length", "length", "character_length") \
            and len(node.args or ()) == 1:
        inner = uncast(node.args[0])
        if isinstance(inner, ast.FuncCall) and function_name(inner)[1] in ("trim", "btrim") and inner.args:
            inner = uncast(inner.args[0])
        if isinstance(inner, ast.ColumnRef):
            return column_ref_name(inner)[1]
    return None
