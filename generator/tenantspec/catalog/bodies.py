"""What a helper function computes, as one query: the reader of policies reads a helper's
call through the query its body amounts to.

A SQL function is its one statement. A PL/pgSQL function is read when its body is one of the
shapes membership helpers are written in:

- ``return query select ...`` or ``return <expression>``;
- ``if <condition> then return true; end if; return false;`` (or with ``else``);
- ``select <column> into <variable> from ... where ...; return <test of the variable>;``
  where the test is false for a missing row (``r in ('owner', 'admin')``, ``r is not null``).

``select count(*) > 0 from ... where ...`` reads as ``select exists (select 1 from ... where
...)``. Anything else is not read (None): the policies calling it stay unknown.
"""

from __future__ import annotations

import copy
import re

import pglast
from pglast import ast, enums

from tenantspec.catalog.nodes import column_ref_name, walk


def function_query(function) -> ast.SelectStmt | None:
    """The query ``function`` (a replayed ``Function``) amounts to, if it is one it reads."""
    if function.language == "plpgsql":
        query = _plpgsql_query(function)
    elif function.language == "sql" and function.body:
        try:
            statements = pglast.parse_sql(function.body)
        except pglast.parser.ParseError:
            return None
        query = statements[0].stmt if len(statements) == 1 else None
    else:
        return None
    if not isinstance(query, ast.SelectStmt):
        return None
    return _counted_as_exists(query)


def _parse_select(text: str | None) -> ast.SelectStmt | None:
    if not text:
        return None
    try:
        statements = pglast.parse_sql(text)
    except pglast.parser.ParseError:
        return None
    # (an INSERT ... RETURNING INTO is no query a helper's test reads)
    return statements[0].stmt if len(statements) == 1 and isinstance(statements[0].stmt, ast.SelectStmt) else None


def _is_setting(kind: str, step: dict) -> bool:
    """``set local row_security = off`` or ``perform set_config(...)`` before the test: it
    changes how the body runs, not what it answers."""
    if kind == "PLpgSQL_stmt_execsql":
        text = _expression(step, "sqlstmt") or ""
        return bool(re.match(r"\s*set\s", text, re.IGNORECASE))
    if kind == "PLpgSQL_stmt_perform":
        return bool(re.match(r"\s*(select\s+)?(pg_catalog\.)?set_config\s*\(", _expression(step) or "", re.IGNORECASE))
    return False


def _expression(statement: dict, key: str = "expr") -> str | None:
    return statement.get(key, {}).get("PLpgSQL_expr", {}).get("query")


def _plpgsql_query(function) -> ast.SelectStmt | None:
    try:
        tree = pglast.parse_plpgsql(function.origin.statement.text)
    except (pglast.parser.ParseError, AttributeError):
        return None
    if not tree:
        return None
    body = tree[0].get("PLpgSQL_function", {}).get("action", {}).get("PLpgSQL_stmt_block", {}).get("body", [])
    kinds = [next(iter(s)) for s in body]
    steps = [s[k] for s, k in zip(body, kinds)]
    kept = [(k, s) for k, s in zip(kinds, steps) if not _is_setting(k, s)]
    kinds, steps = [k for k, _ in kept], [s for _, s in kept]
    if kinds[-1:] == ["PLpgSQL_stmt_return"] and not _expression(steps[-1]):
        kinds, steps = kinds[:-1], steps[:-1]  # the closing bare `return` of a set-returning body
    if kinds == ["PLpgSQL_stmt_return_query"]:
        return _parse_select(_expression(steps[0], "query"))
    if kinds == ["PLpgSQL_stmt_return"]:
        return _parse_select(f"select {_expression(steps[0])}")
    if kinds == ["PLpgSQL_stmt_if", "PLpgSQL_stmt_return"] or kinds == ["PLpgSQL_stmt_if"]:
        return _if_returns(steps)
    if kinds == ["PLpgSQL_stmt_execsql", "PLpgSQL_stmt_return"] and steps[0].get("into"):
        return _selected_into(steps[0], _expression(steps[1]))
    return None


def _returned(step: dict) -> str | None:
    """What a ``return`` statement returns, as lower-case text."""
    text = _expression(step)
    return text.strip().lower() if text else None


def _returns(statements: list, value: str) -> bool:
    return len(statements) == 1 and _returned(statements[0].get("PLpgSQL_stmt_return", {})) == value


def _if_returns(steps: list) -> ast.SelectStmt | None:
    """``if c then return true; [else return false;] end if; [return false;]`` as ``select c``."""
    branch = steps[0]
    if branch.get("elsif_list") or not _returns(branch.get("then_body", []), "true"):
        return None
    otherwise = branch.get("else_body") or []
    if otherwise and not _returns(otherwise, "false"):
        return None
    if not otherwise and not (len(steps) == 2 and _returned(steps[1]) == "false"):
        return None
    return _parse_select(f"select ({_expression(branch, 'cond')})")


