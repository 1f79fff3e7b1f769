"""What a policy condition lets through, read without a database: for which request roles
it is true whatever the row (``using (true)``, ``auth.role() = 'authenticated'``), and
whether it reads the row at all."""

from __future__ import annotations

from functools import reduce

from pglast import ast, enums

from tenantspec.catalog.nodes import column_ref_name, function_name, walk
from tenantspec.catalog.state import Table

ANON, AUTHENTICATED = "anon", "authenticated"
EVERYONE = frozenset({ANON, AUTHENTICATED})
NOBODY: frozenset[str] = frozenset()
# auth.<f>() IS NOT NULL holds for these request roles: anon requests carry a JWT with a
# role claim but no user id.
NOT_NULL_FOR = {"uid": frozenset({AUTHENTICATED}), "email": frozenset({AUTHENTICATED}),
                "jwt": EVERYONE, "role": EVERYONE}
ROLE_VALUE_FUNCTIONS = {enums.SQLValueFunctionOp.SVFOP_CURRENT_USER, enums.SQLValueFunctionOp.SVFOP_CURRENT_ROLE}


def unwrap(node):
    """``(select x)`` without FROM or WHERE is ``x``."""
    while (isinstance(node, ast.SubLink) and node.subLinkType == enums.SubLinkType.EXPR_SUBLINK
           and isinstance(node.subselect, ast.SelectStmt) and not node.subselect.fromClause
           and node.subselect.whereClause is None and len(node.subselect.targetList or ()) == 1):
        node = node.subselect.targetList[0].val
    return node


def constant(node):
    """The value of a literal (``true``, ``'t'::boolean``, ``1``, ``'x'``), else ``None``."""
    node = unwrap(node)
    if isinstance(node, ast.TypeCast):
        value = constant(node.arg)
        if node.typeName.names[-1].sval == "bool" and isinstance(value, str):
            return value.lower() in ("t", "true", "on", "yes", "y", "1")
        return value
    if isinstance(node, ast.A_Const) and not node.isnull:
        value = node.val
        for attribute in ("boolval", "sval", "ival", "fval"):
            if hasattr(value, attribute):
                return getattr(value, attribute)
    return None


def auth_call(node) -> str | None:
    """``uid`` for ``auth.uid()`` (``jwt``, ``role``, ``email``), else ``None``."""
    node = unwrap(node)
    if isinstance(node, ast.FuncCall) and not node.args:
        schema, name = function_name(node)
        if schema == "auth" and name in NOT_NULL_FOR:
            return name
    return None


def is_role_claim(node) -> bool:
    """``auth.role()``, ``auth.jwt() ->> 'role'`` or ``current_user``: the request's role."""
    node = unwrap(node)
    if auth_call(node) == "role":
        return True
    if isinstance(node, ast.SQLValueFunction):
        return node.op in ROLE_VALUE_FUNCTIONS
    return (isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP
            and node.name[-1].sval == "->>" and auth_call(node.lexpr) == "jwt"
            and constant(node.rexpr) == "role")


def true_for(node) -> frozenset[str]:
    """The request roles for which ``node`` is true whatever the row: everyone for a
    constant ``true``, the signed-in for ``auth.uid() is not null``, ``anon`` or
    ``authenticated`` for a test of the request's role."""
    node = unwrap(node)
    if node is None:
        return NOBODY
    if constant(node) is True:
        return EVERYONE
    if isinstance(node, ast.BoolExpr):
        parts = [true_for(arg) for arg in node.args]
        if node.boolop == enums.BoolExprType.OR_EXPR:
            return reduce(frozenset.union, parts, NOBODY)
        if node.boolop == enums.BoolExprType.AND_EXPR:
            return reduce(frozenset.intersection, parts, EVERYONE)
        return EVERYONE if constant(node.args[0]) is False else NOBODY
    if isinstance(node, ast.NullTest) and node.nulltesttype == enums.NullTestType.IS_NOT_NULL:
        return NOT_NULL_FOR.get(auth_call(node.arg), NOBODY)
    if isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP and node.name[-1].sval == "=":
        left, right = constant(node.lexpr), constant(node.rexpr)
        if left is not None and left == right:
            return EVERYONE
        for claim, value in ((node.lexpr, right), (node.rexpr, left)):
            if is_role_claim(claim) and value in EVERYONE:
                return frozenset({value})
    if (isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_IN
            and node.name[-1].sval == "=" and is_role_claim(node.lexpr)):
        return frozenset(constant(v) for v in node.rexpr or ()) & EVERYONE
    return NOBODY


def reads_row(node, table: Table) -> bool:
    """Whether ``node`` uses a column of the policy's row: any column outside a subquery,
    or one qualified with the table's name inside it."""
    for child, ancestors in walk(node):
        if not isinstance(child, ast.ColumnRef):
            continue
        qualifier, column = column_ref_name(child)
        if column is None:
            continue
        if qualifier == table.name or (qualifier is None
                                       and not any(isinstance(a, ast.SubLink) for a in ancestors)):
            return True
    return False


def top_level_columns(node) -> bool:
    """Whether ``node`` uses a column outside any subquery (necessarily one of the row's)."""
    return any(isinstance(child, ast.ColumnRef) and not any(isinstance(a, ast.SubLink) for a in ancestors)
               for child, ancestors in walk(node))
