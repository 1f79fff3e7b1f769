"""Who may do what, read from a schema state: grants, row-level security and policy expressions.

The reader answers, for a persona acting on a row of workspace A, whether a command is
allowed, denied, or cannot be told from the SQL. It recognises the usual ways policies test
membership: a set of the user's workspaces computed by a helper
(``workspace_id = any (array(select private.member_workspace_ids()))``), a boolean helper
(``is_workspace_member(workspace_id)``), an inline ``exists`` on the members table with a role
list, a parent row reached through a foreign key, and ``auth.uid()``/``auth.role()``
comparisons. Helper bodies are read from the functions the migrations create. What it cannot
read stays unknown, never allowed: the review and adoption say so instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from pglast import ast, enums

from tenantspec.catalog.bodies import array_elements, count_test_as_exists, function_query, test_as_exists
from tenantspec.catalog.expression import conjuncts, display_expression, string_constants, ties_column
from tenantspec.catalog.inserts import inserted_rows
from tenantspec.catalog.nodes import column_ref_name, function_name, relation_alias, walk
from tenantspec.catalog.replay import PUBLIC, Policy, SchemaState, Table, relation_key
from tenantspec.catalog.resolve import from_relations as _from_relations
from tenantspec.catalog.resolve import copy_node, qualify_columns

COMMANDS = ("select", "insert", "update", "delete")
UNGOVERNED = ("truncate", "references", "trigger")  # row-level security does not apply to these


@dataclass(frozen=True)
class TenantModel:
    """Where memberships live and which roles they carry."""

    workspaces: tuple[str, str]
    members: tuple[str, str]
    workspace_column: str
    user_column: str
    role_column: str
    roles: tuple[str, ...]
    # workspace columns of tables the migrations do not create (declared in project.yaml)
    workspace_columns: tuple[tuple[tuple[str, str], str], ...] = ()

    @classmethod
    def of(cls, project) -> TenantModel:
        """From a ``tenantspec.model.Project``."""
        tenancy = project.tenancy
        known = tuple(((name.schema, name.name), table.workspace_column)
                      for name, table in project.external_tables.items() if table.workspace_column)
        return cls((tenancy.workspaces.schema, tenancy.workspaces.name),
                   (tenancy.members.table.schema, tenancy.members.table.name),
                   tenancy.members.workspace_column, tenancy.members.user_column, tenancy.members.role_column,
                   tenancy.roles, known)


@dataclass(frozen=True)
class Persona:
    """Who acts, relative to workspace A whose row is at stake."""

    name: str
    db_role: str  # the role PostgREST switches to
    member_role: str | None = None  # role held in workspace A
    signed_in: bool = True
    owns_row: bool | None = None  # whether the row names this user (None: not asked)


def personas(tenancy: TenantModel) -> tuple[Persona, ...]:
    """Each membership role of A, a member of another workspace, a signed-in user of none,
    anon and service_role."""
    return tuple(Persona(role, "authenticated", role) for role in tenancy.roles) + (
        Persona("other_member", "authenticated"),
        Persona("outsider", "authenticated"),
        Persona("anon", "anon", signed_in=False),
        Persona("service_role", "service_role"),
    )


@dataclass(frozen=True)
class Verdict:
    allowed: bool | None  # None: the SQL does not tell
    reason: str
    own: bool = False  # allowed only on the rows naming the user

    @property
    def word(self) -> str:
        if self.allowed and self.own:
            return "own rows"
        return {True: "allowed", False: "denied", None: "unknown"}[self.allowed]


@dataclass(frozen=True)
class Truth:
    """Three-valued: a policy expression is true, false, or unreadable, and why."""

    value: bool | None
    why: str = ""


def all_of(truths: list[Truth]) -> Truth:
    if any(t.value is False for t in truths):
        return next(t for t in truths if t.value is False)
    if any(t.value is None for t in truths):
        return next(t for t in truths if t.value is None)
    return Truth(True, "; ".join(dict.fromkeys(t.why for t in truths if t.why)))


def any_of(truths: list[Truth]) -> Truth:
    if any(t.value is True for t in truths):
        return next(t for t in truths if t.value is True)
    if any(t.value is None for t in truths):
        return next(t for t in truths if t.value is None)
    return Truth(False, "; ".join(dict.fromkeys(t.why for t in truths if t.why)))


@dataclass(frozen=True)
class WorkspaceSet:
    """A set of workspace ids: those where the user holds one of ``roles``."""

    roles: frozenset[str]


@dataclass(frozen=True)
class MemberIds:
    """The user ids of the members of one workspace (the row's) with one of ``roles``."""

    roles: frozenset[str]


@dataclass(frozen=True)
class ParentIds:
    """Ids of ``parent`` rows that lie in a workspace of ``workspaces``."""

    parent: tuple[str, str]
    workspaces: WorkspaceSet


@dataclass(frozen=True)
class Scope:
    """Names a policy expression can use for rows known to lie in workspace A, and for
    arguments of the helper being read."""

    rows: dict  # alias -> table key
    unqualified: tuple[str, str] | None  # the table unqualified columns belong to
    params: dict  # parameter name or $n -> what the argument denotes ("workspace" or a column)


class AccessReader:
    """Reads ``state`` for the tenancy of ``tenancy``."""

    def __init__(self, state: SchemaState, tenancy: TenantModel):
        self._qualified: dict[int, tuple] = {}
        self.state = state
        self.tenancy = tenancy
        self.left_out: frozenset[str] = frozenset()  # policies read as if absent (see adopt_access)

    # -- the tables ----------------------------------------------------------------------

    def workspace_column(self, key: tuple[str, str]) -> str | None:
        """The column holding a row's workspace: a foreign key to the workspaces table (or the
        workspaces table's own id)."""
        if key == self.tenancy.workspaces:
            return "id"
        if key == self.tenancy.members:
            return self.tenancy.workspace_column
        table = self.state.tables.get(key)
        for fk in table.foreign_keys if table else ():
            if fk.target == self.tenancy.workspaces and len(fk.columns) == 1:
                return fk.columns[0]
        for fk in table.foreign_keys if table else ():
            # (parent_id, workspace_id) -> parent (id, workspace_id): a workspace carried from the parent
            if len(fk.columns) == 2 and fk.target != key:
                parent = self.workspace_column(fk.target)
                if parent is not None and parent in fk.target_columns:
                    return fk.columns[fk.target_columns.index(parent)]
        return dict(self.tenancy.workspace_columns).get(key)

    def reference_target(self, key: tuple[str, str], column: str) -> tuple[str, str] | None:
        table = self.state.tables.get(key)
        for fk in table.foreign_keys if table else ():
            if fk.columns == (column,):
                return fk.target
        return None

    # -- verdicts ----------------------------------------------------------------------------

    def verdict(self, key: tuple[str, str], command: str, persona: Persona) -> Verdict:
        """On a row that does not name the persona; where that is denied, allowed on the rows
        that do is ``own`` (``author_id = auth.uid()``)."""
        others = self.row_verdict(key, command, replace(persona, owns_row=False))
        if others.allowed is not False or not persona.signed_in or persona.db_role == "service_role":
            return others
        mine = self.row_verdict(key, command, replace(persona, owns_row=True))
        if mine.allowed is True:
            return Verdict(True, mine.reason, own=True)
        return others if mine.allowed is False else mine

    def row_verdict(self, key: tuple[str, str], command: str, persona: Persona) -> Verdict:
        table = self.state.tables[key]
        held = set(table.privileges.get(persona.db_role, {})) | set(table.privileges.get(PUBLIC, {}))
        if command not in held:
            return Verdict(False, f"{persona.db_role} has no {command.upper()} grant")
        if persona.db_role == "service_role":
            return Verdict(True, "service_role bypasses row-level security")
        if command in UNGOVERNED:
            return Verdict(True, f"{command.upper()} is granted and row-level security does not govern it")
        if not table.rls:
            return Verdict(True, "row-level security is off")
        truth = self.policies_truth(table, command, persona)
        # (a SELECT policy read as absent still admits what it admits: the UPDATE's own
        # policies are what a rule for it says)
        left_out_select = any(p.name in self.left_out and p.permissive and p.command in ("select", "all")
                              for p in table.policies.values())
        if command in ("update", "delete") and truth.value is not False and not left_out_select:
            seen = self.policies_truth(table, "select", persona)
            if seen.value is not True:
                truth = all_of([truth, Truth(seen.value, f"rows it filters must be visible: {seen.why}")])
        return Verdict(truth.value, truth.why)

    def applicable(self, table: Table, command: str, role: str) -> list[Policy]:
        return [p for p in table.policies.values() if p.name not in self.left_out
                and p.command in (command, "all") and (role in p.roles or PUBLIC in p.roles)]

    def unreadable(self, table: Table, policy: Policy, command: str) -> str | None:
        """What the SQL of ``policy`` leaves untold about ``command`` for some persona, if anything."""
        for persona in personas(self.tenancy):
            for owns in (False, True):
                if persona.db_role != "authenticated":
                    continue
                truth = self.policy_truth(table, policy, command, replace(persona, owns_row=owns))
                if truth.value is None:
                    return truth.why
        return None

    def policies_truth(self, table: Table, command: str, persona: Persona) -> Truth:
        policies = self.applicable(table, command, persona.db_role)
        permissive = [p for p in policies if p.permissive]
        if not permissive:
            return Truth(False, f"no {command} policy applies to {persona.db_role}")
        found = any_of([self.policy_truth(table, p, command, persona) for p in permissive])
        restrictive = [self.policy_truth(table, p, command, persona) for p in policies if not p.permissive]
        return all_of([found] + restrictive) if restrictive else found

    def policy_truth(self, table: Table, policy: Policy, command: str, persona: Persona) -> Truth:
        expressions = {
            "select": [policy.using], "delete": [policy.using],
            "insert": [policy.check if policy.check is not None else policy.using],
            "update": [policy.using, policy.check if policy.check is not None else policy.using],
        }[command]
        truths = []
        for expression in expressions:
            if expression is None:
                truths.append(Truth(False, f"policy {policy.name!r} has no expression for {command}"))
                continue
            truth = self.truth(self.qualified(expression, table), self.row_scope(table), persona)
            truths.append(Truth(truth.value, f"policy {policy.name!r}: {truth.why}" if truth.why else
                                f"policy {policy.name!r}"))
        return all_of(truths)

    def qualified(self, node, table: Table | None):
        """``node`` with every unqualified column inside a subquery named after the relation
        PostgreSQL resolves it to (the innermost FROM item that has the column), so that
        ``exists (select 1 from members where org_id = invites.org_id and user_id = auth.uid())``
        reads like its qualified spelling. Computed once per expression."""
        cached = self._qualified.get(id(node))
        if cached is not None and cached[0] is node:
            return cached[1]
        outer = [[(table.name, set(table.columns))]] if table is not None else []
        copy = qualify_columns(copy_node(node), self.state, outer, top=True)
        self._qualified[id(node)] = (node, copy)
        return copy

    def row_scope(self, table: Table) -> Scope:
        key = (table.schema, table.name)
        return Scope({table.name: key}, key, {})

    # -- expressions ------------------------------------------------------------------------

    def truth(self, node, scope: Scope, persona: Persona) -> Truth:
        if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Boolean):
            return Truth(node.val.boolval, "true" if node.val.boolval else "false")
        if isinstance(node, ast.TypeCast) and isinstance(node.arg, ast.A_Const) \
                and node.typeName.names[-1].sval == "bool" and isinstance(node.arg.val, ast.String):
            value = node.arg.val.sval.lower() in ("t", "true", "yes", "on", "1")
            return Truth(value, str(value).lower())
        if isinstance(node, ast.BoolExpr):
            parts = [self.truth(arg, scope, persona) for arg in node.args]
            if node.boolop == enums.BoolExprType.AND_EXPR:
                return all_of(parts)
            if node.boolop == enums.BoolExprType.OR_EXPR:
                return any_of(parts)
            inner = parts[0]
            return Truth(None if inner.value is None else not inner.value, f"not ({inner.why})")
        if isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP \
                and [n.sval for n in node.name] in (["="], ["<>"], ["!="]):
            for side, other in ((node.lexpr, node.rexpr), (node.rexpr, node.lexpr)):
                if isinstance(other, ast.A_Const) and isinstance(other.val, ast.Boolean):
                    inner = self.truth(side, scope, persona)  # is_member(ws) = true
                    if (node.name[0].sval == "=") == other.val.boolval or inner.value is None:
                        return inner
                    return Truth(not inner.value, f"not ({inner.why})")
        if isinstance(node, ast.NullTest) and _auth_call(node.arg) == "uid":  # auth.uid() is not null
            value = persona.signed_in == (node.nulltesttype == enums.NullTestType.IS_NOT_NULL)
            return Truth(value, "signed in" if persona.signed_in else "auth.uid() is null for anon")
        if persona.owns_row is not None and (column := self.parent_owned(node, scope)) is not None:
            return Truth(persona.owns_row, f"rows whose {column} is one of the user's" if persona.owns_row
                         else f"only rows whose {column} is one of the user's")
        membership = self.membership(node, scope)
        if membership is not None:
            return self.member_truth(membership, persona)
        if self.ties_references(node, scope):
            return Truth(True, "")  # a same-workspace tie holds for rows within one workspace
        if any(_auth_call(child) == "jwt" for child, _ in walk(node)):
            return Truth(None, f"{display_expression(node)} tests a claim of the user's token (auth.jwt()) "
                               "instead of a membership")
        if isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP:
            return self.comparison(node, persona)
        return Truth(None, f"cannot read {display_expression(node)}")

    def member_truth(self, roles: frozenset[str], persona: Persona) -> Truth:
        names = ", ".join(role for role in self.tenancy.roles if role in roles)
        if persona.member_role is not None and persona.member_role in roles:
            return Truth(True, f"members of the row's workspace with role {names}")
        return Truth(False, f"only members of the row's workspace with role {names}")

    def comparison(self, node: ast.A_Expr, persona: Persona) -> Truth:
        """``auth.role() = 'authenticated'`` and ``auth.uid() = user_id`` style tests."""
        sides = [node.lexpr, node.rexpr]
        calls = [_auth_call(side) for side in sides]
        if "role" in calls:
            other = sides[1 - calls.index("role")]
            if isinstance(other, ast.A_Const) and isinstance(other.val, ast.String):
                value = persona.db_role == other.val.sval
                return Truth(value, f"auth.role() = {other.val.sval!r}")
        if "uid" in calls:
            if not persona.signed_in:
                return Truth(False, "auth.uid() is null for anon")
            other = sides[1 - calls.index("uid")]
            column = _column(other) if isinstance(other, ast.ColumnRef) else None
            if column is not None and persona.owns_row is not None:
                return Truth(persona.owns_row, f"rows whose {column} is the user" if persona.owns_row
                             else f"only rows whose {column} is the user")
            return Truth(None, "depends on which user the row names (auth.uid())")
        return Truth(None, f"cannot read {display_expression(node)}")

    def membership(self, node, scope: Scope) -> frozenset[str] | None:
        """The roles a membership test admits, when ``node`` is one."""
        # col = any (array(select ...)) / col in (select ...)
        if isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP_ANY \
                and isinstance(node.rexpr, ast.SubLink) and node.rexpr.subLinkType == enums.SubLinkType.ARRAY_SUBLINK:
            return self.in_set(node.lexpr, self.set_of(node.rexpr.subselect, scope), scope)
        if isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP_ANY \
                and isinstance(node.rexpr, ast.FuncCall):  # col = any (helper_returning_an_array())
            return self.in_set(node.lexpr, self.helper_set(node.rexpr, scope, elements=True), scope)
        if isinstance(node, ast.SubLink) and node.subLinkType == enums.SubLinkType.ANY_SUBLINK \
                and node.testexpr is not None:
            return self.in_set(node.testexpr, self.set_of(node.subselect, scope), scope)
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

    def scalar_helper_test(self, node, scope: Scope) -> frozenset[str] | None:
        """``get_role(org_id) in ('owner', 'admin')``, ``get_role(org_id) is not null``: a test
        of what a helper selects from the members table, read as the membership it amounts to."""
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

    def in_set(self, expression, found, scope: Scope) -> frozenset[str] | None:
        if isinstance(found, WorkspaceSet) and self.denotes_workspace(expression, scope):
            return found.roles
        if isinstance(found, MemberIds) and _auth_call(expression) == "uid":
            return found.roles  # auth.uid() in (the ids of the row's workspace's members)
        if isinstance(found, ParentIds) and isinstance(expression, ast.ColumnRef):
            owner, column = self.column_owner(expression, scope)
            if owner is not None and self.reference_target(owner, column) == found.parent:
                return found.workspaces.roles
        return None

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
        members = [(alias, key) for alias, key in relations if key == self.tenancy.members]
        others = [(alias, key) for alias, key in relations if key != self.tenancy.members]
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
            mine = [i for i, part in enumerate(parts) if i not in used and _mentions(part, alias)]
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
            if not _mentions(part, alias):
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
            elif (values := _constant_strings(other)) is not None or \
                    isinstance(values := _bound(other, scope.params), frozenset):
                filters[column_ref_name(mine[0])[1]] = values
            else:
                return None
            used.add(i)
        if joined is None or not filters:
            return None
        rows = inserted_rows(self.state, key)
        roles = frozenset(row[joined] for row in rows if isinstance(row.get(joined), str)
                          and all(row.get(column) in values for column, values in filters.items()))
        return roles, used

    def members_filter(self, parts, inner: Scope, alias: str, outer: Scope) -> frozenset[str] | None:
        """The roles a filter on the members table admits, if it pins the user and workspace A."""
        user = workspace = False
        roles: frozenset[str] = frozenset(self.tenancy.roles)
        for part in parts:
            if (admitted := self.role_condition(part, alias, outer.params)) is not None:
                roles = roles & admitted
                continue
            if not isinstance(part, ast.A_Expr):
                return None
            column, other = self.member_column(part, alias)
            if column == self.tenancy.user_column and (_auth_call(other) == "uid" or _bound(other, outer.params) == "uid"):
                user = True  # m.user_id = auth.uid(), or a parameter the call passes auth.uid() to
            elif column == self.tenancy.workspace_column and self.denotes_workspace(other, outer):
                workspace = True
            else:
                return None
        return roles if user and workspace else None

    def role_condition(self, part, alias: str, params: dict | None) -> frozenset[str] | None:
        """The roles a condition on the members' role column admits: ``m.role in (...)`` and
        its other spellings, ``(m.role = 'a' or m.role = 'b')``, ``(m.role = p or p is null)``
        (a role parameter, null meaning any role), ``m.role is not null``; None when it is no
        condition on the role."""
        if isinstance(part, ast.BoolExpr) and part.boolop == enums.BoolExprType.OR_EXPR:
            return self.role_choice(part, alias, params or {})
        if isinstance(part, ast.NullTest) and part.nulltesttype == enums.NullTestType.IS_NOT_NULL \
                and isinstance(part.arg, ast.ColumnRef) and column_ref_name(part.arg)[0] in (alias, None) \
                and column_ref_name(part.arg)[1] == self.tenancy.role_column:
            return frozenset(self.tenancy.roles)
        if isinstance(part, ast.A_Expr) and self.member_column(part, alias)[0] == self.tenancy.role_column:
            return _string_values(part, params, self.tenancy.roles)
        return None

    def member_column(self, part: ast.A_Expr, alias: str) -> tuple[str | None, object]:
        """The members-table column a comparison tests, and the expression it is compared with."""
        for side, other in ((part.lexpr, part.rexpr), (part.rexpr, part.lexpr)):
            if isinstance(side, ast.ColumnRef):
                qualifier, column = column_ref_name(side)
                if qualifier in (alias, None) and column in (self.tenancy.user_column, self.tenancy.workspace_column,
                                                              self.tenancy.role_column):
                    return column, other
        return None, None

    def role_choice(self, part: ast.BoolExpr, alias: str, params: dict) -> frozenset[str] | None:
        """The roles ``(m.role = p or p is null)`` admits with its parameter bound: a null
        parameter admits every role."""
        admitted: frozenset[str] = frozenset()
        for arm in part.args:
            if isinstance(arm, ast.NullTest) and (bound := _bound(arm.arg, params)) is not None:
                is_null = bound is NULL
                if is_null == (arm.nulltesttype == enums.NullTestType.IS_NULL):
                    return frozenset(self.tenancy.roles)
                continue
            if isinstance(arm, ast.A_Expr) and (_bound(arm.rexpr, params) is NULL or _bound(arm.lexpr, params) is NULL):
                continue  # role = null: never true
            values = self.role_condition(arm, alias, params)
            if values is None:
                return None
            admitted |= values
        return admitted

    # -- helpers' bodies ------------------------------------------------------------------------

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

    def set_of(self, select, scope: Scope | None = None):
        """What ``select`` returns: a set of the user's workspaces, parent ids, the ids of the
        row's workspace's members (``scope``: what names the row), or unknown."""
        if not isinstance(select, ast.SelectStmt) or len(select.targetList or ()) != 1:
            return None
        value = select.targetList[0].val
        if not select.fromClause and isinstance(value, ast.FuncCall):
            return self.helper_set(value, scope)
        if len(select.fromClause or ()) == 1 and isinstance(select.fromClause[0], ast.RangeFunction):
            call = select.fromClause[0].functions[0][0]
            return self.helper_set(call, scope) if isinstance(call, ast.FuncCall) else None
        if (through := self.tenants_joined(select)) is not None:
            return through
        if len(select.fromClause or ()) != 1 or not isinstance(select.fromClause[0], ast.RangeVar):
            return None
        relation = select.fromClause[0]
        key, alias = relation_key(relation), relation_alias(relation)
        if not isinstance(value, ast.ColumnRef):
            return None
        qualifier, column = column_ref_name(value)
        parts = conjuncts(select.whereClause) if select.whereClause is not None else []
        if key == self.tenancy.members and column == self.tenancy.workspace_column:
            return self.members_set(parts, alias)
        if key == self.tenancy.members and column == self.tenancy.user_column and scope is not None:
            # select m.user_id from members m where m.workspace_id = <the row's> [and m.role ...]
            roles = self.members_of(parts, alias, scope)
            return MemberIds(roles) if roles is not None else None
        workspace = self.workspace_column(key)
        if workspace is None:
            return None
        for part in parts if len(parts) == 1 else ():
            if isinstance(part, ast.A_Expr) and part.kind == enums.A_Expr_Kind.AEXPR_OP_ANY \
                    and isinstance(part.rexpr, ast.SubLink) and _column(part.lexpr) == workspace:
                inner = self.set_of(part.rexpr.subselect)
            elif isinstance(part, ast.SubLink) and part.subLinkType == enums.SubLinkType.ANY_SUBLINK \
                    and _column(part.testexpr) == workspace:
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
                {self.tenancy.workspaces, self.tenancy.members}:
            return None
        tenant = next(alias for alias, key in relations if key == self.tenancy.workspaces)
        member = next(alias for alias, key in relations if key == self.tenancy.members)
        pair = {(member, self.tenancy.workspace_column), (tenant, self.workspace_column(self.tenancy.workspaces) or "id")}
        parts = joins + (conjuncts(select.whereClause) if select.whereClause is not None else [])
        tie = next((i for i, part in enumerate(parts) if isinstance(part, ast.A_Expr) and part.name[0].sval == "="
                    and all(isinstance(side, ast.ColumnRef) for side in (part.lexpr, part.rexpr))
                    and {column_ref_name(part.lexpr), column_ref_name(part.rexpr)} == pair), None)
        value = select.targetList[0].val
        if tie is None or not isinstance(value, ast.ColumnRef) or column_ref_name(value) not in pair:
            return None
        return self.members_set([p for i, p in enumerate(parts) if i != tie], member)

    def members_set(self, parts, alias: str) -> WorkspaceSet | None:
        user = False
        roles = frozenset(self.tenancy.roles)
        for part in parts:
            if (admitted := self.role_condition(part, alias, None)) is not None:
                roles = roles & admitted
                continue
            if not isinstance(part, ast.A_Expr):
                return None
            column, other = self.member_column(part, alias)
            if column == self.tenancy.user_column and _auth_call(other) == "uid":
                user = True
            else:
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
        if relation_key(relation) != target or not isinstance(select.targetList[0].val, ast.ColumnRef):
            return None
        alias = relation_alias(relation)
        parts = conjuncts(select.whereClause)
        if len(parts) != 1 or not isinstance(parts[0], ast.A_Expr):
            return None
        sides = (parts[0].lexpr, parts[0].rexpr)
        for side, other in (sides, sides[::-1]):
            if isinstance(side, ast.ColumnRef) and column_ref_name(side)[0] in (alias, None) \
                    and _auth_call(other) == "uid" and [n.sval for n in parts[0].name] == ["="]:
                return name
        return None

    def members_of(self, parts, alias: str, scope: Scope) -> frozenset[str] | None:
        """The roles a filter on the members table keeps when it pins the row's workspace."""
        workspace = False
        roles: frozenset[str] = frozenset(self.tenancy.roles)
        for part in parts:
            if (admitted := self.role_condition(part, alias, scope.params)) is not None:
                roles = roles & admitted
                continue
            if not isinstance(part, ast.A_Expr):
                return None
            column, other = self.member_column(part, alias)
            if column == self.tenancy.workspace_column and self.denotes_workspace(other, scope):
                workspace = True
            else:
                return None
        return roles if workspace else None

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
            if _is_null(argument):
                bound: object = NULL
            elif _auth_call(argument) == "uid":
                bound = "uid"  # has_permission(auth.uid(), account_id, 'invites.manage')
            elif self.denotes_workspace(argument, scope):
                bound = "workspace"
            elif (values := _constant_strings(argument)) is not None:
                bound = values
            else:
                return None
            params[f"${position}"] = bound
            if position <= len(arg_names) and arg_names[position - 1]:
                params[arg_names[position - 1]] = bound
                params[f"{name}.{arg_names[position - 1]}"] = bound  # has_role.account_id
        return params

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
        return self.membership(body.targetList[0].val, Scope({}, None, params))

    # -- same-workspace ties ------------------------------------------------------------------

    def ties_references(self, node, scope: Scope) -> bool:
        """``(select r.workspace_id from target r where r.id = row.col) = <the row's workspace>``."""
        if not (isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP
                and [n.sval for n in node.name] == ["="]):
            return False
        return all(self.denotes_workspace(side, scope) for side in (node.lexpr, node.rexpr))

    def reference_tied(self, table: Table, column: str, command: str, persona: Persona) -> bool:
        """Whether the policies that let ``persona`` write keep ``column`` within one workspace."""
        key = (table.schema, table.name)
        target = self.reference_target(key, column)
        for fk in table.foreign_keys:
            workspace = self.workspace_column(key)
            if column in fk.columns and workspace in fk.columns and fk.target == target:
                return True  # a composite key through the workspace column
        policies = self.applicable(table, command, persona.db_role)
        checks = [p.check if p.check is not None else p.using for p in policies]
        restrictive = [c for p, c in zip(policies, checks) if not p.permissive and c is not None]
        if any(ties_column(c, table, column) for c in restrictive):
            return True
        permissive = [c for p, c in zip(policies, checks) if p.permissive and c is not None
                      and self.truth(c, self.row_scope(table), persona).value is not False]
        return bool(permissive) and all(ties_column(c, table, column) for c in permissive)


