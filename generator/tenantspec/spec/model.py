"""The validated spec as frozen dataclasses: what the renderer and the checks read.

Every name is already checked; every expression is already known to be exactly one
SQL expression. Locations point back into the YAML and take no part in equality, so
two loads of the same specs compare equal and a later diff can compare versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from tenantspec.catalog.names import sql_identifier  # noqa: F401  (the specs' names, quoted by the same rule)
from tenantspec.errors import Location

COMMANDS = ("select", "insert", "update", "delete")
NOBODY = "nobody"
OWN = "own"  # on a per-user table: the row's user, and nobody else
# Built-in levels reaching past the workspace: every signed-in user, member or not, on every
# row (a catalog all users browse); `anyone` adds anon (the API key alone: a public page).
SIGNED_IN = "signed_in"
ANYONE = "anyone"
OPEN_LEVELS = (SIGNED_IN, ANYONE)
BUILT_IN_LEVELS = (NOBODY, SIGNED_IN, ANYONE)


@dataclass(frozen=True, order=True)
class Name:
    """A schema-qualified relation or function name."""

    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def sql(self) -> str:
        """The name as SQL spells it: a part PostgreSQL would fold or misread bare
        (``COURSE_TYPE``, ``order``) double-quoted."""
        return f"{sql_identifier(self.schema)}.{sql_identifier(self.name)}"




@lru_cache(maxsize=4096)
def type_parts(type_text: str) -> tuple[str | None, str, int]:
    """``(schema or None, name, array dimensions)`` of a type as SQL writes it: a quoted part
    keeps its case (``public."LOCALE"[]``), a bare one is folded to lower case as PostgreSQL
    does; text the parser cannot read is split as written."""
    import pglast

    base, dims = type_text.strip(), 0
    while base.endswith("[]"):
        base, dims = base[:-2].strip(), dims + 1
    try:
        type_name = pglast.parse_sql(f"select null::{base}")[0].stmt.targetList[0].val.typeName
        names = [part.sval for part in type_name.names]
    except (pglast.parser.ParseError, AttributeError, IndexError):
        schema, _, name = base.rpartition(".")
        return schema or None, name, dims
    return (names[-2] if len(names) > 1 else None), names[-1], dims


@dataclass(frozen=True)
class Reference:
    """A foreign key from one column."""

    table: Name
    column: str
    on_delete: str | None
    same_workspace: bool


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    primary_key: bool
    default: str | None
    one_of: tuple[str, ...]
    comment: str | None
    references: Reference | None
    location: Location | None = field(default=None, compare=False, repr=False)
    renamed_from: str | None = None
    identity: str | None = None  # "always" or "by default": generated ... as identity
    generated: str | None = None  # generated always as (<expression>) stored
    # where each of the column's keys (type, not_null, one_of, ...) stands in its spec
    key_locations: dict[str, Location] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def locate(self, key: str) -> Location | None:
        """Where ``key`` of this column is written, else where the column is."""
        return self.key_locations.get(key, self.location)


@dataclass(frozen=True)
class Check:
    name: str
    expression: str


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool
    where: str | None
    location: Location | None = field(default=None, compare=False, repr=False)
    derived: str | None = None  # why tenantspec adds it when the spec declares none like it


@dataclass(frozen=True)
class Trigger:
    name: str
    timing: str
    events: tuple[str, ...]
    function: Name
    when: str | None = None  # a condition on old and new rows
    arguments: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()  # update of these columns only
    for_each: str = "row"  # row | statement


@dataclass(frozen=True)
class Policy:
    """A policy written by hand: its expressions are the spec's, parsed and checked like any
    SQL, and rendered as they are written."""

    name: str
    command: str  # select | insert | update | delete | all
    using: str | None
    check: str | None
    permissive: bool = True  # restrictive: every row must also pass it
    location: Location | None = field(default=None, compare=False, repr=False)


CARRIED, PARENT_IDS, EXISTS = "carried", "parent_ids", "exists"


@dataclass(frozen=True)
class Tenancy:
    """Where a row's workspace comes from: its own column, or a parent row.

    A child whose strategy is ``carried`` also holds the parent's workspace id in
    ``carried`` (a column the loader adds), which its policies test.
    """

    column: str | None = None
    parent: str | None = None
    strategy: str | None = None  # with parent: carried, parent_ids or exists
    movable: bool = False
    nullable: bool = False  # the workspace (or parent) column may be null: such a row is service_role's alone
    carried: str | None = None  # the carried workspace column of a carried child
    user: str | None = None  # the column naming the user a row belongs to
    user_parent: bool = False  # the parent belongs to a user: the row is that user's
    personal: tuple[str, ...] = ()  # commands a row's user may run on its rows of no workspace

    @property
    def per_user(self) -> bool:
        """A table of rows that belong to a user (through their own column or their parent's)
        and to no workspace."""
        return self.user_parent or (self.user is not None and self.column is None and self.parent is None)

    @property
    def workspace_column(self) -> str | None:
        """The row's own column holding its workspace, if it has one."""
        return self.column or self.carried

    @property
    def key(self) -> str:
        """The column the policies filter on."""
        return self.workspace_column or self.parent or self.user  # type: ignore[return-value]


@dataclass(frozen=True)
class Table:
    name: Name
    source: str
    comment: str | None
    columns: tuple[Column, ...]
    unique: tuple[tuple[str, ...], ...]
    checks: tuple[Check, ...]
    indexes: tuple[Index, ...]
    tenancy: Tenancy
    access: dict[str, str] = field(hash=False)  # command -> the level that may act on every row
    service_role: tuple[str, ...] = ()
    # command -> the level whose members may act on the rows naming them (tenancy.user); on a
    # per-user table, OWN: the row's user
    own_access: dict[str, str] = field(default_factory=dict, hash=False)
    policies: tuple[Policy, ...] = ()  # written by hand, beside the generated ones
    triggers: tuple[Trigger, ...] = ()
    realtime: bool = False
    location: Location | None = field(default=None, compare=False, repr=False)
    # where each top-level key (columns, access, realtime, ...) stands in the spec
    key_locations: dict[str, Location] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def locate(self, key: str) -> Location | None:
        """Where ``key`` of this spec is written, else where the table is named."""
        return self.key_locations.get(key, self.location)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def rule(self, command: str) -> str:
        """The access rule of ``command`` in words: ``member``, ``admin; own rows: member``."""
        level, own = self.access[command], self.own_level(command)
        if own == NOBODY:
            return level
        if own == OWN:
            return "own rows"
        return f"own rows: {own}" if level == NOBODY else f"{level}; own rows: {own}"

    def own_level(self, command: str) -> str:
        return self.own_access.get(command, NOBODY)

    def policy_commands(self) -> set[str]:
        """Commands a permissive hand-written policy admits rows for."""
        found = set()
        for policy in self.policies:
            if policy.permissive:
                found |= set(COMMANDS) if policy.command == "all" else {policy.command}
        return found

    @property
    def anyone_commands(self) -> tuple[str, ...]:
        """Commands the ``anyone`` level opens: what ``anon`` is granted."""
        return tuple(c for c in COMMANDS if self.access[c] == ANYONE)

    @property
    def api_commands(self) -> tuple[str, ...]:
        """Commands some level, a row's user or a hand-written policy may run through the API:
        what ``authenticated`` is granted."""
        written = self.policy_commands()
        return tuple(c for c in COMMANDS if self.access[c] != NOBODY or self.own_level(c) != NOBODY
                     or c in written or c in self.tenancy.personal)

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.primary_key)

    def parent_reference(self) -> Reference | None:
        """The foreign key a child's workspace comes through."""
        return self.column(self.tenancy.parent).references if self.tenancy.parent else None


