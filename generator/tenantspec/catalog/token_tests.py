"""Memberships the token carries (``tenancy.members.claims``): the row's workspace compared
with a claim an access token hook writes, and the role claim tested against roles."""

from __future__ import annotations

from pglast import ast, enums

from tenantspec.catalog.expression import conjuncts
from tenantspec.catalog.sql_values import claim_path, role_values
from tenantspec.catalog.verdicts import Scope, WorkspaceSet


class TokenTests:
    """The part of ``MembershipReader`` that reads tests of the token's claims."""

    def token_test(self, node, scope: Scope) -> tuple[bool, frozenset[str]] | None:
        """A test of the membership the token's claims carry: ``(row's workspace) = claim`` (every
        role, of the row's workspace: True first) or ``claim_role in ('admin', ...)`` (those roles,
        in whichever workspace the token names: False first)."""
        if self.tenancy.claim_workspace is None or not isinstance(node, ast.A_Expr):
            return None
        if node.kind == enums.A_Expr_Kind.AEXPR_OP and [n.sval for n in node.name] == ["="]:
            for side, other in ((node.lexpr, node.rexpr), (node.rexpr, node.lexpr)):
                while isinstance(side, ast.TypeCast):
                    side = side.arg
                if claim_path(other) == self.tenancy.claim_workspace and self.denotes_workspace(side, scope):
                    return True, frozenset(self.tenancy.member_roles)
        if self.tenancy.claim_role is not None:
            # the claim read as a column: role_values tells the constants it is compared with
            claim = ast.ColumnRef(fields=(ast.String(sval=self.tenancy.claim_role),))
            sides = [node.lexpr, node.rexpr]
            if claim_path(node.lexpr) == self.tenancy.claim_role:
                sides[0] = claim
            elif not isinstance(node.rexpr, (list, tuple)) and claim_path(node.rexpr) == self.tenancy.claim_role:
                sides[1] = claim
            else:
                return None
            test = ast.A_Expr(kind=node.kind, name=node.name, lexpr=sides[0], rexpr=sides[1])
            if (roles := role_values(test, None, self.tenancy.member_roles)) is not None:
                return False, roles & frozenset(self.tenancy.member_roles)
        return None

    def token_set(self, select) -> WorkspaceSet | None:
        """``select (claim)::uuid where claim_role in (...)``: the workspace the token names,
        where it names one of those roles."""
        if select.fromClause or claim_path(select.targetList[0].val) != self.tenancy.claim_workspace:
            return None
        roles = frozenset(self.tenancy.member_roles)
        for part in conjuncts(select.whereClause) if select.whereClause is not None else []:
            found = self.token_test(part, Scope({}, None, {}))
            if found is None or found[0]:
                return None
            roles &= found[1]
        return WorkspaceSet(roles)
