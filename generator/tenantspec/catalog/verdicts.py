"""What the access reader answers with, and the people it answers for: the tenancy a schema
is read for, the personas acting on a row of workspace A, three-valued truths and verdicts,
and the sets a membership test can compute."""

from __future__ import annotations

from dataclasses import dataclass

import pglast

from tenantspec.catalog.expression import conjuncts
from tenantspec.catalog.sql_values import condition_key

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
    role_array: bool = False  # role_column holds an array of roles
    active: tuple[str, ...] = ()  # the conjuncts a member row that counts holds (condition_key)
    claim_workspace: str | None = None  # the token's claim holding the user's workspace
    claim_role: str | None = None  # and the role there
    owner_column: str | None = None  # the workspaces table's column naming the user who holds owner_role
    owner_role: str | None = None
    role_values: tuple[tuple[str, str], ...] = ()  # (what role_column holds, as text; the role): ("1", "admin")
    # user_column holds the key of a row of this table, whose column holds the user's id: (table, key, column)
    user_through: tuple[tuple[str, str], str, str] | None = None
    role_field: str | None = None  # role_column is JSON and the role the text at this dotted path

    @property
    def member_roles(self) -> tuple[str, ...]:
        """The roles a membership (a row, or the token's claims) holds: all but the owner's."""
        return tuple(role for role in self.roles if role != self.owner_role)

    @classmethod
    def of(cls, project) -> TenantModel:
        """From a ``tenantspec.spec.model.Project``."""
        tenancy = project.tenancy
        known = tuple(((name.schema, name.name), table.workspace_column)
                      for name, table in project.external_tables.items() if table.workspace_column)
        members = tenancy.members.table
        return cls((tenancy.workspaces.schema, tenancy.workspaces.name),
                   (members.schema, members.name) if members else ("", ""),  # ("", ""): no members table
                   tenancy.members.workspace_column or "", tenancy.members.user_column or "", tenancy.members.role_column,
                   tenancy.roles, known, tenancy.members.role_array, active_keys(tenancy.members.active),
                   tenancy.members.claim_workspace, tenancy.members.claim_role,
                   tenancy.owner_column, tenancy.owner_role,
                   tuple((str(value), role) for role, value in tenancy.members.role_values),
                   _through(tenancy.members.user_through), tenancy.members.role_field)


def _through(through) -> tuple[tuple[str, str], str, str] | None:
    return None if through is None else ((through.table.schema, through.table.name), through.key, through.user_column)


def active_keys(active: str | None) -> tuple[str, ...]:
    """``members.active`` as the keys of its conjuncts (``condition_key``)."""
    if not active:
        return ()
    node = pglast.parse_sql(f"select {active}")[0].stmt.targetList[0].val
    return tuple(condition_key(part) for part in conjuncts(node))


@dataclass(frozen=True)
class Persona:
    """Who acts, relative to workspace A whose row is at stake."""

    name: str
    db_role: str  # the role PostgREST switches to
    member_role: str | None = None  # role held in workspace A
    signed_in: bool = True
    owns_row: bool | None = None  # whether the row names this user (None: not asked)
    personal_row: bool = False  # the row has no workspace (a personal row), not workspace A


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
