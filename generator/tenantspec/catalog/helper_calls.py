"""Helper calls in policies, read through the bodies the migrations give them: arguments
bound (the row's workspace, auth.uid(), constants), a CASE on a constant argument resolved,
a scalar helper's result tested, a set-returning helper's rows."""

from __future__ import annotations

from functools import cached_property

from pglast import ast, enums

from tenantspec.catalog.bodies import array_elements, function_query, test_as_exists
from tenantspec.catalog.nodes import column_ref_name, function_name
from tenantspec.catalog.resolve import qualify_columns
from tenantspec.catalog.sql_values import NULL, auth_call, constant_strings, is_null
from tenantspec.catalog.verdicts import Scope


class HelperCalls:
    """The part of ``MembershipReader`` that reads calls of the app's helpers."""

    def scalar_helper_test(self, node, scope: Scope) -> frozenset[str] | None:
        """``get_role(org_id) in ('owner', 'admin')``, ``get_role(org_id) is not null``: a test
        of what a helper selects from the members table, read as the membership it amounts to."""
        node = without_fallback(node)
        sides = [node.arg] if isinstance(node, ast.NullTest) else [node.lexpr, node.rexpr]
        calls = [side for side in sides if isinstance(side, ast.FuncCall)]
        if len(calls) != 1:
            return None
        schema, name = function_name(calls[0])
        found = self.bodies.get((schema or "public", name))
        if found is None or not isinstance(found[0], ast.SelectStmt):
            return None
        params = self.bind(calls[0], found, scope) if calls[0].args else {}
        query = test_as_exists(node, calls[0], found[0]) if params is not None else None
        if query is None:
            return None
        return self.membership(query.targetList[0].val, Scope({}, None, params))


    @cached_property
    def bodies(self) -> dict[tuple[str, str], tuple[object, tuple[str, ...]]]:
        """What the functions the migrations create compute, as one query each, by (schema, name)."""
        found = {}
        for function in self.state.functions.values():
            query = function_query(function)
            if query is not None:
                body = qualify_columns(query, self.state, [], top=True)
                found[(function.schema, function.name)] = (body, function.arg_names, function.arg_defaults)
        return found


    def helper_set(self, call: ast.FuncCall, scope: Scope | None = None, elements: bool = False):
        """What a set-returning helper returns (``elements``: the elements of the array an
        array-returning one returns, for ``col = any (helper())``)."""
        schema, name = function_name(call)
        body = self.bodies.get((schema or "public", name))
        if body is None:
            return None
        query = array_elements(body[0]) if elements else body[0]
        if not call.args:
            return self.set_of(query)
        params = self.bind(call, body, scope) if scope is not None else None
        return self.set_of(query, Scope({}, None, params)) if params is not None else None

    def bind(self, call: ast.FuncCall, found, scope: Scope) -> dict | None:
        """A helper's parameters bound to what the call passes: the row's workspace, constant
        strings, NULL (its defaults included); None when an argument is anything else."""
        _, name = function_name(call)
        _, arg_names, defaults = found
        params: dict[str, object] = {}
        arguments = list(call.args) + [defaults[i] if i < len(defaults) else None
                                       for i in range(len(call.args), len(arg_names))]
        for position, argument in enumerate(arguments, start=1):
            if argument is None:
                return None  # an argument with no default: not this function
            if is_null(argument):
                bound: object = NULL
            elif auth_call(argument) == "uid" or self.passed_on(argument, scope) == "uid":
                bound = "uid"  # has_permission(auth.uid(), account_id, 'invites.manage')
            elif self.denotes_workspace(argument, scope):
                bound = "workspace"
            elif (values := constant_strings(argument)) is not None:
                bound = values
            else:
                return None
            params[f"${position}"] = bound
            if position <= len(arg_names) and arg_names[position - 1]:
                params[arg_names[position - 1]] = bound
                params[f"{name}.{arg_names[position - 1]}"] = bound  # has_role.account_id
        return params

    @staticmethod
    def passed_on(argument, scope: Scope):
        """What a helper's parameter passed on to another helper is bound to (``get_role(arg_org,
        arg_user)`` inside ``has_role``), if it is one."""
        if isinstance(argument, ast.ColumnRef) and column_ref_name(argument)[0] is None:
            return scope.params.get(column_ref_name(argument)[1])
        if isinstance(argument, ast.ParamRef):
            return scope.params.get(f"${argument.number}")
        return None

    def boolean_helper(self, call: ast.FuncCall, scope: Scope) -> frozenset[str] | None:
        """``is_workspace_member(workspace_id)``, ``has_role(workspace_id, array['owner'])``: a SQL
        function testing membership of its argument, read with the arguments bound."""
        schema, name = function_name(call)
        found = self.bodies.get((schema or "public", name))
        if found is None or not call.args:
            return None
        body = found[0]
        params = self.bind(call, found, scope)
        if params is None:
            return None
        if not isinstance(body, ast.SelectStmt) or len(body.targetList or ()) != 1 or body.fromClause:
            return None
        test = chosen_branch(body.targetList[0].val, params)
        return self.membership(test, Scope({}, None, params)) if test is not None else None


