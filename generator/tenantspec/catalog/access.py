"""Who may do what, read from a schema state: grants, row-level security and policy expressions.

The reader answers, for a persona acting on a row of workspace A, whether a command is
allowed, denied, or cannot be told from the SQL. It recognises the usual ways policies test
membership (``tenantspec.catalog.membership``): a set of the user's workspaces computed by a
helper (``workspace_id = any (array(select private.member_workspace_ids()))``), a boolean
helper (``is_workspace_member(workspace_id)``), an inline ``exists`` on the members table with
a role list, a parent row reached through a foreign key, and ``auth.uid()``/``auth.role()``
comparisons. Helper bodies are read from the functions the migrations create. What it cannot
read stays unknown, never allowed: the review and adoption say so instead of guessing.
"""

from __future__ import annotations

from dataclasses import replace

from pglast import ast, enums

from tenantspec.catalog.builtins import platform_call
from tenantspec.catalog.expression import display_expression, ties_column
from tenantspec.catalog.membership import MembershipReader
from tenantspec.catalog.nodes import function_name, walk
from tenantspec.catalog.resolve import copy_node, qualify_columns
from tenantspec.catalog.sql_values import auth_call, column_of
from tenantspec.catalog.state import PUBLIC, Policy, SchemaState, Table
from tenantspec.catalog.verdicts import (  # noqa: F401  (the reader's vocabulary, re-exported)
    COMMANDS,
    UNGOVERNED,
    Persona,
    Scope,
    TenantModel,
    Truth,
    Verdict,
    all_of,
    any_of,
    personas,
)