@dataclass(frozen=True)
class ExternalTable:
    name: Name
    columns: dict[str, str] = field(hash=False)
    workspace_column: str | None = None
    # column -> value the policy tests write when they create a row (see project.schema.json)
    seed: dict[str, str | int | float | bool | None] = field(default_factory=dict, hash=False)
    # column -> the row it references: the policy tests create those rows first
    references: dict[str, Reference] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Enum:
    """An enum type: created by the migrations, or (``external``) by the app before them.
    ``renamed``: new value -> the value it was, for values the spec renames."""

    name: Name
    values: tuple[str, ...]
    external: bool = False
    renamed: tuple[tuple[str, str], ...] = ()
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ExternalFunction:
    name: Name
    arg_types: tuple[str, ...]


@dataclass(frozen=True)
class UserThrough:
    """The table a membership's user column points at when it holds no auth.users id (an
    ``accounts`` or ``identities`` row): its ``key`` the user column holds, and its
    ``user_column`` holding the auth.users id."""

    table: Name
    key: str
    user_column: str


@dataclass(frozen=True)
class Members:
    """The membership table: one row per user and workspace (or per user, ``one_per_user``).

    The role is a column; an array column when ``role_array`` (a member holds several roles);
    none at all when every member is alike (the one role the levels name). Where the column
    holds something else than the roles' names (the id of a row of a roles table, a code),
    ``role_values`` says what it holds for each role; where it is a JSON document holding the
    role, ``role_field`` says where in it. ``active`` is the condition a membership
    row holds while it counts (``is_active``, ``deleted_at is null``).
    """

    table: Name | None  # None: the token's claims alone carry the membership
    workspace_column: str | None
    user_column: str | None
    role_column: str | None
    one_per_user: bool = False  # keyed by the user: nobody belongs to two workspaces
    role_array: bool = False  # role_column holds an array of roles
    active: str | None = None  # a condition a member row holds while it counts (is_active, deleted_at is null)
    # the token carries the membership (an access token hook writes it): the claims' keys
    claim_workspace: str | None = None
    claim_role: str | None = None
    open_roles: bool = False  # role_column may hold values no level names: the level of every role tests none
    role_values: tuple[tuple[str, int | str], ...] = ()  # (role, what role_column holds for it): role_id 1 is admin
    user_through: UserThrough | None = None  # user_column holds a key of this table, not the user's id
    role_field: str | None = None  # role_column is JSON, the role the text at this dotted path in it
    sole_role: str | None = None  # one member at most holds it in a workspace (a unique index says so)

    def stored(self, role: str) -> int | str:
        """What the role column holds for ``role``: the role itself unless ``role_values`` says."""
        return dict(self.role_values).get(role, role)

    @property
    def in_token(self) -> bool:
        """The policies read the membership from the token's claims, which hold one workspace."""
        return self.claim_workspace is not None


