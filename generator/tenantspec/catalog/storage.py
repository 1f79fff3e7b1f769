"""Storage policies as the linter, the planner and adoption read them: which buckets a
condition holds an object to, whether it reads the object's path, and the rule a bucket's
policy says in the specs' words (the user's own folder, or a level's workspaces)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pglast import ast, enums

from tenantspec.catalog.expression import conjuncts
from tenantspec.catalog.keys import relation_key
from tenantspec.catalog.nodes import column_ref_name, deparse, function_name, walk
from tenantspec.catalog.source import Statement
from tenantspec.catalog.sql_values import auth_call

OBJECTS, BUCKETS = ("storage", "objects"), ("storage", "buckets")
# what a folder test reads: a segment of the object's path
PATH_FUNCTIONS = {("storage", "foldername"), ("storage", "filename"), (None, "split_part"),
                  ("pg_catalog", "split_part"), (None, "string_to_array"), (None, "regexp_split_to_array")}
OWN = "own"


def unwrapped(node):
    """``(select x)`` without FROM is ``x``; casts to text are looked through."""
    while True:
        if isinstance(node, ast.SubLink) and node.subLinkType == enums.SubLinkType.EXPR_SUBLINK \
                and isinstance(node.subselect, ast.SelectStmt) and not node.subselect.fromClause \
                and len(node.subselect.targetList or ()) == 1:
            node = node.subselect.targetList[0].val
        elif isinstance(node, ast.TypeCast) and node.typeName.names[-1].sval in ("text", "varchar"):
            node = node.arg
        else:
            return node


def _string(node) -> str | None:
    node = unwrapped(node)
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        return node.val.sval
    return None


def bucket_inserts(state) -> Iterator[tuple[str, dict, Statement, ast.InsertStmt, tuple]]:
    """Each row ``insert into storage.buckets (...) values (...)`` adds whose id is a string
    constant, in statement order: (id, column -> value node, statement, the insert, the
    row's values)."""
    for statement in state.statements:
        node = statement.node
        if not isinstance(node, ast.InsertStmt) or relation_key(node.relation) != BUCKETS or node.cols is None \
                or not isinstance(node.selectStmt, ast.SelectStmt) or not node.selectStmt.valuesLists:
            continue
        names = [target.name for target in node.cols]
        for values in node.selectStmt.valuesLists:
            row = dict(zip(names, values))
            bucket_id = _string(row.get("id"))
            if bucket_id is not None:
                yield bucket_id, row, statement, node, values


def is_bucket_column(node) -> bool:
    node = unwrapped(node)
    return isinstance(node, ast.ColumnRef) and column_ref_name(node)[1] == "bucket_id"


def bucket_test(node) -> set[str] | None:
    """The buckets ``bucket_id = 'a'`` or ``bucket_id in ('a', 'b')`` names, else None."""
    node = unwrapped(node)
    if not (isinstance(node, ast.A_Expr) and node.name and node.name[-1].sval == "="):
        return None
    if node.kind == enums.A_Expr_Kind.AEXPR_OP:
        for column, value in ((node.lexpr, node.rexpr), (node.rexpr, node.lexpr)):
            if is_bucket_column(column) and _string(value) is not None:
                return {_string(value)}
    if node.kind == enums.A_Expr_Kind.AEXPR_IN and is_bucket_column(node.lexpr):
        values = [_string(v) for v in node.rexpr or ()]
        if values and all(v is not None for v in values):
            return set(values)
    return None


def buckets_named(node) -> set[str] | None:
    """The buckets a condition holds the row to, or None when it may hold for any bucket: a
    bucket test in every branch of an OR, in some conjunct of an AND."""
    node = unwrapped(node)
    if isinstance(node, ast.BoolExpr):
        parts = [buckets_named(arg) for arg in node.args]
        if node.boolop == enums.BoolExprType.AND_EXPR:
            bound = [p for p in parts if p is not None]
            return set.intersection(*bound) if bound else None
        if node.boolop == enums.BoolExprType.OR_EXPR:
            return set.union(*parts) if all(p is not None for p in parts) else None
        return None
    return bucket_test(node)


def reads_path(node) -> bool:
    return any(isinstance(child, ast.FuncCall) and function_name(child) in PATH_FUNCTIONS for child, _ in walk(node))


def first_folder(node) -> bool:
    """``(storage.foldername(name))[1]``, as text."""
    node = unwrapped(node)
    if not isinstance(node, ast.A_Indirection) or len(node.indirection or ()) != 1:
        return False
    index = node.indirection[0]
    call = unwrapped(node.arg)
    return (isinstance(index, ast.A_Indices) and not index.is_slice and isinstance(index.uidx, ast.A_Const)
            and getattr(index.uidx.val, "ival", None) == 1 and isinstance(call, ast.FuncCall)
            and function_name(call) == ("storage", "foldername"))




def folder_rule(node, bucket_id: str, helper_schema: str) -> str | None:
    """What a condition says in the specs' words, for ``bucket_id``: ``own`` for the bucket
    test and ``(storage.foldername(name))[1] = auth.uid()::text``; a level for the bucket test
    and the first folder among that level's ``<helper_schema>.<level>_workspace_ids()`` (as
    text); None for anything else."""
    parts = conjuncts(unwrapped(node))
    tests = [p for p in parts if bucket_test(p) == {bucket_id}]
    rest = [p for p in parts if p not in tests]
    if len(tests) != 1 or len(rest) != 1:
        return None
    test = unwrapped(rest[0])
    if not isinstance(test, ast.A_Expr) or not test.name or test.name[-1].sval != "=":
        return None
    sides = (test.lexpr, test.rexpr)
    if test.kind == enums.A_Expr_Kind.AEXPR_OP:
        for folder, other in (sides, sides[::-1]):
            if first_folder(folder) and auth_call(other) == "uid":
                return OWN
    if test.kind == enums.A_Expr_Kind.AEXPR_OP_ANY and first_folder(test.lexpr):
        match = re.fullmatch(rf"ARRAY\(SELECT CAST\((\w+) AS text\) FROM {re.escape(helper_schema)}\.(\w+)"
                             r"_workspace_ids\(\) AS (\w+)\)", deparse(test.rexpr))
        if match and match.group(1) == match.group(3):
            return match.group(2)
    return None