def chosen_branch(node, params: dict):
    """``case when required_role = 'owner' then ... when required_role = 'admin' then ... end``
    with ``required_role`` bound to one constant: the branch it takes (the ``else``, or false,
    when none matches); the node itself when it is no such CASE, None when it cannot be told."""
    if not isinstance(node, ast.CaseExpr) or node.arg is not None:
        return node
    if len(node.args) == 1 and _boolean(node.args[0].result) is True and _boolean(node.defresult) is False:
        return node.args[0].expr  # case when exists (...) then true else false end: the test itself
    for when in node.args:
        test = when.expr
        if not (isinstance(test, ast.A_Expr) and test.kind == enums.A_Expr_Kind.AEXPR_OP
                and test.name[0].sval == "="):
            return None
        sides = [test.lexpr, test.rexpr]
        names = [column_ref_name(side)[1] for side in sides if isinstance(side, ast.ColumnRef)]
        constants = [constant_strings(side) for side in sides if not isinstance(side, ast.ColumnRef)]
        bound = params.get(names[0]) if len(names) == 1 else None
        if not isinstance(bound, frozenset) or len(bound) != 1 or len(constants) != 1 or constants[0] is None:
            return None
        if bound == constants[0]:
            return chosen_branch(when.result, params)
    return node.defresult if node.defresult is not None else ast.A_Const(val=ast.Boolean(False))


def _boolean(node) -> bool | None:
    """The value of a boolean constant (``true``, ``'t'::boolean``), None for anything else;
    a missing node (no ELSE) is null, which a policy takes as false."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if node is None:
        return False
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Boolean):
        return node.val.boolval
    return None


def without_fallback(node):
    """``coalesce(get_role(org), '') in ('admin', 'owner')`` as ``get_role(org) in (...)``: a
    fallback the test never admits answers as a missing role (null) does."""
    if not isinstance(node, ast.A_Expr):
        return node
    sides = []
    for side in (node.lexpr, node.rexpr):
        if isinstance(side, ast.CoalesceExpr) and len(side.args) == 2 and isinstance(side.args[0], ast.FuncCall) \
                and (fallback := constant_strings(side.args[1])) is not None:
            other = node.rexpr if side is node.lexpr else node.lexpr
            tested = constant_strings(other) if not isinstance(other, (list, tuple)) else \
                frozenset(v for item in other for v in (constant_strings(item) or ()))
            if tested is None or fallback & tested:
                return node
            side = side.args[0]
        sides.append(side)
    return ast.A_Expr(kind=node.kind, name=node.name, lexpr=sides[0], rexpr=sides[1], location=node.location)