@dataclass(frozen=True)
class TenantModel:
    """How workspaces and memberships are stored, and the access levels."""

    workspaces: Name
    members: Members
    levels: dict[str, tuple[str, ...]] = field(hash=False)
    owner_column: str | None = None  # the workspaces table's column naming its owner, who holds owner_role
    owner_role: str | None = None

    @property
    def membership_roles(self) -> tuple[str, ...]:
        """The roles a membership row holds: every role but the owner column's."""
        return tuple(role for role in self.roles if role != self.owner_role)

    @property
    def roles(self) -> tuple[str, ...]:
        """Every membership role the levels name, in the order they first appear."""
        return tuple(dict.fromkeys(role for roles in self.levels.values() for role in roles))


# Where a bucket's files lie: under a first folder named for their workspace's id, or for their
# user's id.
WORKSPACE_FOLDER, USER_FOLDER = "workspace", "user"
OWN = "own"  # a user folder's access: the signed-in user's own folder only


@dataclass(frozen=True)
class Bucket:
    """A Storage bucket and who may list and download (select), upload (insert), replace
    (update) and delete its objects: by level in the workspace the first folder names, or the
    user's own folder. A command left out is nobody's (service_role aside)."""

    id: str
    public: bool = False
    file_size_limit: int | None = None
    allowed_mime_types: tuple[str, ...] = ()
    folder: str = WORKSPACE_FOLDER
    access: dict[str, str] = field(default_factory=dict, hash=False)
    location: Location | None = field(default=None, compare=False, repr=False)  # where its access is written
    # hand-written policies on storage.objects its generated ones replace (an adopted bucket's)
    replaces: tuple[str, ...] = ()

    def rule(self, command: str) -> str:
        return self.access.get(command, NOBODY)


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    tables: tuple[str, ...]

    @property
    def filename(self) -> str:
        return f"{self.version}_{self.name}.sql"


def domain_named(domains: Mapping[Name, str], schema: str, type_text: str) -> tuple[Name | None, int]:
    """The declared domain a column type names, and how many array dimensions it adds (a
    name with no schema is looked up in ``schema``, then by name alone)."""
    qualifier, name, dims = type_parts(type_text)
    found = Name(qualifier or schema, name)
    if found in domains:
        return found, dims
    if not qualifier:
        return next((d for d in domains if d.name == name), None), dims
    return None, dims


@dataclass(frozen=True)
class Project:
    schema: str
    helper_schema: str
    tenancy: TenantModel
    external_tables: dict[Name, ExternalTable] = field(hash=False)
    external_functions: tuple[ExternalFunction, ...]
    tables: dict[str, Table] = field(hash=False)
    migrations: tuple[Migration, ...]
    source: str = "schema/project.yaml"
    enums: dict[Name, Enum] = field(default_factory=dict, hash=False)
    # domains the app created (external.domains): name -> the base type it stands for
    domains: dict[Name, str] = field(default_factory=dict, hash=False)
    buckets: dict[str, Bucket] = field(default_factory=dict, hash=False)  # storage.buckets, by id

    def base_type(self, type_text: str) -> str:
        """The type a column holds values of: a declared domain's base type (arrays kept),
        else the type as written."""
        domain, dims = domain_named(self.domains, self.schema, type_text)
        if domain is None or domain_named(self.domains, self.schema, self.domains[domain]) == (domain, 0):
            return type_text  # no domain, or one declared as standing for itself
        return self.base_type(self.domains[domain]) + "[]" * dims  # a domain over a domain: down to the type

    def enum_of(self, type_text: str) -> Enum | None:
        """The enum a column type names (an array of it too), if it names one."""
        schema, name, _ = type_parts(type_text)
        return self.enums.get(Name(schema or self.schema, name))

    def workspace_of(self, table: Name) -> str | None:
        """The column of ``table`` that holds its workspace id, if it has one."""
        if table.schema == self.schema and table.name in self.tables:
            return self.tables[table.name].tenancy.workspace_column
        ext = self.external_tables.get(table)
        return ext.workspace_column if ext else None
