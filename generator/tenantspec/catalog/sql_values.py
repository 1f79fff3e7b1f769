"""The values a policy's SQL compares, as the access reader needs them: ``auth.uid()`` and
friends however wrapped, a helper's parameters bound to what a call passes, string constants,
array literals and the roles a test of the role column admits."""

from __future__ import annotations

import copy

from pglast import ast, enums

from tenantspec.catalog.expression import string_constants
from tenantspec.catalog.nodes import column_ref_name, deparse, function_name, walk


def auth_call(node) -> str | None:
    """``uid`` / ``role`` / ``jwt`` for ``auth.uid()`` and friends, also as ``(select auth.uid())``."""
    if isinstance(node, ast.SubLink) and node.subLinkType == enums.SubLinkType.EXPR_SUBLINK:
        select = node.subselect
        if isinstance(select, ast.SelectStmt) and len(select.targetList or ()) == 1 and not select.fromClause:
            return auth_call(select.targetList[0].val)
    if isinstance(node, ast.TypeCast):
        return auth_call(node.arg)
    if isinstance(node, ast.FuncCall):
        schema, name = function_name(node)
        if schema == "auth" and name in ("uid", "role", "jwt", "email"):
            return name
    return None


def claim_path(node) -> str | None:
    """The dotted key of a claim of the user's token that ``node`` reads: ``(auth.jwt() ->>
    'tenant_id')::uuid`` is ``tenant_id``, ``auth.jwt() -> 'app_metadata' ->> 'org_id'`` is
    ``app_metadata.org_id``; also as ``(select ...)`` and through ``request.jwt.claims``."""
    while True:
        if isinstance(node, ast.TypeCast):
            node = node.arg
        elif isinstance(node, ast.SubLink) and node.subLinkType == enums.SubLinkType.EXPR_SUBLINK \
                and isinstance(node.subselect, ast.SelectStmt) and len(node.subselect.targetList or ()) == 1 \
                and not node.subselect.fromClause:
            node = node.subselect.targetList[0].val
        else:
            break
    keys: list[str] = []
    while isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP \
            and [n.sval for n in node.name] in (["->>"], ["->"]) \
            and isinstance(node.rexpr, ast.A_Const) and isinstance(node.rexpr.val, ast.String):
        if keys and node.name[0].sval == "->>":
            return None  # text of a claim read again as json
        keys.insert(0, node.rexpr.val.sval)
        node = node.lexpr
        while isinstance(node, ast.TypeCast) or (isinstance(node, ast.SubLink) and auth_call(node) == "jwt"):
            node = node.arg if isinstance(node, ast.TypeCast) else node.subselect.targetList[0].val
    if not keys or not (auth_call(node) == "jwt" or _claims_setting(node)):
        return None
    return ".".join(keys)


def _claims_setting(node) -> bool:
    """``current_setting('request.jwt.claims', true)``: the claims PostgREST sets."""
    if not isinstance(node, ast.FuncCall) or function_name(node)[1] != "current_setting" or not node.args:
        return False
    first = node.args[0]
    return isinstance(first, ast.A_Const) and isinstance(first.val, ast.String) \
        and first.val.sval == "request.jwt.claims"


def mentions(node, alias: str) -> bool:
    return any(isinstance(child, ast.ColumnRef) and column_ref_name(child)[0] == alias for child, _ in walk(node))


def bound_value(node, params: dict):
    """What a helper's parameter (``$2`` or its name) is bound to, if ``node`` is one."""
    if isinstance(node, ast.ParamRef):
        return params.get(f"${node.number}")
    if isinstance(node, ast.ColumnRef):
        qualifier, column = column_ref_name(node)
        return params.get(column if qualifier is None else f"{qualifier}.{column}")
    return None


NULL = object()  # a helper's parameter bound to NULL (its default, say)


def is_null(node) -> bool:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return isinstance(node, ast.A_Const) and node.isnull


def column_of(node) -> str | None:
    return column_ref_name(node)[1] if isinstance(node, ast.ColumnRef) else None