def _auth_call(node) -> str | None:
    """``uid`` / ``role`` / ``jwt`` for ``auth.uid()`` and friends, also as ``(select auth.uid())``."""
    if isinstance(node, ast.SubLink) and node.subLinkType == enums.SubLinkType.EXPR_SUBLINK:
        select = node.subselect
        if isinstance(select, ast.SelectStmt) and len(select.targetList or ()) == 1 and not select.fromClause:
            return _auth_call(select.targetList[0].val)
    if isinstance(node, ast.TypeCast):
        return _auth_call(node.arg)
    if isinstance(node, ast.FuncCall):
        schema, name = function_name(node)
        if schema == "auth" and name in ("uid", "role", "jwt", "email"):
            return name
    return None


def _mentions(node, alias: str) -> bool:
    return any(isinstance(child, ast.ColumnRef) and column_ref_name(child)[0] == alias for child, _ in walk(node))


def _bound(node, params: dict):
    """What a helper's parameter (``$2`` or its name) is bound to, if ``node`` is one."""
    if isinstance(node, ast.ParamRef):
        return params.get(f"${node.number}")
    if isinstance(node, ast.ColumnRef):
        qualifier, column = column_ref_name(node)
        return params.get(column if qualifier is None else f"{qualifier}.{column}")
    return None


