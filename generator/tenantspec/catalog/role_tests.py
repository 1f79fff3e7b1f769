"""Conditions on a membership row's role, in their many spellings: a list, a negation, an
array of roles, a parameter that may be null."""

from __future__ import annotations

from pglast import ast, enums

from tenantspec.catalog.nodes import column_ref_name
from tenantspec.catalog.sql_values import (
    NULL,
    bound_value,
    constant_strings,
    role_values,
)
from tenantspec.catalog.verdicts import Scope

JSON_ROLE = "\x00json:"  # no column is named so: the role_ref of a field of a JSON document


class RoleTests:
    """The part of ``MembershipReader`` that reads tests of the member's role."""

    def role_condition(self, part, alias: str, params: dict | None) -> frozenset[str] | None:
        """The roles a condition on the members' role column admits: ``m.role in (...)`` and
        its other spellings, ``(m.role = 'a' or m.role = 'b')``, ``(m.role = p or p is null)``
        (a role parameter, null meaning any role), ``m.role is not null``; None when it is no
        condition on the role."""
        part = self.json_role_as_column(part, alias)
        if isinstance(part, ast.BoolExpr) and part.boolop == enums.BoolExprType.OR_EXPR:
            return self.role_choice(part, alias, params or {})
        if isinstance(part, ast.NullTest) and part.nulltesttype == enums.NullTestType.IS_NOT_NULL \
                and isinstance(part.arg, ast.ColumnRef) and column_ref_name(part.arg)[0] in (alias, None) \
                and column_ref_name(part.arg)[1] == self.role_ref:
            return frozenset(self.tenancy.member_roles)
        if self.tenancy.role_array and isinstance(part, ast.A_Expr):
            return self.roles_held(part, alias, params or {})
        if isinstance(part, ast.A_Expr) and self.member_column(part, alias)[0] == self.role_ref:
            return role_values(part, params, self.tenancy.member_roles, dict(self.tenancy.role_values))
        return None

    @property
    def role_ref(self) -> str:
        """The column a role test compares: the role column, or, where the role is a field of
        a JSON document there (``role_field``), a name standing for that field's text."""
        return self.tenancy.role_column if not self.tenancy.role_field else f"{JSON_ROLE}{self.tenancy.role_field}"

    def json_role_as_column(self, part, alias: str):
        """``(m.extra ->> 'role') = 'admin'`` with the field read as the column ``role_ref``
        stands for, so the role tests read it as they read a role column."""
        if self.tenancy.role_field is None:
            return part
        def swap(node):
            return ast.ColumnRef(fields=(ast.String(sval=alias), ast.String(sval=self.role_ref))) \
                if self.is_json_role(node, alias) else node
        if isinstance(part, ast.A_Expr):
            lexpr = swap(part.lexpr)
            rexpr = part.rexpr if isinstance(part.rexpr, (list, tuple)) else swap(part.rexpr)
            if lexpr is not part.lexpr or rexpr is not part.rexpr:
                return ast.A_Expr(kind=part.kind, name=part.name, lexpr=lexpr, rexpr=rexpr)
        if isinstance(part, ast.NullTest) and (arg := swap(part.arg)) is not part.arg:
            return ast.NullTest(arg=arg, nulltesttype=part.nulltesttype)
        return part

    def is_json_role(self, node, alias: str) -> bool:
        """``m.extra ->> 'role'`` (``m.extra -> 'permissions' ->> 'role'`` for a dotted field)."""
        while isinstance(node, ast.TypeCast):
            node = node.arg
        path = []
        operator = "->>"
        while isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP \
                and [n.sval for n in node.name] == [operator] and isinstance(node.rexpr, ast.A_Const) \
                and isinstance(node.rexpr.val, ast.String):
            path.insert(0, node.rexpr.val.sval)
            node, operator = node.lexpr, "->"
        return bool(path) and isinstance(node, ast.ColumnRef) and column_ref_name(node)[0] in (alias, None) \
            and column_ref_name(node)[1] == self.tenancy.role_column and path == self.tenancy.role_field.split(".")

    def roles_held(self, part: ast.A_Expr, alias: str, params: dict) -> frozenset[str] | None:
        """A test of an array of roles: ``'admin' = any (m.roles)``, ``m.roles && array['owner',
        'admin']`` (one of them), ``m.roles @> array['admin']`` (that one)."""
        def is_roles(node) -> bool:
            while isinstance(node, ast.TypeCast):
                node = node.arg
            return isinstance(node, ast.ColumnRef) and column_ref_name(node)[0] in (alias, None) \
                and column_ref_name(node)[1] == self.role_ref
        operator = part.name[0].sval if part.name else None
        def strings(node):  # constants, or a helper's parameter bound to them
            bound = self.passed_on(node, Scope({}, None, params))
            return bound if isinstance(bound, frozenset) else constant_strings(node)
        if part.kind == enums.A_Expr_Kind.AEXPR_OP_ANY and operator == "=" and is_roles(part.rexpr):
            return strings(part.lexpr)
        if part.kind == enums.A_Expr_Kind.AEXPR_OP and operator in ("&&", "@>", "<@"):
            for side, other in ((part.lexpr, part.rexpr), (part.rexpr, part.lexpr)):
                values = strings(other)
                if is_roles(side) and values is not None:
                    if operator == "&&":
                        return values
                    contains = (operator == "@>") == (side is part.lexpr)  # roles @> array[...]
                    return values if contains and len(values) == 1 else None
        return None

    def member_column(self, part: ast.A_Expr, alias: str) -> tuple[str | None, object]:
        """The members-table column a comparison tests, and the expression it is compared with."""
        for side, other in ((part.lexpr, part.rexpr), (part.rexpr, part.lexpr)):
            if isinstance(side, ast.ColumnRef):
                qualifier, column = column_ref_name(side)
                if qualifier in (alias, None) and column in (self.tenancy.user_column, self.tenancy.workspace_column,
                                                              self.role_ref):
                    return column, other
        return None, None

    def role_choice(self, part: ast.BoolExpr, alias: str, params: dict) -> frozenset[str] | None:
        """The roles ``(m.role = p or p is null)`` admits with its parameter bound: a null
        parameter admits every role."""
        admitted: frozenset[str] = frozenset()
        for arm in part.args:
            if isinstance(arm, ast.NullTest) and (bound := bound_value(arm.arg, params)) is not None:
                is_null = bound is NULL
                if is_null == (arm.nulltesttype == enums.NullTestType.IS_NULL):
                    return frozenset(self.tenancy.member_roles)
                continue
            if isinstance(arm, ast.A_Expr) and NULL in (bound_value(arm.rexpr, params), bound_value(arm.lexpr, params)):
                continue  # role = null: never true
            values = self.role_condition(arm, alias, params)
            if values is None:
                return None
            admitted |= values
        return admitted