def constant_strings(node) -> frozenset[str] | None:
    """``array['a', 'b']`` (casts allowed) as a set of strings."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        return frozenset({node.val.sval})  # has_role(account_id, 'owner')
    if not isinstance(node, ast.A_ArrayExpr):
        return None
    values = string_constants(node.elements or ())
    return None if values is None else frozenset(values)


def role_values(part: ast.A_Expr, params: dict | None, roles: tuple[str, ...],
                stored: dict[str, str] | None = None) -> frozenset[str] | None:
    """The roles a test of the role column admits: ``col in ('a', 'b')``, ``col = any (array['a',
    'b'])``, ``col = 'a'``, ``col = any (roles)`` where the helper's parameter ``roles`` is bound to
    constants, and their negations (``col <> 'a'``, ``col not in (...)``, ``col <> all (...)``),
    which admit the other ``roles`` (the column holds no value but those). Where the column holds
    no names, ``stored`` says which role each value it holds (as text: ``role_id = 1``) stands for."""
    kind, operator = part.kind, part.name[0].sval
    negated = operator in ("<>", "!=")
    if kind == enums.A_Expr_Kind.AEXPR_OP_ANY and operator != "=" or \
            kind == enums.A_Expr_Kind.AEXPR_OP_ALL and not negated or \
            kind == enums.A_Expr_Kind.AEXPR_OP and operator not in ("=", "<>", "!="):
        return None
    values = compared_strings(part, params or {}, numbers=bool(stored))
    if values is None:
        return None
    if stored:
        if not values <= stored.keys():
            return None
        values = frozenset(stored[value] for value in values)
    return frozenset(roles) - values if negated else values


def array_literal(node) -> frozenset[str] | None:
    """The elements of an array literal, ``'{owner,admin}'::text[]`` (plain or double-quoted
    elements, no nesting)."""
    if not (isinstance(node, ast.TypeCast) and node.typeName.arrayBounds and isinstance(node.arg, ast.A_Const)
            and isinstance(node.arg.val, ast.String)):
        return None
    text = node.arg.val.sval.strip()
    if not (text.startswith("{") and text.endswith("}")) or "{" in text[1:-1]:
        return None
    items = [item.strip() for item in text[1:-1].split(",")] if text[1:-1].strip() else []
    return frozenset(item[1:-1] if len(item) > 1 and item[0] == item[-1] == '"' else item for item in items)


def compared_strings(part: ast.A_Expr, params: dict, numbers: bool = False) -> frozenset[str] | None:
    kind = part.kind
    listed = (enums.A_Expr_Kind.AEXPR_OP_ANY, enums.A_Expr_Kind.AEXPR_OP_ALL)
    if kind in listed and isinstance(bound := bound_value(part.rexpr, params), frozenset):
        return bound
    if kind == enums.A_Expr_Kind.AEXPR_OP:
        for side in (part.rexpr, part.lexpr):
            if isinstance(found := bound_value(side, params), frozenset):
                return found
    if kind == enums.A_Expr_Kind.AEXPR_IN and isinstance(part.rexpr, (tuple, list)):
        items = part.rexpr
    elif kind in listed and isinstance(part.rexpr, ast.A_ArrayExpr):
        items = part.rexpr.elements or ()
    elif kind in listed and (literal := array_literal(part.rexpr)) is not None:
        return literal  # role = any ('{owner,admin}'::text[])
    elif kind == enums.A_Expr_Kind.AEXPR_OP:
        items = [s for s in (part.lexpr, part.rexpr) if not isinstance(s, ast.ColumnRef)]
    else:
        return None
    values = string_constants(items, numbers)
    return None if values is None else frozenset(values)


def condition_key(node, alias: str | None = None) -> str:
    """A condition on one row as comparable text: ``alias.`` dropped from its columns, and
    ``col = true`` or ``col is true`` read as ``col``."""
    node = copy.deepcopy(node)
    for child, _ in walk(node):
        if isinstance(child, ast.ColumnRef) and len(child.fields) == 2 and isinstance(child.fields[0], ast.String) \
                and child.fields[0].sval == alias:
            child.fields = child.fields[1:]
    if isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP and node.name[-1].sval == "=" \
            and isinstance(node.rexpr, ast.A_Const) and isinstance(node.rexpr.val, ast.Boolean) \
            and node.rexpr.val.boolval:
        node = node.lexpr
    if isinstance(node, ast.BooleanTest) and node.booltesttype == enums.BoolTestType.IS_TRUE:
        node = node.arg
    return deparse(node)
