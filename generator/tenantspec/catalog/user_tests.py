"""Conditions that a membership row is the signed-in user's: its user column equals
``auth.uid()``, or, where the membership names the user through a row of another table
(``tenancy.members.user_through``: an account, an identity), holds the key of the user's row
there, in the spellings apps use for it: ``m.account_id in (select a.id from accounts a
where a.user_id = auth.uid())``, ``= (select ...)``, a helper returning that key, or a join
to that table."""

from __future__ import annotations

from pglast import ast, enums

from tenantspec.catalog.expression import conjuncts
from tenantspec.catalog.keys import relation_key
from tenantspec.catalog.nodes import column_ref_name, function_name, relation_alias
from tenantspec.catalog.sql_values import auth_call, bound_value, mentions


class UserTests:
    """The part of ``MembershipReader`` that reads tests of the member row's user."""

    def pins_user(self, part, alias: str, params: dict | None) -> bool:
        """Whether a condition on the members row ``alias`` says it is the signed-in user's."""
        through = self.tenancy.user_through
        if isinstance(part, ast.SubLink) and part.subLinkType == enums.SubLinkType.ANY_SUBLINK:
            return through is not None and self.is_user_column(part.testexpr, alias) and self.user_keys(part.subselect)
        if not isinstance(part, ast.A_Expr):
            return False
        operator = part.name[0].sval if part.name else None
        if part.kind == enums.A_Expr_Kind.AEXPR_OP_ANY and operator == "=" and through is not None \
                and isinstance(part.rexpr, ast.SubLink) and part.rexpr.subLinkType == enums.SubLinkType.ARRAY_SUBLINK:
            return self.is_user_column(part.lexpr, alias) and self.user_keys(part.rexpr.subselect)
        if part.kind != enums.A_Expr_Kind.AEXPR_OP or operator != "=":
            return False
        for side, other in ((part.lexpr, part.rexpr), (part.rexpr, part.lexpr)):
            if self.is_user_column(side, alias):
                return self.is_current_user(other, params)
        return False

    def is_user_column(self, node, alias: str) -> bool:
        while isinstance(node, ast.TypeCast):
            node = node.arg
        return isinstance(node, ast.ColumnRef) and column_ref_name(node)[0] in (alias, None) \
            and column_ref_name(node)[1] == self.tenancy.user_column

    def is_current_user(self, node, params: dict | None = None) -> bool:
        """Whether ``node`` is what the members' user column holds for the signed-in user: its
        id (``auth.uid()``, a parameter bound to it), or the key of its ``user_through`` row."""
        if self.tenancy.user_through is None:
            return auth_call(node) == "uid" or bound_value(node, params or {}) == "uid"
        while isinstance(node, ast.TypeCast):
            node = node.arg
        if isinstance(node, ast.SubLink) and node.subLinkType == enums.SubLinkType.EXPR_SUBLINK:
            return self.user_keys(node.subselect)
        if isinstance(node, ast.FuncCall) and not node.args:  # current_account_id()
            schema, name = function_name(node)
            body = self.bodies.get((schema or "public", name))
            return body is not None and self.user_keys(body[0])
        return False

    def user_keys(self, select) -> bool:
        """``select a.id from accounts a where a.user_id = auth.uid()``: the key of the user's
        row of the ``user_through`` table."""
        through = self.tenancy.user_through
        if through is None or not isinstance(select, ast.SelectStmt) or select.whereClause is None \
                or len(select.targetList or ()) != 1 or len(select.fromClause or ()) != 1 \
                or not isinstance(select.fromClause[0], ast.RangeVar) \
                or relation_key(select.fromClause[0]) != through[0]:
            return False
        alias = relation_alias(select.fromClause[0])
        value = select.targetList[0].val
        if not (isinstance(value, ast.ColumnRef) and column_ref_name(value) in ((alias, through[1]), (None, through[1]))):
            return False
        parts = conjuncts(select.whereClause)
        return len(parts) == 1 and self.owns(parts[0], alias)

    def owns(self, part, alias: str) -> bool:
        """``a.user_id = auth.uid()`` on the ``user_through`` row ``alias``."""
        if not (isinstance(part, ast.A_Expr) and part.kind == enums.A_Expr_Kind.AEXPR_OP and part.name[0].sval == "="):
            return False
        for side, other in ((part.lexpr, part.rexpr), (part.rexpr, part.lexpr)):
            if isinstance(side, ast.ColumnRef) and column_ref_name(side)[0] in (alias, None) \
                    and column_ref_name(side)[1] == self.tenancy.user_through[2] and auth_call(other) == "uid":
                return True
        return False

    def folded_user_join(self, relations: list, parts: list, member: str) -> tuple[list, list]:
        """``join accounts a on a.id = m.account_id where a.user_id = auth.uid()`` read as the
        ``m.account_id in (select a.id from accounts a where a.user_id = auth.uid())`` it
        amounts to: the ``user_through`` relation dropped, its two conditions made that one."""
        through = self.tenancy.user_through
        if through is None:
            return relations, parts
        for alias, key in relations:
            if key != through[0]:
                continue
            tie = next((i for i, part in enumerate(parts) if self.ties_member(part, alias, member)), None)
            owned = next((i for i, part in enumerate(parts) if i != tie and self.owns(part, alias)
                          and column_ref_name(_column_side(part))[0] == alias), None)
            rest = [part for i, part in enumerate(parts) if i not in (tie, owned)]
            if tie is None or owned is None or any(mentions(part, alias) for part in rest):
                continue
            keys = ast.SelectStmt(
                targetList=(ast.ResTarget(val=ast.ColumnRef(fields=(ast.String(sval=alias), ast.String(sval=through[1])))),),
                fromClause=(ast.RangeVar(schemaname=through[0][0], relname=through[0][1], inh=True,
                                         alias=ast.Alias(aliasname=alias)),),
                whereClause=parts[owned], op=enums.SetOperation.SETOP_NONE)
            member_user = ast.ColumnRef(fields=(ast.String(sval=member), ast.String(sval=self.tenancy.user_column)))
            found = ast.SubLink(subLinkType=enums.SubLinkType.ANY_SUBLINK, testexpr=member_user, subselect=keys)
            return [r for r in relations if r[0] != alias], rest + [found]
        return relations, parts

    def ties_member(self, part, alias: str, member: str) -> bool:
        """``a.id = m.account_id``: the ``user_through`` row the member row's user column names."""
        if not (isinstance(part, ast.A_Expr) and part.kind == enums.A_Expr_Kind.AEXPR_OP and part.name[0].sval == "="
                and isinstance(part.lexpr, ast.ColumnRef) and isinstance(part.rexpr, ast.ColumnRef)):
            return False
        pair = {column_ref_name(part.lexpr), column_ref_name(part.rexpr)}
        return pair == {(alias, self.tenancy.user_through[1]), (member, self.tenancy.user_column)}


def _column_side(part: ast.A_Expr):
    return part.lexpr if isinstance(part.lexpr, ast.ColumnRef) else part.rexpr