def _selected_into(step: dict, returned: str | None) -> ast.SelectStmt | None:
    """``select col into v from ... where ...; return <test of v>`` as ``select exists (select 1
    from ... where ... and <test of col>)``: the same whenever the test fails on null (no row)."""
    fields = step.get("target", {}).get("PLpgSQL_row", {}).get("fields", [])
    select = _parse_select(_expression(step, "sqlstmt"))
    test = _parse_select(f"select {returned}") if returned else None
    if len(fields) != 1 or select is None or test is None or len(select.targetList or ()) != 1 \
            or not select.fromClause or select.whereClause is None:
        return None
    variable, column = fields[0]["name"], select.targetList[0].val
    condition = test.targetList[0].val
    if not _fails_on_null(condition, variable):
        return None
    condition = _replaced(condition, lambda node: _is_variable(node, variable), column)
    return _exists(select.fromClause, ast.BoolExpr(boolop=enums.BoolExprType.AND_EXPR,
                                                   args=(select.whereClause, condition)))


def _is_variable(node, variable: str) -> bool:
    return isinstance(node, ast.ColumnRef) and column_ref_name(node) == (None, variable)


def _mentions(node, variable: str) -> bool:
    if isinstance(node, tuple):
        return any(_mentions(item, variable) for item in node)
    return any(_is_variable(child, variable) for child, _ in walk(node))


def _fails_on_null(node, variable: str) -> bool:
    """Whether the test of ``variable`` is not true when it is null: comparisons of it with
    constants, ``is not null``, and ``and``/``or`` of such tests."""
    if isinstance(node, ast.BoolExpr) and node.boolop != enums.BoolExprType.NOT_EXPR:
        return all(_fails_on_null(arg, variable) for arg in node.args)
    if isinstance(node, ast.NullTest):
        return node.nulltesttype == enums.NullTestType.IS_NOT_NULL and _is_variable(node.arg, variable)
    if isinstance(node, ast.A_Expr) and node.kind in (enums.A_Expr_Kind.AEXPR_OP, enums.A_Expr_Kind.AEXPR_IN,
                                                       enums.A_Expr_Kind.AEXPR_OP_ANY,
                                                       enums.A_Expr_Kind.AEXPR_OP_ALL):
        sides = [node.lexpr, node.rexpr]
        return any(_is_variable(side, variable) for side in sides) \
            and not any(_mentions(side, variable) for side in sides if not _is_variable(side, variable))
    return False


def _replaced(node, matches, replacement):
    """``node`` (freshly parsed or copied: changed in place) with ``replacement`` for each node
    that ``matches``."""
    if matches(node):
        return replacement
    if isinstance(node, tuple):
        return tuple(_replaced(item, matches, replacement) for item in node)
    for child, _ in walk(node):
        for name in getattr(child, "__slots__", ()):
            value = getattr(child, name, None)
            if isinstance(value, ast.Node) and matches(value):
                setattr(child, name, replacement)
            elif isinstance(value, tuple) and any(matches(item) for item in value):
                setattr(child, name, tuple(replacement if matches(item) else item for item in value))
    return node


def _counted_as_exists(select: ast.SelectStmt) -> ast.SelectStmt:
    """``select count(*) > 0 from ... where ...`` (``>= 1``, ``<> 0``) as ``select exists (...)``."""
    if len(select.targetList or ()) != 1 or not select.fromClause or select.groupClause or select.havingClause:
        return select
    test = select.targetList[0].val
    if not _counts_some(test, lambda side: isinstance(side, ast.FuncCall)
                        and [n.sval for n in side.funcname] == ["count"]):
        return select
    return _exists(select.fromClause, select.whereClause)


def count_test_as_exists(test) -> ast.SelectStmt | None:
    """``(select count(*) from ... where ...) > 0`` in a policy, as ``select exists (...)``."""
    def counted(side) -> bool:
        return isinstance(side, ast.SubLink) and side.subLinkType == enums.SubLinkType.EXPR_SUBLINK \
            and isinstance(side.subselect, ast.SelectStmt) and side.subselect.fromClause \
            and not side.subselect.groupClause and len(side.subselect.targetList or ()) == 1 \
            and isinstance(count := side.subselect.targetList[0].val, ast.FuncCall) \
            and [n.sval for n in count.funcname] == ["count"]
    if not _counts_some(test, counted):
        return None
    return _exists(test.lexpr.subselect.fromClause, test.lexpr.subselect.whereClause)


def _counts_some(test, counted) -> bool:
    """Whether ``test`` is ``<count> > 0`` (``>= 1``, ``<> 0``, ``!= 0``) for a ``counted`` left side."""
    return isinstance(test, ast.A_Expr) and test.kind == enums.A_Expr_Kind.AEXPR_OP and counted(test.lexpr) \
        and isinstance(test.rexpr, ast.A_Const) and isinstance(test.rexpr.val, ast.Integer) \
        and (test.name[0].sval, test.rexpr.val.ival) in ((">", 0), (">=", 1), ("<>", 0), ("!=", 0))


def _select(targets: tuple, **clauses) -> ast.SelectStmt:
    return ast.SelectStmt(targetList=targets, limitOption=enums.LimitOption.LIMIT_OPTION_DEFAULT,
                          op=enums.SetOperation.SETOP_NONE, **clauses)