class AccessReader(MembershipReader):
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
        for fk in table.foreign_keys if table else ():
            # (parent_id, org_id) -> parent (id, org_id): parent_id alone names the parent row
            target = self.state.tables.get(fk.target)
            if column in fk.columns and target is not None \
                    and (fk.target_columns[fk.columns.index(column)],) == target.primary_key:
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
        if isinstance(node, ast.SubLink) and node.subLinkType == enums.SubLinkType.EXPR_SUBLINK \
                and isinstance(node.subselect, ast.SelectStmt) and not node.subselect.fromClause \
                and node.subselect.whereClause is None and len(node.subselect.targetList or ()) == 1:
            # (select is_member(org_id)): the call, evaluated once per statement
            return self.truth(node.subselect.targetList[0].val, scope, persona)
        if isinstance(node, ast.BooleanTest) and node.booltesttype == enums.BoolTestType.IS_TRUE:
            return self.truth(node.arg, scope, persona)  # is_member(ws) is true: a null denies either way
        if isinstance(node, ast.CoalesceExpr) and len(node.args) == 2 and isinstance(node.args[1], ast.A_Const) \
                and isinstance(node.args[1].val, ast.Boolean) and not node.args[1].val.boolval:
            return self.truth(node.args[0], scope, persona)  # coalesce(is_member(ws), false)
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
        if isinstance(node, ast.NullTest) and auth_call(node.arg) == "uid":  # auth.uid() is not null
            value = persona.signed_in == (node.nulltesttype == enums.NullTestType.IS_NOT_NULL)
            return Truth(value, "signed in" if persona.signed_in else "auth.uid() is null for anon")
        if isinstance(node, ast.NullTest) and isinstance(node.arg, ast.ColumnRef) \
                and (owner := self.column_owner(node.arg, scope))[0] == scope.unqualified \
                and owner[1] is not None and owner[1] == self.workspace_column(owner[0]):
            # the row's workspace column: null on a personal row, workspace A's id on the others
            value = persona.personal_row == (node.nulltesttype == enums.NullTestType.IS_NULL)
            return Truth(value, "rows of no workspace" if persona.personal_row else "rows of a workspace")
        if persona.owns_row is not None and (column := self.parent_owned(node, scope)) is not None:
            return Truth(persona.owns_row, f"rows whose {column} is one of the user's" if persona.owns_row
                         else f"only rows whose {column} is one of the user's")
        if (claimed := self.token_test(node, scope)) is not None:
            scoped, roles = claimed
            if scoped or not persona.signed_in:
                return self.member_truth(roles, persona)
            if persona.member_role is None:  # which role the token names in another workspace
                return Truth(None, "the role claim of a token naming another workspace")
            return Truth(persona.member_role in roles, f"the token's role is one of {', '.join(sorted(roles))}")
        membership = self.membership(node, scope)
        if membership is not None:
            return self.member_truth(membership, persona)
        if self.ties_references(node, scope):
            return Truth(True, "")  # a same-workspace tie holds for rows within one workspace
        if any(auth_call(child) == "jwt" for child, _ in walk(node)):
            return Truth(None, f"{display_expression(node)} tests a claim of the user's token (auth.jwt()) "
                               "instead of a membership")
        if isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP:
            return self.comparison(node, persona)
        return Truth(None, f"cannot read {display_expression(node)}{self.unread_calls(node)}")

    def unread_calls(self, node) -> str:
        """Why a call in ``node`` cannot be read, when the cause is a function whose body the
        reader does not have: created in no file it replays, or written in a way it does not
        read. Empty when no such call is there."""
        for child, _ in walk(node):
            if not isinstance(child, ast.FuncCall):
                continue
            schema, name = function_name(child)
            if platform_call(schema, name):
                continue
            key = (schema or "public", name)
            if key in self.bodies:
                continue
            if not any((f.schema, f.name) == key for f in self.state.functions.values()):
                return (f": {key[0]}.{name}() is created in no file tenantspec reads; put the SQL that creates "
                        "it in the baseline (tests/baseline.sql, or tenantspec_baseline in pytest.ini) so its "
                        "test can be read (external.functions only says that it exists)")
            return f": the body of {key[0]}.{name}() is not one tenantspec reads"
        return ""

    def member_truth(self, roles: frozenset[str], persona: Persona) -> Truth:
        if persona.personal_row:
            return Truth(False, "a row of no workspace has no members")
        names = ", ".join(role for role in self.tenancy.roles if role in roles)
        if persona.member_role is not None and persona.member_role in roles:
            return Truth(True, f"members of the row's workspace with role {names}")
        return Truth(False, f"only members of the row's workspace with role {names}")

    def comparison(self, node: ast.A_Expr, persona: Persona) -> Truth:
        """``auth.role() = 'authenticated'`` and ``auth.uid() = user_id`` style tests."""
        sides = [node.lexpr, node.rexpr]
        calls = [auth_call(side) for side in sides]
        if "role" in calls:
            other = sides[1 - calls.index("role")]
            if isinstance(other, ast.A_Const) and isinstance(other.val, ast.String):
                value = persona.db_role == other.val.sval
                return Truth(value, f"auth.role() = {other.val.sval!r}")
        if "uid" in calls:
            if not persona.signed_in:
                return Truth(False, "auth.uid() is null for anon")
            other = sides[1 - calls.index("uid")]
            column = column_of(other) if isinstance(other, ast.ColumnRef) else None
            if column is not None and persona.owns_row is not None:
                return Truth(persona.owns_row, f"rows whose {column} is the user" if persona.owns_row
                             else f"only rows whose {column} is the user")
            return Truth(None, "depends on which user the row names (auth.uid())")
        return Truth(None, f"cannot read {display_expression(node)}")

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
            if (moving := reader.workspace_column(key)) is not None and moving in table.columns:
                cells[(key[1], MOVE, persona.name)] = move_verdict(table, moving, cells[(key[1], "update", persona.name)])
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


MOVE = "update: a row moved to another workspace"  # (by a user who may update rows in both)
GUARD_FUNCTION = "refuse_workspace_move"  # tenantspec's BEFORE UPDATE guard of a row's workspace


def move_verdict(table: Table, column: str, update: Verdict) -> Verdict:
    """Whether a row's workspace column may change: as its update, unless a BEFORE UPDATE
    trigger of tenantspec's refuses every API role that change (service_role included)."""
    guard = next((t for t in table.triggers.values() if t.function[1] == GUARD_FUNCTION and t.timing == "before"
                  and "update" in t.events), None)
    if guard is not None:
        return Verdict(False, f"trigger {guard.name} refuses a change of {column}")
    return update


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
