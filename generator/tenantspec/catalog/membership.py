"""How policies test membership, read from their SQL: the roles of the row's workspace a
test admits. ``MembershipReader`` is the part of ``AccessReader`` that reads helper calls and
their bodies, ``exists`` and ``in`` subqueries on the members table, role conditions in their
many spellings, permission tables, and rows reached through a parent or the tenant table."""

from __future__ import annotations

from functools import cached_property

from pglast import ast, enums

from tenantspec.catalog.bodies import count_test_as_exists
from tenantspec.catalog.expression import conjuncts
from tenantspec.catalog.helper_calls import HelperCalls
from tenantspec.catalog.inserts import inserted_rows
from tenantspec.catalog.keys import relation_key
from tenantspec.catalog.nodes import column_ref_name, relation_alias
from tenantspec.catalog.resolve import from_relations as _from_relations
from tenantspec.catalog.role_tests import RoleTests
from tenantspec.catalog.token_tests import TokenTests
from tenantspec.catalog.user_tests import UserTests
from tenantspec.catalog.sql_values import (
    auth_call,
    bound_value,
    column_of,
    condition_key,
    constant_strings,
    mentions,
)
from tenantspec.catalog.verdicts import MemberIds, ParentIds, Scope, WorkspaceSet


class MembershipReader(HelperCalls, RoleTests, UserTests, TokenTests):
    """Membership tests; mixed into ``AccessReader``, which gives ``state``, ``tenancy``,
    ``workspace_column`` and ``reference_target``."""

    def membership(self, node, scope: Scope) -> frozenset[str] | None:
        """The roles a membership test admits, when ``node`` is one."""
        if isinstance(node, ast.BoolExpr) and node.boolop != enums.BoolExprType.NOT_EXPR:
            # exists (a member row) or exists (the user owns it): each part a membership test
            parts = [self.membership(arg, scope) for arg in node.args]
            if any(part is None for part in parts):
                return None
            if node.boolop == enums.BoolExprType.OR_EXPR:
                return frozenset().union(*parts)
            return frozenset.intersection(*parts)
        if (owned := self.owner_test(node, scope)) is not None:
            return owned
        # col = any (array(select ...)) / col in (select ...)
        if isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP_ANY \
                and isinstance(node.rexpr, ast.SubLink) and node.rexpr.subLinkType == enums.SubLinkType.ARRAY_SUBLINK:
            return self.in_set(node.lexpr, self.set_of(node.rexpr.subselect, scope), scope)
        if isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP_ANY \
                and isinstance(node.rexpr, ast.FuncCall):  # col = any (helper_returning_an_array())
            return self.in_set(node.lexpr, self.helper_set(node.rexpr, scope, elements=True), scope)
        if isinstance(node, ast.SubLink) and node.subLinkType == enums.SubLinkType.ANY_SUBLINK \
                and node.testexpr is not None:
            found = self.in_set(node.testexpr, self.set_of(node.subselect, scope), scope)
            if found is None and auth_call(node.testexpr) == "uid":
                found = self.uid_among(node.subselect, scope)
            return found
        if isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP and node.name[0].sval == "=":
            # org_id = (select p.org_id from profiles p where p.id = auth.uid()): one row at most
            # (more is an error), so the same as `in`
            for side, other in ((node.lexpr, node.rexpr), (node.rexpr, node.lexpr)):
                if isinstance(other, ast.SubLink) and other.subLinkType == enums.SubLinkType.EXPR_SUBLINK \
                        and (found := self.in_set(side, self.set_of(other.subselect, scope), scope)) is not None:
                    return found
        if isinstance(node, ast.SubLink) and node.subLinkType == enums.SubLinkType.EXPR_SUBLINK:
            select = node.subselect
            if isinstance(select, ast.SelectStmt) and select.targetList and len(select.targetList) == 1 \
                    and not select.fromClause:
                return self.membership(select.targetList[0].val, scope)
        if isinstance(node, ast.SubLink) and node.subLinkType == enums.SubLinkType.EXISTS_SUBLINK:
            return self.exists_membership(node.subselect, scope)
        if isinstance(node, ast.FuncCall):
            return self.boolean_helper(node, scope)
        if (counted := count_test_as_exists(node)) is not None:  # (select count(*) from ...) > 0
            return self.membership(counted.targetList[0].val, scope)
        if isinstance(node, (ast.A_Expr, ast.NullTest)):
            return self.scalar_helper_test(node, scope)
        return None


    def in_set(self, expression, found, scope: Scope) -> frozenset[str] | None:
        if isinstance(found, WorkspaceSet) and self.denotes_workspace(expression, scope):
            return found.roles
        if isinstance(found, MemberIds) and self.is_current_user(expression):
            return found.roles  # auth.uid() in (the ids of the row's workspace's members)
        if isinstance(found, ParentIds) and isinstance(expression, ast.ColumnRef):
            owner, column = self.column_owner(expression, scope)
            if owner is not None and self.reference_target(owner, column) == found.parent:
                return found.workspaces.roles
        return None

    def uid_among(self, select, scope: Scope) -> frozenset[str] | None:
        """``auth.uid() in (select m.user_id from members m join projects p on ... join sessions s
        on ... where s.id = row.session_id)``: the same as ``exists`` of that query with ``m.user_id =
        auth.uid()`` added, read through the joins as ``exists_membership`` reads them."""
        if not isinstance(select, ast.SelectStmt) or len(select.targetList or ()) != 1 or select.op \
                != enums.SetOperation.SETOP_NONE or not isinstance(select.targetList[0].val, ast.ColumnRef):
            return None
        tie = ast.A_Expr(kind=enums.A_Expr_Kind.AEXPR_OP, name=(ast.String(sval="="),),
                         lexpr=select.targetList[0].val,
                         rexpr=ast.FuncCall(funcname=(ast.String(sval="auth"), ast.String(sval="uid")), args=None))
        where = tie if select.whereClause is None else \
            ast.BoolExpr(boolop=enums.BoolExprType.AND_EXPR, args=(select.whereClause, tie))
        exists = ast.SelectStmt(targetList=select.targetList, fromClause=select.fromClause, whereClause=where,
                                op=enums.SetOperation.SETOP_NONE)
        return self.exists_membership(exists, scope)

    def owner_test(self, node, scope: Scope) -> frozenset[str] | None:
        """``w.owner_id = auth.uid()`` on a workspaces row known to lie in A: its owner's role."""
        if self.tenancy.owner_column is None or not (
                isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP
                and [n.sval for n in node.name] == ["="]):
            return None
        for side, other in ((node.lexpr, node.rexpr), (node.rexpr, node.lexpr)):
            if auth_call(other) == "uid" and isinstance(side, ast.ColumnRef) \
                    and self.column_owner(side, scope) == (self.tenancy.workspaces, self.tenancy.owner_column):
                return frozenset({self.tenancy.owner_role})
        return None

    def owned_set(self, select) -> WorkspaceSet | None:
        """``select w.id from workspaces w where w.owner_id = auth.uid()``: the workspaces the
        user owns."""
        if self.tenancy.owner_column is None or len(select.fromClause or ()) != 1 \
                or not isinstance(select.fromClause[0], ast.RangeVar) or select.whereClause is None \
                or relation_key(select.fromClause[0]) != self.tenancy.workspaces:
            return None
        relation = select.fromClause[0]
        alias, value = relation_alias(relation), select.targetList[0].val
        scope = Scope({alias: self.tenancy.workspaces}, self.tenancy.workspaces, {})
        parts = conjuncts(select.whereClause)
        if not (isinstance(value, ast.ColumnRef) and self.column_owner(value, scope)
                == (self.tenancy.workspaces, self.workspace_column(self.tenancy.workspaces))) or len(parts) != 1:
            return None
        owned = self.owner_test(parts[0], scope)
        return WorkspaceSet(owned) if owned is not None else None

    def column_owner(self, ref: ast.ColumnRef, scope: Scope) -> tuple[tuple[str, str] | None, str | None]:
        qualifier, column = column_ref_name(ref)
        if qualifier is None:
            return scope.unqualified, column
        return scope.rows.get(qualifier), column

    def denotes_workspace(self, expression, scope: Scope) -> bool:
        """Whether ``expression`` is the workspace of a row known to lie in workspace A."""
        if isinstance(expression, ast.ColumnRef):
            qualifier, column = column_ref_name(expression)
            if qualifier is None and column in scope.params:
                return scope.params[column] == "workspace"
            if f"{qualifier}.{column}" in scope.params:  # a parameter named after its function
                return scope.params[f"{qualifier}.{column}"] == "workspace"
            owner, column = self.column_owner(expression, scope)
            return owner is not None and column is not None and self.workspace_column(owner) == column
        if isinstance(expression, ast.ParamRef):
            return scope.params.get(f"${expression.number}") == "workspace"
        if isinstance(expression, ast.SubLink) and expression.subLinkType == enums.SubLinkType.EXPR_SUBLINK:
            # (select p.workspace_id from parent p where p.id = row.parent_id)
            select = expression.subselect
            inner = self.joined_scope(select, scope)
            return inner is not None and len(select.targetList or ()) == 1 \
                and self.denotes_workspace(select.targetList[0].val, inner)
        return False

    def joined_scope(self, select, scope: Scope) -> Scope | None:
        """The scope inside ``select ... from t where t.pk = row.fk``: t's row lies in A too."""
        if not isinstance(select, ast.SelectStmt) or len(select.fromClause or ()) != 1 \
                or not isinstance(select.fromClause[0], ast.RangeVar):
            return None
        relation = select.fromClause[0]
        key, alias = relation_key(relation), relation_alias(relation)
        inner = Scope({**scope.rows, alias: key}, key, scope.params)
        for part in conjuncts(select.whereClause) if select.whereClause is not None else ():
            if self.joins(part, inner, key, alias, scope):
                return inner
        return None

    def joins(self, part, inner: Scope, key, alias, outer: Scope) -> bool:
        """``t.pk = row.fk`` where row's foreign key ``fk`` references t."""
        if not (isinstance(part, ast.A_Expr) and part.kind == enums.A_Expr_Kind.AEXPR_OP
                and [n.sval for n in part.name] == ["="]):
            return False
        for near, far in ((part.lexpr, part.rexpr), (part.rexpr, part.lexpr)):
            if isinstance(near, ast.ColumnRef) and isinstance(far, ast.ColumnRef):
                qualifier, _ = column_ref_name(near)
                if qualifier not in (alias, None):
                    continue
                owner, column = self.column_owner(far, outer)
                if qualifier is None and column_ref_name(far)[0] is None:
                    continue
                if owner is not None and owner != key and self.reference_target(owner, column) == key:
                    return True
                if outer.params and column_ref_name(far)[1] in outer.params:
                    return True
        return False

    def exists_membership(self, select, scope: Scope) -> frozenset[str] | None:
        """``exists (select 1 from members m where m.workspace = <A> and m.user = auth.uid() [and
        m.role in (...)])``, and through parents: ``exists (select 1 from parent p [join members m
        on ...] where p.id = row.fk and <a membership test on p>)``. Every condition must be read:
        a join to a row of A, the members filter, or another membership test."""
        if not isinstance(select, ast.SelectStmt) or select.whereClause is None:
            return None
        relations, parts = _from_relations(select.fromClause)
        if relations is None:
            return None
        parts = parts + conjuncts(select.whereClause)
        members = [(alias, key) for alias, key in relations if key == self.members_table]
        if len(members) == 1:  # join accounts a on a.id = m.account_id where a.user_id = auth.uid()
            relations, parts = self.folded_user_join(relations, parts, members[0][0])
        others = [(alias, key) for alias, key in relations if key != self.members_table]
        inner, used = scope, set()
        roles: frozenset[str] | None = None
        for alias, key in list(others):  # role_permissions rp on rp.role = m.role
            if len(members) == 1 and (found := self.role_lookup(alias, key, parts, members[0][0], scope)) is not None:
                roles = found[0] if roles is None else roles & found[0]
                used.update(found[1])
                others.remove((alias, key))
        while others:  # each other relation must join a row already known to lie in A
            for alias, key in others:
                step = Scope({**inner.rows, alias: key}, key if len(relations) == 1 else inner.unqualified,
                             inner.params)
                joined = next((i for i, part in enumerate(parts)
                               if i not in used and self.joins(part, step, key, alias, inner)), None)
                if joined is not None:
                    used.add(joined)
                    inner = step
                    others.remove((alias, key))
                    break
            else:
                return None
        for alias, key in members:
            mine = [i for i, part in enumerate(parts) if i not in used and mentions(part, alias)]
            used.update(mine)
            found = self.members_filter([parts[i] for i in mine], Scope({**inner.rows, alias: key}, key, inner.params),
                                        alias, outer=inner)
            if found is None:
                return None
            roles = found if roles is None else roles & found
        for i, part in enumerate(parts):
            if i in used:
                continue
            found = self.membership(part, inner)
            if found is None:
                return None
            roles = found if roles is None else roles & found
        return roles

    def role_lookup(self, alias: str, key: tuple[str, str], parts: list, members: str,
                    scope: Scope) -> tuple[frozenset[str], set[int]] | None:
        """A table joined on the member's role and filtered by constants, ``join
        role_permissions rp on rp.role = m.role ... and rp.permission = 'invites.manage'``: the
        roles whose rows the migrations insert with those values, and the conditions read."""
        joined, filters, used = None, {}, set()
        for i, part in enumerate(parts):
            if not mentions(part, alias):
                continue
            if not (isinstance(part, ast.A_Expr) and part.kind == enums.A_Expr_Kind.AEXPR_OP
                    and part.name[0].sval == "="):
                return None
            sides = [part.lexpr, part.rexpr]
            mine = [s for s in sides if isinstance(s, ast.ColumnRef) and column_ref_name(s)[0] == alias]
            if len(mine) != 1:
                return None
            other = sides[1 - sides.index(mine[0])]
            if isinstance(other, ast.ColumnRef) and column_ref_name(other) == (members, self.tenancy.role_column):
                joined = column_ref_name(mine[0])[1]
            elif (values := constant_strings(other)) is not None or \
                    isinstance(values := bound_value(other, scope.params), frozenset):
                filters[column_ref_name(mine[0])[1]] = values
            else:
                return None
            used.add(i)
        if joined is None or not filters:
            return None
        rows = self.inserted.get(key, [])
        roles = frozenset(row[joined] for row in rows if isinstance(row.get(joined), str)
                          and all(row.get(column) in values for column, values in filters.items()))
        return roles, used

    def members_filter(self, parts, inner: Scope, alias: str, outer: Scope) -> frozenset[str] | None:
        """The roles a filter on the members table admits, if it pins the user and workspace A."""
        user = workspace = False
        roles: frozenset[str] = frozenset(self.tenancy.member_roles)
        for part in parts:
            if (admitted := self.role_condition(part, alias, outer.params)) is not None:
                roles = roles & admitted
                continue
            if self.pins_user(part, alias, outer.params):
                user = True  # m.user_id = auth.uid(), or a parameter the call passes auth.uid() to
                continue
            if not isinstance(part, ast.A_Expr):
                if condition_key(part, alias) in self.tenancy.active:
                    continue
                return None
            column, other = self.member_column(part, alias)
            if column == self.tenancy.workspace_column and self.denotes_workspace(other, outer):
                workspace = True
            elif condition_key(part, alias) not in self.tenancy.active:  # m.is_active: a row that counts
                return None
        return roles if user and workspace else None


    @cached_property
    def inserted(self) -> dict[tuple[str, str], list[dict]]:
        """The rows the migrations insert, by table (a permissions table's, say)."""
        return inserted_rows(self.state)


    @property
    def members_table(self) -> tuple[str, str] | None:
        """The members table, where the policies' tests read it; None where the token carries
        the membership: a test of the table then says something the levels do not (a token
        names one workspace, and may be older than the table's rows)."""
        return self.tenancy.members if self.tenancy.claim_workspace is None else None

    def set_of(self, select, scope: Scope | None = None):
        """What ``select`` returns: a set of the user's workspaces, parent ids, the ids of the
        row's workspace's members (``scope``: what names the row), or unknown."""
        if isinstance(select, ast.SelectStmt) and select.op == enums.SetOperation.SETOP_UNION:
            # the workspaces of a membership union those the user owns
            sides = [self.set_of(select.larg, scope), self.set_of(select.rarg, scope)]
            if all(isinstance(side, WorkspaceSet) for side in sides):
                return WorkspaceSet(sides[0].roles | sides[1].roles)
            return None
        if not isinstance(select, ast.SelectStmt) or len(select.targetList or ()) != 1:
            return None
        value = select.targetList[0].val
        if self.tenancy.claim_workspace is not None and (claimed := self.token_set(select)) is not None:
            return claimed
        if (owned := self.owned_set(select)) is not None:
            return owned
        if not select.fromClause and isinstance(value, ast.FuncCall):
            return self.helper_set(value, scope)
        if len(select.fromClause or ()) == 1 and isinstance(select.fromClause[0], ast.RangeFunction):
            call = select.fromClause[0].functions[0][0]
            return self.helper_set(call, scope) if isinstance(call, ast.FuncCall) else None
        if (through := self.tenants_joined(select)) is not None:
            return through
        if (joined := self.members_through(select)) is not None:
            return joined
        if len(select.fromClause or ()) != 1 or not isinstance(select.fromClause[0], ast.RangeVar):
            return None
        relation = select.fromClause[0]
        key, alias = relation_key(relation), relation_alias(relation)
        if not isinstance(value, ast.ColumnRef):
            return None
        qualifier, column = column_ref_name(value)
        parts = conjuncts(select.whereClause) if select.whereClause is not None else []
        if key == self.members_table and column == self.tenancy.workspace_column:
            return self.members_set(parts, alias)
        if key == self.members_table and column == self.tenancy.user_column and scope is not None:
            # select m.user_id from members m where m.workspace_id = <the row's> [and m.role ...]
            roles = self.members_of(parts, alias, scope)
            return MemberIds(roles) if roles is not None else None
        workspace = self.workspace_column(key)
        if workspace is None:
            return None
        for part in parts if len(parts) == 1 else ():
            if isinstance(part, ast.A_Expr) and part.kind == enums.A_Expr_Kind.AEXPR_OP_ANY \
                    and isinstance(part.rexpr, ast.SubLink) and column_of(part.lexpr) == workspace:
                inner = self.set_of(part.rexpr.subselect)
            elif isinstance(part, ast.SubLink) and part.subLinkType == enums.SubLinkType.ANY_SUBLINK \
                    and column_of(part.testexpr) == workspace:
                inner = self.set_of(part.subselect)
            else:
                inner = None
            if isinstance(inner, WorkspaceSet):
                return ParentIds(key, inner)
        return None

    def tenants_joined(self, select) -> WorkspaceSet | None:
        """``select o.id from orgs o join members m on m.org_id = o.id where m.user_id =
        auth.uid()``: the user's workspaces, reached through the tenant table."""
        relations, joins = _from_relations(select.fromClause)
        if relations is None or len(relations) != 2 or {key for _, key in relations} != \
                {self.tenancy.workspaces, self.members_table}:
            return None
        tenant = next(alias for alias, key in relations if key == self.tenancy.workspaces)
        member = next(alias for alias, key in relations if key == self.members_table)
        key = self.workspace_column(self.tenancy.workspaces) or "id"
        pair = {(member, self.tenancy.workspace_column), (tenant, key)}
        parts = joins + (conjuncts(select.whereClause) if select.whereClause is not None else [])
        tie = next((i for i, part in enumerate(parts) if isinstance(part, ast.A_Expr) and part.name[0].sval == "="
                    and all(isinstance(side, ast.ColumnRef) for side in (part.lexpr, part.rexpr))
                    and {column_ref_name(part.lexpr), column_ref_name(part.rexpr)} == pair), None)
        value = select.targetList[0].val
        if tie is None or not isinstance(value, ast.ColumnRef) or column_ref_name(value) not in pair:
            return None
        return self.members_set([p for i, p in enumerate(parts) if i != tie], member)

    def members_through(self, select) -> WorkspaceSet | None:
        """``select m.org_id from members m join accounts a on a.id = m.account_id where
        a.user_id = auth.uid()``: the user's workspaces, the user named through ``user_through``."""
        if self.tenancy.user_through is None:
            return None
        relations, joins = _from_relations(select.fromClause)
        members = [alias for alias, key in relations or () if key == self.members_table]
        if relations is None or len(relations) != 2 or len(members) != 1:
            return None
        parts = joins + (conjuncts(select.whereClause) if select.whereClause is not None else [])
        relations, parts = self.folded_user_join(relations, parts, members[0])
        value = select.targetList[0].val
        if len(relations) != 1 or not isinstance(value, ast.ColumnRef) \
                or column_ref_name(value)[1] != self.tenancy.workspace_column \
                or column_ref_name(value)[0] not in (members[0], None):
            return None
        return self.members_set(parts, members[0])

    def members_set(self, parts, alias: str) -> WorkspaceSet | None:
        user = False
        roles = frozenset(self.tenancy.member_roles)
        for part in parts:
            if (admitted := self.role_condition(part, alias, None)) is not None:
                roles = roles & admitted
                continue
            if self.pins_user(part, alias, None):
                user = True
                continue
            if not isinstance(part, ast.A_Expr) and condition_key(part, alias) in self.tenancy.active:
                continue
            return None
        return WorkspaceSet(roles) if user else None

    def parent_owned(self, node, scope: Scope) -> str | None:
        """``parent_id in (select p.id from parents p where p.user_id = auth.uid())`` (or ``= any
        (array(...))``): the row's parent is one of the user's. The column, when it is that."""
        if isinstance(node, ast.SubLink) and node.subLinkType == enums.SubLinkType.ANY_SUBLINK \
                and isinstance(node.testexpr, ast.ColumnRef):
            column, select = node.testexpr, node.subselect
        elif isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP_ANY \
                and isinstance(node.lexpr, ast.ColumnRef) and isinstance(node.rexpr, ast.SubLink) \
                and node.rexpr.subLinkType == enums.SubLinkType.ARRAY_SUBLINK:
            column, select = node.lexpr, node.rexpr.subselect
        else:
            return None
        owner, name = self.column_owner(column, scope)
        if owner is None or name is None:
            return None
        target = self.reference_target(owner, name)
        if not isinstance(select, ast.SelectStmt) or len(select.targetList or ()) != 1 \
                or len(select.fromClause or ()) != 1 or not isinstance(select.fromClause[0], ast.RangeVar) \
                or select.whereClause is None:
            return None
        relation = select.fromClause[0]
        if relation_key(relation) != target or not isinstance(select.targetList[0].val, ast.ColumnRef) \
                or self.owned_set(select) is not None:  # the workspaces its owner owns: a role
            return None
        alias = relation_alias(relation)
        parts = conjuncts(select.whereClause)
        if len(parts) != 1 or not isinstance(parts[0], ast.A_Expr):
            return None
        sides = (parts[0].lexpr, parts[0].rexpr)
        for side, other in (sides, sides[::-1]):
            if isinstance(side, ast.ColumnRef) and column_ref_name(side)[0] in (alias, None) \
                    and auth_call(other) == "uid" and [n.sval for n in parts[0].name] == ["="]:
                return name
        return None

    def members_of(self, parts, alias: str, scope: Scope) -> frozenset[str] | None:
        """The roles a filter on the members table keeps when it pins the row's workspace."""
        workspace = False
        roles: frozenset[str] = frozenset(self.tenancy.member_roles)
        for part in parts:
            if (admitted := self.role_condition(part, alias, scope.params)) is not None:
                roles = roles & admitted
                continue
            if not isinstance(part, ast.A_Expr):
                if condition_key(part, alias) in self.tenancy.active:
                    continue
                return None
            column, other = self.member_column(part, alias)
            if column == self.tenancy.workspace_column and self.denotes_workspace(other, scope):
                workspace = True
            else:
                return None
        return roles if workspace else None