def _exists(from_clause, where) -> ast.SelectStmt:
    """``select exists (select 1 from <from_clause> where <where>)``."""
    inner = _select((ast.ResTarget(val=ast.A_Const(val=ast.Integer(1))),), fromClause=from_clause, whereClause=where)
    return _select((ast.ResTarget(val=ast.SubLink(subLinkType=enums.SubLinkType.EXISTS_SUBLINK, subselect=inner)),))


def array_elements(select: ast.SelectStmt) -> ast.SelectStmt | None:
    """The query whose rows are the elements of the one array ``select`` returns, for
    ``col = any (helper())``: ``select array(select q)`` is q, ``select array_agg(x) from ...
    where ...`` is ``select x from ... where ...`` (``coalesce(..., '{}')`` around either)."""
    if len(select.targetList or ()) != 1:
        return None
    value = select.targetList[0].val
    if isinstance(value, ast.CoalesceExpr) and value.args:
        value = value.args[0]
    if isinstance(value, ast.SubLink) and value.subLinkType == enums.SubLinkType.ARRAY_SUBLINK \
            and not select.fromClause:
        return value.subselect
    if isinstance(value, ast.FuncCall) and [n.sval for n in value.funcname][-1] == "array_agg" \
            and len(value.args or ()) == 1 and not value.agg_filter and select.fromClause \
            and not select.groupClause:
        return _select((ast.ResTarget(val=value.args[0]),), fromClause=select.fromClause,
                       whereClause=select.whereClause)
    return None


PLACEHOLDER = "__helper_value__"


def test_as_exists(test, call, body: ast.SelectStmt) -> ast.SelectStmt | None:
    """``get_role(org_id) in ('owner', 'admin')`` where the helper's body is ``select m.role
    from members m where ...``: ``select exists (select 1 from members m where ... and m.role
    in ('owner', 'admin'))``, the same whenever the test fails on null (no membership row)."""
    value = body.targetList[0].val if len(body.targetList or ()) == 1 else None
    if not body.fromClause and isinstance(value, ast.SubLink) \
            and value.subLinkType == enums.SubLinkType.EXPR_SUBLINK:
        body = value.subselect  # return (select m.role from ...)
    # (limit 1: the role of the one membership row of a user and a workspace)
    if len(body.targetList or ()) != 1 or not body.fromClause or body.whereClause is None \
            or body.groupClause or (body.limitCount is not None and not _is_one(body.limitCount)):
        return None
    placeholder = ast.ColumnRef(fields=(ast.String(sval=PLACEHOLDER),))
    shaped = _replaced(copy.deepcopy(test), lambda node: node == call, placeholder)
    if not _mentions(shaped, PLACEHOLDER) or not _fails_on_null(shaped, PLACEHOLDER):
        return None
    selected = body.targetList[0].val
    while isinstance(selected, ast.TypeCast):  # om.role::text: the same strings
        selected = selected.arg
    condition = _replaced(shaped, lambda node: _is_variable(node, PLACEHOLDER), copy.deepcopy(selected))
    return _exists(body.fromClause, ast.BoolExpr(boolop=enums.BoolExprType.AND_EXPR,
                                                 args=(body.whereClause, condition)))


def _is_one(node) -> bool:
    return isinstance(node, ast.A_Const) and isinstance(node.val, ast.Integer) and node.val.ival == 1


def rows_keyed_by_new_id(function) -> set[tuple[str, str, str]]:
    """Tables a trigger function inserts ``new.id`` into as the primary key's column: the
    ``(schema, table, column)`` a sign-up trigger on ``auth.users`` keys by the new user
    (``insert into public.profiles (id, email) values (new.id, new.email)``)."""
    if function.language != "plpgsql":
        return set()
    try:
        tree = pglast.parse_plpgsql(function.origin.statement.text)
    except (pglast.parser.ParseError, AttributeError):
        return set()
    found = set()
    for node in _plpgsql_statements(tree):
        text = _expression(node, "sqlstmt")
        try:
            statements = pglast.parse_sql(text) if text else ()
        except pglast.parser.ParseError:
            continue
        for raw in statements:
            insert = raw.stmt
            if not (isinstance(insert, ast.InsertStmt) and insert.cols and isinstance(insert.selectStmt, ast.SelectStmt)
                    and insert.selectStmt.valuesLists and len(insert.selectStmt.valuesLists) == 1):
                continue
            for target, value in zip(insert.cols, insert.selectStmt.valuesLists[0]):
                if isinstance(value, ast.ColumnRef) and column_ref_name(value) == ("new", "id"):
                    found.add((insert.relation.schemaname or "public", insert.relation.relname, target.name))
    return found


def _plpgsql_statements(tree) -> list[dict]:
    """Every SQL statement step of a parsed PL/pgSQL body, nested blocks included."""
    found = []

    def visit(node):
        if isinstance(node, dict):
            if "PLpgSQL_stmt_execsql" in node:
                found.append(node["PLpgSQL_stmt_execsql"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(tree)
    return found
