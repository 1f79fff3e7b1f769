"""What exists: the schema state a folder of migrations builds (tables, columns, constraints,
indexes, policies, functions, views, schemas, grants and default privileges), as the planner,
the linter and adoption all read it. ``tenantspec.catalog.replay`` builds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from pglast import ast

from tenantspec.catalog.nodes import function_body
from tenantspec.catalog.source import Statement
from tenantspec.errors import Location

# Default-privilege regimes of Supabase projects: before 2026-05-30 new public tables and
# functions were granted ALL to the API roles ("legacy"); since then nothing ("restricted").
LEGACY = "legacy"
RESTRICTED = "restricted"

TABLE_PRIVILEGES = ("select", "insert", "update", "delete", "truncate", "references", "trigger")
FUNCTION_PRIVILEGES = ("execute",)
SCHEMA_PRIVILEGES = ("usage", "create")
API_ROLES = ("anon", "authenticated", "service_role")
PUBLIC = "public"  # the PUBLIC pseudo-role, every role is a member
DEFAULT_SCHEMA = "public"


class GuardedConflict(Exception):
    """A statement inside a DO block that PostgreSQL would refuse: its guard kept it from running."""


@dataclass
class EnumType:
    schema: str
    name: str
    values: list[str] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class Origin:
    """The statement that brought something about, and where inside it: ``offset`` is a
    pglast node location (``None``: the statement's start)."""

    statement: Statement
    offset: int | None = None

    @property
    def location(self) -> Location:
        statement = self.statement
        if self.offset is None or self.offset < 0 or statement.built is not None:
            return statement.file.location(statement.start)  # (SQL an EXECUTE built: at its block)
        return statement.file.location(statement.base + self.offset)


@dataclass(frozen=True)
class Grant:
    """A privilege a role holds, and whether a GRANT or the default privileges gave it."""

    by_default: bool
    origin: Origin | None  # None: held before the first migration (Supabase's own grants)


@dataclass
class Column:
    name: str
    type_name: str  # the base type as the parser resolves it: ``timestamptz``, ``int4``, ``uuid[]``
    not_null: bool
    default: ast.Node | None
    default_origin: Origin | None
    origin: Origin
    type: ast.TypeName | None = None  # the whole type, modifiers and array bounds included
    comment: str | None = None
    # PostgreSQL 18 keeps NOT NULL as a named constraint: ``<table>_<column>_not_null``, numbered
    # when the schema already has that name. Earlier versions have no name; the state keeps the
    # one 18 would give, so a plan reads the same whatever server the history ran on.
    not_null_name: str | None = None
    identity: str | None = None  # "always" or "by default"
    generated: ast.Node | None = None  # a stored generated column's expression


SERIALS = {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"}


@dataclass
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    target: tuple[str, str]
    target_columns: tuple[str, ...]
    origin: Origin
    on_delete: str = "no action"
    on_update: str = "no action"
    validated: bool = True


@dataclass
class CheckConstraint:
    name: str
    expression: ast.Node
    origin: Origin
    validated: bool = True


@dataclass
class Index:
    """An index, or the index behind a PRIMARY KEY / UNIQUE constraint."""

    name: str
    columns: tuple[str, ...]
    unique: bool
    predicate: str | None
    method: str
    constraint: str | None
    origin: Origin
    where: ast.Node | None = None


@dataclass
class Policy:
    name: str
    table: tuple[str, str]
    command: str  # all, select, insert, update, delete
    permissive: bool
    roles: tuple[str, ...]  # 'public' for PUBLIC
    roles_given: bool
    using: ast.Node | None
    check: ast.Node | None
    origin: Origin


@dataclass
class Trigger:
    name: str
    timing: str  # before, after, instead of
    events: tuple[str, ...]  # insert, update, delete, truncate in that order
    for_each_row: bool
    function: tuple[str, str]
    when: ast.Node | None
    origin: Origin
    columns: tuple[str, ...] = ()  # UPDATE OF these columns
    arguments: tuple[str, ...] = ()


@dataclass
class Table:
    schema: str
    name: str
    origin: Origin | None  # None: referenced but created elsewhere
    columns: dict[str, Column] = field(default_factory=dict)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    checks: list[CheckConstraint] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    policies: dict[str, Policy] = field(default_factory=dict)
    rls: bool | None = None  # None: unknown (external table)
    rls_origin: Origin | None = None
    privileges: dict[str, dict[str, Grant]] = field(default_factory=dict)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    comment: str | None = None
    force_rls: bool = False

    @property
    def external(self) -> bool:
        return self.origin is None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    def constraint_names(self) -> set[str]:
        return ({fk.name for fk in self.foreign_keys} | {check.name for check in self.checks}
                | {ix.name for ix in self.indexes if ix.constraint}
                | {c.not_null_name for c in self.columns.values() if c.not_null_name})

    @property
    def primary_key(self) -> tuple[str, ...]:
        """The primary key's columns; empty when the table has none."""
        return next((ix.columns for ix in self.indexes if ix.constraint == "primary key"), ())

    def column_with_not_null(self, name: str) -> Column | None:
        """The column whose NOT NULL constraint PostgreSQL 18 calls ``name``."""
        return next((c for c in self.columns.values() if c.not_null_name == name), None)


@dataclass
class Function:
    schema: str
    name: str
    arg_types: tuple[str, ...]
    security_definer: bool
    search_path: str | None
    origin: Origin
    privileges: dict[str, dict[str, Grant]] = field(default_factory=dict)
    returns: str = ""
    language: str = "sql"
    volatility: str = "volatile"
    source: str = ""  # the body as written
    comment: str | None = None
    arg_names: tuple[str, ...] = ()
    arg_defaults: tuple = ()  # per argument: its DEFAULT expression, or None

    @property
    def signature(self) -> str:
        return f"{self.schema}.{self.name}({', '.join(self.arg_types)})"

    @cached_property
    def body(self) -> str:
        """The body as ``function_body`` spells it, worked out when first compared (a lint
        run never compares bodies)."""
        return function_body(self.language, self.source)


@dataclass
class View:
    schema: str
    name: str
    security_invoker: bool
    origin: Origin

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class Schema:
    """A schema and who holds USAGE (and CREATE) on it. ``origin`` is ``None`` for a schema
    that exists before the first migration (``public``, ``auth``)."""

    name: str
    origin: Origin | None
    privileges: dict[str, dict[str, Grant]] = field(default_factory=dict)


@dataclass(frozen=True)
class Conflict:
    """A statement PostgreSQL would refuse against what the earlier statements built."""

    origin: Origin
    message: str


@dataclass
class SchemaState:
    """Everything replay knows after the last statement."""

    default_privileges: str = LEGACY
    tables: dict[tuple[str, str], Table] = field(default_factory=dict)
    functions: dict[tuple[str, str, tuple[str, ...]], Function] = field(default_factory=dict)
    views: dict[tuple[str, str], View] = field(default_factory=dict)
    # default privileges: {schema or None (all schemas): {role: {privilege}}}
    table_defaults: dict[str | None, dict[str, set[str]]] = field(default_factory=dict)
    function_defaults: dict[str | None, dict[str, set[str]]] = field(default_factory=dict)
    statements: list[Statement] = field(default_factory=list)
    schemas: dict[str, Schema] = field(default_factory=dict)
    # publication name -> tables in it, in the order they joined
    publications: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    enums: dict[tuple[str, str], EnumType] = field(default_factory=dict)
    # domains: (schema, name) -> the base type as written (``create domain app.valid_name as text``)
    domains: dict[tuple[str, str], str] = field(default_factory=dict)
    # constraint names taken per schema, gathered once per statement (replay clears it before
    # each): a CREATE TABLE names a NOT NULL constraint per column, each checked schema-wide
    taken_names: dict[str, set[str]] = field(default_factory=dict, repr=False, compare=False)

    def conflict(self, origin: Origin, message: str) -> None:
        """A statement PostgreSQL would refuse here. One inside a DO block runs under conditions
        replay does not evaluate (``if not exists (...) then alter table ...``): it is taken as
        not run (``GuardedConflict`` stops it), and nothing is said."""
        if origin.statement.guarded:
            raise GuardedConflict(message)
        self.conflicts.append(Conflict(origin, message))

    def table(self, key: tuple[str, str]) -> Table:
        """The table under ``key``, created as an external entry on first mention."""
        if key not in self.tables:
            self.tables[key] = Table(key[0], key[1], origin=None)
        return self.tables[key]

    def relation_name_taken(self, schema: str, name: str) -> bool:
        """Tables, views and indexes share one namespace per schema."""
        return (schema, name) in self.tables or (schema, name) in self.views or any(
            index.name == name for table in self.tables.values() if table.schema == schema
            for index in table.indexes)

    def constraint_name_taken(self, schema: str, name: str) -> bool:
        """PostgreSQL numbers a default constraint name taken anywhere in the schema."""
        taken = self.taken_names.get(schema)
        if taken is None:
            taken = self.taken_names[schema] = {found for table in self.tables.values() if table.schema == schema
                                                for found in table.constraint_names()}
        return name in taken

    def functions_named(self, schema: str, name: str) -> list[Function]:
        return [f for f in self.functions.values() if (f.schema, f.name) == (schema, name)]

    def may_use_schema(self, role: str, schema: str) -> bool:
        """Whether ``role`` holds USAGE on ``schema`` itself or through PUBLIC. Where replay
        cannot know (a schema made elsewhere, for a role or PUBLIC no statement mentioned)
        the schema is assumed usable."""
        known = self.schemas.get(schema)
        if known is None:
            return True
        holders = (role, PUBLIC)
        if any("usage" in known.privileges.get(r, {}) for r in holders):
            return True
        return known.origin is None and any(r not in known.privileges for r in holders)


def initial_state(default_privileges: str = LEGACY) -> SchemaState:
    """The state before the first migration: PostgreSQL's and Supabase's default privileges."""
    state = SchemaState(default_privileges)
    # PostgreSQL itself: EXECUTE on every new function goes to PUBLIC.
    state.function_defaults[None] = {PUBLIC: {"execute"}}
    if default_privileges == LEGACY:
        state.table_defaults[DEFAULT_SCHEMA] = {r: set(TABLE_PRIVILEGES) for r in API_ROLES}
        state.function_defaults[DEFAULT_SCHEMA] = {r: {"execute"} for r in API_ROLES}
    # PostgreSQL grants USAGE on schema public to PUBLIC; Supabase also grants USAGE on
    # public and auth to the API roles (and not on auth to PUBLIC).
    for name, holders in ((DEFAULT_SCHEMA, (PUBLIC,) + API_ROLES), ("auth", API_ROLES)):
        state.schemas[name] = Schema(name, None, {
            role: {"usage": Grant(True, None)} if role in holders else {} for role in (PUBLIC,) + API_ROLES})
    return state