NULL = object()  # a helper's parameter bound to NULL (its default, say)


def _is_null(node) -> bool:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return isinstance(node, ast.A_Const) and node.isnull


def _column(node) -> str | None:
    return column_ref_name(node)[1] if isinstance(node, ast.ColumnRef) else None


def _constant_strings(node) -> frozenset[str] | None:
    """``array['a', 'b']`` (casts allowed) as a set of strings."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        return frozenset({node.val.sval})  # has_role(account_id, 'owner')
    if not isinstance(node, ast.A_ArrayExpr):
        return None
    values = string_constants(node.elements or ())
    return None if values is None else frozenset(values)


def _string_values(part: ast.A_Expr, params: dict | None, roles: tuple[str, ...]) -> frozenset[str] | None:
    """The roles a test of the role column admits: ``col in ('a', 'b')``, ``col = any (array['a',
    'b'])``, ``col = 'a'``, ``col = any (roles)`` where the helper's parameter ``roles`` is bound to
    constants, and their negations (``col <> 'a'``, ``col not in (...)``, ``col <> all (...)``),
    which admit the other ``roles`` (the column holds no value but those)."""
    kind, operator = part.kind, part.name[0].sval
    negated = operator in ("<>", "!=")
    if kind == enums.A_Expr_Kind.AEXPR_OP_ANY and operator != "=" or \
            kind == enums.A_Expr_Kind.AEXPR_OP_ALL and not negated or \
            kind == enums.A_Expr_Kind.AEXPR_OP and operator not in ("=", "<>", "!="):
        return None
    values = _compared_strings(part, params or {})
    if values is None:
        return None
    return frozenset(roles) - values if negated else values


def _array_literal(node) -> frozenset[str] | None:
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


def _compared_strings(part: ast.A_Expr, params: dict) -> frozenset[str] | None:
    kind = part.kind
    listed = (enums.A_Expr_Kind.AEXPR_OP_ANY, enums.A_Expr_Kind.AEXPR_OP_ALL)
    if kind in listed and isinstance(bound := _bound(part.rexpr, params), frozenset):
        return bound
    if kind == enums.A_Expr_Kind.AEXPR_OP:
        for side in (part.rexpr, part.lexpr):
            if isinstance(found := _bound(side, params), frozenset):
                return found
    if kind == enums.A_Expr_Kind.AEXPR_IN and isinstance(part.rexpr, (tuple, list)):
        items = part.rexpr
    elif kind in listed and isinstance(part.rexpr, ast.A_ArrayExpr):
        items = part.rexpr.elements or ()
    elif kind in listed and (literal := _array_literal(part.rexpr)) is not None:
        return literal  # role = any ('{owner,admin}'::text[])
    elif kind == enums.A_Expr_Kind.AEXPR_OP:
        items = [s for s in (part.lexpr, part.rexpr) if not isinstance(s, ast.ColumnRef)]
    else:
        return None
    values = string_constants(items)
    return None if values is None else frozenset(values)


def access_matrix(state: SchemaState, tenancy: TenantModel, tables: list[tuple[str, str]]) -> dict:
    """``{(table, command, persona): Verdict}`` for the tables, the four API commands and the
    privileges row-level security does not govern, plus ``{(table, "insert <col>", persona)}``
    cells for references that may point into another workspace."""
    reader = AccessReader(state, tenancy)
    cells = {}
    for key in tables:
        table = state.tables.get(key)
        if table is None or table.external:
            continue
        for persona in personas(tenancy):
            for command in COMMANDS + UNGOVERNED:
                cells[(key[1], command, persona.name)] = reader.verdict(key, command, persona)
            if persona.db_role == "service_role":
                continue  # it bypasses row-level security: every reference is its own business
            for column, command in reference_cells(reader, table):
                verdict = cells[(key[1], command, persona.name)]
                if verdict.allowed:
                    tied = reader.reference_tied(table, column, command, persona)
                    verdict = Verdict(not tied, "the policy ties it to the row's workspace" if tied else
                                      "nothing ties it to the row's workspace")
                cells[(key[1], f"{command}: {column} -> another workspace's row", persona.name)] = verdict
    return cells


def reference_cells(reader: AccessReader, table: Table) -> list[tuple[str, str]]:
    """``(column, command)`` for each foreign key into another table whose rows belong to a
    workspace (not the row's own workspace column)."""
    key = (table.schema, table.name)
    found = []
    own = reader.workspace_column(key)
    for fk in table.foreign_keys:
        if len(fk.columns) != 1 or fk.columns[0] == own:
            continue
        if reader.workspace_column(fk.target) is not None:
            found += [(fk.columns[0], "insert"), (fk.columns[0], "update")]
    return found
