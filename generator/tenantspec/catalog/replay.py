"""The schema a folder of migrations builds, found by replaying its statements in order.

Only what the rules look at is tracked: tables (columns, defaults, foreign keys, indexes,
RLS switch, policies, privileges), functions (SECURITY DEFINER, search_path, EXECUTE, return
type), schemas (who holds USAGE) and the default privileges that decide what a new table or
function starts with. Objects the
folder references but never creates (``public.orders``, ``auth.users``) become *external*
entries: they collect what the folder does to them, and rules that need their full
definition leave them alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import pglast
from pglast import ast, enums

from tenantspec.catalog import names as pg_names
from tenantspec.catalog.nodes import column_ref_name, deparse, rename_column_refs, walk
from tenantspec.catalog.source import Statement
from tenantspec.catalog.types import EnumType, alter_enum, create_enum, drop_enum, rename_enum
from tenantspec.errors import Location, Problem, TenantspecError

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


@dataclass(frozen=True, eq=False)
class Origin:
    """The statement that brought something about, and where inside it: ``offset`` is a
    pglast node location (``None``: the statement's start)."""

    statement: Statement
    offset: int | None = None

    @property
    def location(self) -> Location:
        statement = self.statement
        if self.offset is None or self.offset < 0:
            return statement.file.location(statement.start)
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

    def conflict(self, origin: Origin, message: str) -> None:
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
        return any(name in table.constraint_names() for table in self.tables.values() if table.schema == schema)

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


def replay(statements: list[Statement], default_privileges: str = LEGACY) -> SchemaState:
    """Apply every statement to an initial state, in order, and return the result."""
    state = initial_state(default_privileges)
    state.statements = statements
    for statement in statements:
        handler = HANDLERS.get(type(statement.node))
        if handler is None:
            continue
        try:
            handler(state, statement.node, statement)
        except Exception as error:  # a statement shape replay does not know: say where
            raise TenantspecError(Problem(
                statement.file.location(statement.start),
                f"cannot follow this {type(statement.node).__name__} ({error!r}); "
                f"please report it with the statement",
            )) from error
    return state


# ---------------------------------------------------------------- names and types

def relation_key(relation: ast.RangeVar) -> tuple[str, str]:
    return (relation.schemaname or DEFAULT_SCHEMA, relation.relname)


def name_key(names: tuple) -> tuple[str, str]:
    """``(schema, name)`` from a dotted name given as a tuple of String nodes."""
    parts = [n.sval for n in names]
    return (parts[-2] if len(parts) > 1 else DEFAULT_SCHEMA, parts[-1])


def deparse_type(node: ast.TypeName) -> str:
    """A type as SQL, spelled the same whichever synonym the migration used."""
    return deparse(node)


def type_name(node: ast.TypeName | None) -> str:
    """A type as PostgreSQL's parser resolves it: ``timestamptz``, ``int4``, ``uuid[]``."""
    if node is None:
        return ""
    name = node.names[-1].sval
    return name + "[]" if node.arrayBounds else name


def role_names(roles) -> tuple[str, ...]:
    names = []
    for role in roles or ():
        if role.roletype == enums.RoleSpecType.ROLESPEC_PUBLIC:
            names.append(PUBLIC)
        elif role.rolename:
            names.append(role.rolename)
    return tuple(names)


def privilege_names(privileges, all_privileges: tuple[str, ...]) -> tuple[str, ...]:
    """Privileges of a GRANT/REVOKE; none listed means ALL."""
    if not privileges:
        return all_privileges
    names = []
    for privilege in privileges:
        if privilege.priv_name is None or privilege.priv_name == "all":
            names.extend(all_privileges)
        else:
            names.append(privilege.priv_name)
    return tuple(names)


def grant_defaults(defaults: dict[str | None, dict[str, set[str]]], schema: str,
                   origin: Origin) -> dict[str, dict[str, Grant]]:
    """The privileges a new object in ``schema`` starts with."""
    held: dict[str, dict[str, Grant]] = {}
    for scope in (None, schema):
        for role, privileges in defaults.get(scope, {}).items():
            for privilege in privileges:
                held.setdefault(role, {})[privilege] = Grant(True, origin)
    return held


def function_arg_types(parameters) -> tuple[str, ...]:
    """The argument types that identify a function (OUT and TABLE columns do not)."""
    skip = {enums.FunctionParameterMode.FUNC_PARAM_OUT, enums.FunctionParameterMode.FUNC_PARAM_TABLE}
    return tuple(type_name(p.argType) for p in parameters or () if p.mode not in skip)


def functions_for(state: SchemaState, target: ast.ObjectWithArgs) -> list[Function]:
    schema, name = name_key(target.objname)
    if target.args_unspecified:
        return state.functions_named(schema, name)
    key = (schema, name, tuple(type_name(t) for t in target.objargs or ()))
    return [state.functions[key]] if key in state.functions else []


# ---------------------------------------------------------------- tables

def add_column(state: SchemaState, table: Table, column: ast.ColumnDef, statement: Statement) -> None:
    origin = Origin(statement, column.location)
    entry = Column(column.colname, type_name(column.typeName), False, None, None, origin,
                   type=column.typeName)
    table.columns[column.colname] = entry
    if column.is_not_null or entry.type_name in SERIALS:
        set_not_null(state, table, entry)
    for constraint in column.constraints or ():
        kind = constraint.contype
        if kind == enums.ConstrType.CONSTR_DEFAULT:
            entry.default = constraint.raw_expr
            entry.default_origin = Origin(statement, constraint.location)
        elif kind == enums.ConstrType.CONSTR_IDENTITY:
            entry.identity = "always" if constraint.generated_when == "a" else "by default"
            if not entry.not_null:
                set_not_null(state, table, entry)
            continue
        elif kind == enums.ConstrType.CONSTR_GENERATED:
            entry.generated = constraint.raw_expr
            continue
        elif kind in (enums.ConstrType.CONSTR_NOTNULL, enums.ConstrType.CONSTR_PRIMARY):
            set_not_null(state, table, entry)
        if kind != enums.ConstrType.CONSTR_DEFAULT:
            add_constraint(state, table, constraint, statement, column=column.colname)


FK_ACTIONS = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}


def default_constraint_name(state: SchemaState, table: Table, addition: str | None, label: str) -> str:
    return pg_names.choose_name(table.name, addition, label,
                             lambda name: state.constraint_name_taken(table.schema, name)
                             or (label in (pg_names.PRIMARY_KEY, pg_names.UNIQUE)
                                 and state.relation_name_taken(table.schema, name)))


def set_not_null(state: SchemaState, table: Table, column: Column) -> None:
    """Make ``column`` NOT NULL, naming the constraint as PostgreSQL 18 does (a column that
    is NOT NULL already keeps its constraint)."""
    if not column.not_null or column.not_null_name is None:
        column.not_null_name = default_constraint_name(state, table, column.name, pg_names.NOT_NULL)
    column.not_null = True


def drop_not_null(column: Column) -> None:
    column.not_null = False
    column.not_null_name = None


def check_column(expression: ast.Node) -> str | None:
    """The column a CHECK names its default after: the only column it reads, if just one."""
    columns = {column_ref_name(node)[1] for node, _ in walk(expression) if isinstance(node, ast.ColumnRef)}
    columns.discard(None)
    return columns.pop() if len(columns) == 1 else None


def add_constraint(state: SchemaState, table: Table, constraint: ast.Constraint,
                   statement: Statement, column: str | None = None) -> None:
    """Record the foreign key, check or index a table or column constraint creates."""
    kind = constraint.contype
    origin = Origin(statement, constraint.location)
    if kind == enums.ConstrType.CONSTR_FOREIGN:
        columns = (column,) if column else tuple(c.sval for c in constraint.fk_attrs)
        table.foreign_keys.append(ForeignKey(
            name=constraint.conname or default_constraint_name(
                state, table, pg_names.column_addition(columns), pg_names.FOREIGN_KEY),
            columns=columns,
            target=relation_key(constraint.pktable),
            target_columns=tuple(c.sval for c in constraint.pk_attrs or ()) or ("id",),
            origin=origin,
            on_delete=FK_ACTIONS.get(constraint.fk_del_action or "a", "no action"),
            on_update=FK_ACTIONS.get(constraint.fk_upd_action or "a", "no action"),
            validated=not constraint.skip_validation,
        ))
    elif kind == enums.ConstrType.CONSTR_CHECK:
        table.checks.append(CheckConstraint(
            name=constraint.conname or default_constraint_name(
                state, table, column or check_column(constraint.raw_expr), pg_names.CHECK),
            expression=constraint.raw_expr,
            origin=origin,
            validated=not constraint.skip_validation,
        ))
    elif kind in (enums.ConstrType.CONSTR_PRIMARY, enums.ConstrType.CONSTR_UNIQUE):
        columns = (column,) if column else tuple(c.sval for c in constraint.keys or ())
        primary = kind == enums.ConstrType.CONSTR_PRIMARY
        if constraint.indexname and not columns:  # ... primary key using index <name>
            used = next((ix for ix in table.indexes if ix.name == constraint.indexname and not ix.constraint), None)
            if used is None and not table.external:
                state.conflict(origin, f"{table.qualified_name} has no index {constraint.indexname}")
            if used is not None:
                table.indexes.remove(used)  # it becomes the constraint's index, renamed after it
                columns = used.columns
        if primary:
            for name in columns:
                if name in table.columns:
                    set_not_null(state, table, table.columns[name])
        name = constraint.conname or constraint.indexname or default_constraint_name(
            state, table, None if primary else pg_names.column_addition(columns),
            pg_names.PRIMARY_KEY if primary else pg_names.UNIQUE)
        table.indexes.append(Index(
            name=name,
            columns=columns,
            unique=True,
            predicate=None,
            method="btree",
            constraint="primary key" if primary else "unique",
            origin=origin,
        ))
    elif kind == enums.ConstrType.CONSTR_NOTNULL and column is None and constraint.keys:
        for key in constraint.keys:
            if key.sval in table.columns:
                set_not_null(state, table, table.columns[key.sval])


def create_table(state: SchemaState, node: ast.CreateStmt, statement: Statement) -> None:
    key = relation_key(node.relation)
    existing = state.tables.get(key)
    if existing is not None and not existing.external:
        if node.if_not_exists:
            return
        state.conflict(Origin(statement), f"creates table {existing.qualified_name}, which "
                                          f"{existing.origin.location} already created")
    origin = Origin(statement)
    table = Table(key[0], key[1], origin=origin, rls=False, rls_origin=origin)
    table.privileges = grant_defaults(state.table_defaults, key[0], origin)
    state.tables[key] = table
    for element in node.tableElts or ():
        if isinstance(element, ast.ColumnDef):
            add_column(state, table, element, statement)
        elif isinstance(element, ast.Constraint):
            add_constraint(state, table, element, statement)
    drop_repeated_keys(table)


def drop_repeated_keys(table: Table) -> None:
    """CREATE TABLE makes one index for keys on the same columns: a UNIQUE that repeats the
    primary key (``id uuid primary key unique``) or an earlier UNIQUE is never created."""
    keys = sorted((ix for ix in table.indexes if ix.constraint), key=lambda ix: ix.constraint != "primary key")
    seen: set[tuple[str, ...]] = set()
    repeated = []
    for index in keys:
        if index.columns in seen:
            repeated.append(index)
        seen.add(index.columns)
    table.indexes = [ix for ix in table.indexes if all(ix is not r for r in repeated)]


def create_table_as(state: SchemaState, node: ast.CreateTableAsStmt, statement: Statement) -> None:
    """CREATE TABLE ... AS: a table whose columns come from a query (not tracked)."""
    if node.objtype != enums.ObjectType.OBJECT_TABLE:
        return
    key = relation_key(node.into.rel)
    origin = Origin(statement)
    table = Table(key[0], key[1], origin=origin, rls=False, rls_origin=origin)
    table.privileges = grant_defaults(state.table_defaults, key[0], origin)
    state.tables[key] = table


def set_schema(state: SchemaState, node: ast.AlterObjectSchemaStmt, statement: Statement) -> None:
    if node.objectType not in (enums.ObjectType.OBJECT_TABLE, enums.ObjectType.OBJECT_VIEW) \
            or node.relation is None:
        return
    key = relation_key(node.relation)
    if node.objectType == enums.ObjectType.OBJECT_TABLE:
        move_table(state, key, (node.newschema, key[1]))
    elif (view := state.views.pop(key, None)) is not None:
        view.schema = node.newschema
        state.views[(node.newschema, key[1])] = view


def move_table(state: SchemaState, old: tuple[str, str], new: tuple[str, str]) -> None:
    """What PostgreSQL does when a table is renamed or changes schema: it keeps its identity, so
    its policies, the foreign keys that reference it and its publications follow it."""
    table = state.tables.pop(old, None)
    if table is None:
        return
    table.schema, table.name = new
    state.tables[new] = table
    for policy in table.policies.values():
        policy.table = new
    for other in state.tables.values():
        for fk in other.foreign_keys:
            if fk.target == old:
                fk.target = new
    for members in state.publications.values():
        members[:] = [new if member == old else member for member in members]


def alter_table(state: SchemaState, node: ast.AlterTableStmt, statement: Statement) -> None:
    if node.objtype == enums.ObjectType.OBJECT_VIEW:
        alter_view(state, node, statement)
        return
    if node.objtype != enums.ObjectType.OBJECT_TABLE:
        return
    table = state.table(relation_key(node.relation))
    for command in node.cmds or ():
        handler = ALTER_TABLE_COMMANDS.get(command.subtype)
        if handler is not None:
            handler(state, table, command, statement)


def known_column(state: SchemaState, table: Table, name: str, statement: Statement,
                 missing_ok: bool = False) -> Column | None:
    """The column ``name``; a conflict when a table the folder created lacks it."""
    column = table.columns.get(name)
    if column is None and not table.external and not missing_ok:
        state.conflict(Origin(statement), f"{table.qualified_name} has no column {name}")
    return column


def alter_add_column(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    name = command.def_.colname
    if name in table.columns:
        if command.missing_ok:
            return
        state.conflict(Origin(statement, command.def_.location),
                       f"adds column {name} to {table.qualified_name}, which "
                       f"{table.columns[name].origin.location} already added")
    add_column(state, table, command.def_, statement)


def alter_column_default(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    column = known_column(state, table, command.name, statement)
    if column is None:
        return
    column.default = command.def_
    column.default_origin = Origin(statement, getattr(command.def_, "location", None))


def alter_column_identity(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    """ADD GENERATED ... AS IDENTITY, SET GENERATED ..., DROP IDENTITY."""
    column = known_column(state, table, command.name, statement)
    if column is None:
        return
    if command.subtype == enums.AlterTableType.AT_DropIdentity:
        column.identity = None
        return
    options = command.def_ if isinstance(command.def_, (tuple, list)) else (
        command.def_.constraints if isinstance(command.def_, ast.ColumnDef) else (command.def_,))
    for option in options or ():
        if isinstance(option, ast.Constraint) and option.contype == enums.ConstrType.CONSTR_IDENTITY:
            column.identity = "always" if option.generated_when == "a" else "by default"
            if not column.not_null:
                set_not_null(state, table, column)
        elif isinstance(option, ast.DefElem) and option.defname == "generated":
            column.identity = "always" if getattr(option.arg, "ival", None) == ord("a") else "by default"


def alter_column_type(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    column = known_column(state, table, command.name, statement)
    if column is not None and command.def_ is not None:
        column.type_name = type_name(command.def_.typeName)
        column.type = command.def_.typeName


def alter_not_null(not_null: bool) -> Callable:
    def handler(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
        column = known_column(state, table, command.name, statement)
        if column is not None:
            if not_null:
                set_not_null(state, table, column)
            else:
                drop_not_null(column)
    return handler


def alter_drop_column(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    if known_column(state, table, command.name, statement, command.missing_ok) is None:
        return
    table.columns.pop(command.name, None)
    table.foreign_keys = [fk for fk in table.foreign_keys if command.name not in fk.columns]
    table.checks = [check for check in table.checks if command.name not in {
        column_ref_name(node)[1] for node, _ in walk(check.expression) if isinstance(node, ast.ColumnRef)}]
    table.indexes = [ix for ix in table.indexes if command.name not in ix.columns]


def alter_add_constraint(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    name = command.def_.conname
    if name and name in table.constraint_names():
        state.conflict(Origin(statement, command.def_.location),
                       f"adds constraint {name} to {table.qualified_name}, which already has it")
    add_constraint(state, table, command.def_, statement)


def constraint_named(table: Table, name: str):
    """The foreign key, check or key constraint of ``table`` called ``name``."""
    for constraint in (*table.foreign_keys, *table.checks, *(ix for ix in table.indexes if ix.constraint)):
        if constraint.name == name:
            return constraint
    return None


def alter_validate_constraint(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    constraint = constraint_named(table, command.name)
    if constraint is not None and hasattr(constraint, "validated"):
        constraint.validated = True


def alter_drop_constraint(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    not_null = table.column_with_not_null(command.name)
    if not_null is not None:  # PostgreSQL 18: dropping the NOT NULL constraint makes it nullable
        drop_not_null(not_null)
        return
    if constraint_named(table, command.name) is None and not table.external and not command.missing_ok:
        state.conflict(Origin(statement), f"{table.qualified_name} has no constraint {command.name}")
    table.foreign_keys = [fk for fk in table.foreign_keys if fk.name != command.name]
    table.checks = [check for check in table.checks if check.name != command.name]
    table.indexes = [ix for ix in table.indexes if not (ix.constraint and ix.name == command.name)]


def alter_set_rls(enabled: bool) -> Callable:
    def handler(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
        table.rls = enabled
        table.rls_origin = Origin(statement)
    return handler


def alter_force_rls(forced: bool) -> Callable:
    def handler(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
        table.force_rls = forced
    return handler


ALTER_TABLE_COMMANDS = {
    enums.AlterTableType.AT_AddColumn: alter_add_column,
    enums.AlterTableType.AT_ColumnDefault: alter_column_default,
    enums.AlterTableType.AT_AddIdentity: alter_column_identity,
    enums.AlterTableType.AT_SetIdentity: alter_column_identity,
    enums.AlterTableType.AT_DropIdentity: alter_column_identity,
    enums.AlterTableType.AT_AlterColumnType: alter_column_type,
    enums.AlterTableType.AT_DropColumn: alter_drop_column,
    enums.AlterTableType.AT_AddConstraint: alter_add_constraint,
    enums.AlterTableType.AT_DropConstraint: alter_drop_constraint,
    enums.AlterTableType.AT_ValidateConstraint: alter_validate_constraint,
    enums.AlterTableType.AT_SetNotNull: alter_not_null(True),
    enums.AlterTableType.AT_DropNotNull: alter_not_null(False),
    enums.AlterTableType.AT_EnableRowSecurity: alter_set_rls(True),
    enums.AlterTableType.AT_DisableRowSecurity: alter_set_rls(False),
    enums.AlterTableType.AT_ForceRowSecurity: alter_force_rls(True),
    enums.AlterTableType.AT_NoForceRowSecurity: alter_force_rls(False),
}


def create_index(state: SchemaState, node: ast.IndexStmt, statement: Statement) -> None:
    table = state.table(relation_key(node.relation))
    if node.idxname and state.relation_name_taken(table.schema, node.idxname):
        if node.if_not_exists:
            return
        state.conflict(Origin(statement), f"creates index {node.idxname}, a name {table.schema} already uses")
    columns = tuple(
        element.name if element.name else f"({deparse(element.expr)})"
        for element in node.indexParams or ()
    )
    addition = pg_names.column_addition(
        element.name or "expr" for element in node.indexParams or ())
    table.indexes.append(Index(
        name=node.idxname or pg_names.choose_name(
            table.name, addition, pg_names.INDEX, lambda name: state.relation_name_taken(table.schema, name)),
        columns=columns,
        unique=bool(node.unique or node.primary),
        predicate=deparse(node.whereClause) if node.whereClause is not None else None,
        where=node.whereClause,
        method=node.accessMethod or "btree",
        constraint=None,
        origin=Origin(statement),
    ))


def rename(state: SchemaState, node: ast.RenameStmt, statement: Statement) -> None:
    kind = node.renameType
    if kind == enums.ObjectType.OBJECT_TYPE:
        rename_enum(state, node.object, node.newname)
    elif kind == enums.ObjectType.OBJECT_TABLE:
        key = relation_key(node.relation)
        move_table(state, key, (key[0], node.newname))
    elif kind == enums.ObjectType.OBJECT_COLUMN:
        table = state.table(relation_key(node.relation))
        if known_column(state, table, node.subname, statement, node.missing_ok) is not None:
            rename_column(state, table, node.subname, node.newname)
    elif kind == enums.ObjectType.OBJECT_TABCONSTRAINT:
        table = state.table(relation_key(node.relation))
        constraint = constraint_named(table, node.subname)
        not_null = table.column_with_not_null(node.subname)
        if not_null is not None:
            not_null.not_null_name = node.newname
        elif constraint is None and not table.external:
            state.conflict(Origin(statement), f"{table.qualified_name} has no constraint {node.subname}")
        elif constraint is not None:
            constraint.name = node.newname
    elif kind == enums.ObjectType.OBJECT_TRIGGER:
        table = state.table(relation_key(node.relation))
        trigger = table.triggers.pop(node.subname, None)
        if trigger is not None:
            trigger.name = node.newname
            table.triggers[node.newname] = trigger
    elif kind == enums.ObjectType.OBJECT_INDEX:
        schema, name = relation_key(node.relation)
        for table in state.tables.values():
            for index in table.indexes:
                if table.schema == schema and index.name == name:
                    index.name = node.newname
    elif kind == enums.ObjectType.OBJECT_POLICY:
        table = state.table(relation_key(node.relation))
        policy = table.policies.pop(node.subname, None)
        if policy is not None:
            policy.name = node.newname
            table.policies[node.newname] = policy


def rename_column(state: SchemaState, table: Table, old: str, new: str) -> None:
    """What PostgreSQL does on RENAME COLUMN: definitions that use the column follow it."""
    table.columns[old].name = new
    table.columns = {(new if name == old else name): column for name, column in table.columns.items()}
    swap = lambda names: tuple(new if n == old else n for n in names)  # noqa: E731
    for index in table.indexes:
        index.columns = swap(index.columns)
        if index.where is not None:
            index.where = rename_column_refs(index.where, table.name, old, new)
            index.predicate = deparse(index.where)
    for fk in table.foreign_keys:
        fk.columns = swap(fk.columns)
    for other in state.tables.values():
        for fk in other.foreign_keys:
            if fk.target == (table.schema, table.name):
                fk.target_columns = swap(fk.target_columns)
    for check in table.checks:
        check.expression = rename_column_refs(check.expression, table.name, old, new)
    for policy in table.policies.values():
        policy.using = rename_column_refs(policy.using, table.name, old, new, top_level_only=True)
        policy.check = rename_column_refs(policy.check, table.name, old, new, top_level_only=True)


# ---------------------------------------------------------------- views

def security_invoker(options, current: bool = False) -> bool:
    """The ``security_invoker`` view option from a WITH (...) / SET (...) list."""
    for option in options or ():
        if option.defname == "security_invoker":
            value = option.arg.sval if isinstance(option.arg, ast.String) else option.arg
            current = value is None or str(getattr(value, "boolval", value)).lower() in ("true", "on", "1", "yes")
    return current


def create_view(state: SchemaState, node: ast.ViewStmt, statement: Statement) -> None:
    key = relation_key(node.view)
    state.views[key] = View(key[0], key[1], security_invoker(node.options), Origin(statement))


def alter_view(state: SchemaState, node: ast.AlterTableStmt, statement: Statement) -> None:
    view = state.views.get(relation_key(node.relation))
    if view is None:
        return
    for command in node.cmds or ():
        if command.subtype == enums.AlterTableType.AT_SetRelOptions:
            view.security_invoker = security_invoker(command.def_, view.security_invoker)
            view.origin = Origin(statement)
        elif command.subtype == enums.AlterTableType.AT_ResetRelOptions:
            if any(o.defname == "security_invoker" for o in command.def_ or ()):
                view.security_invoker = False


# ---------------------------------------------------------------- policies

def create_policy(state: SchemaState, node: ast.CreatePolicyStmt, statement: Statement) -> None:
    key = relation_key(node.table)
    roles = role_names(node.roles)
    # Without a TO clause the parser fills in PUBLIC with no location.
    roles_given = any(getattr(r, "location", None) is not None for r in node.roles or ())
    table = state.table(key)
    if node.policy_name in table.policies:
        state.conflict(Origin(statement), f"creates policy {node.policy_name!r} on {table.qualified_name}, which "
                                          f"{table.policies[node.policy_name].origin.location} already created")
    table.policies[node.policy_name] = Policy(
        name=node.policy_name,
        table=key,
        command=node.cmd_name or "all",
        permissive=bool(node.permissive),
        roles=roles or (PUBLIC,),
        roles_given=roles_given,
        using=node.qual,
        check=node.with_check,
        origin=Origin(statement),
    )


def alter_policy(state: SchemaState, node: ast.AlterPolicyStmt, statement: Statement) -> None:
    policy = state.table(relation_key(node.table)).policies.get(node.policy_name)
    if policy is None:
        return
    if node.roles:
        policy.roles = role_names(node.roles)
        policy.roles_given = True
    if node.qual is not None:
        policy.using = node.qual
    if node.with_check is not None:
        policy.check = node.with_check
    policy.origin = Origin(statement)


# ---------------------------------------------------------------- functions

def function_settings(options) -> tuple[bool | None, str | None | bool]:
    """SECURITY DEFINER/INVOKER and search_path from CREATE/ALTER FUNCTION options.

    Returns ``(security_definer or None if not mentioned, search_path value, None if not
    mentioned, or False if reset)``.
    """
    definer = None
    search_path: str | None | bool = None
    for option in options or ():
        if option.defname == "security":
            definer = bool(option.arg.boolval)
        elif option.defname == "set" and option.arg.kind == enums.VariableSetKind.VAR_RESET_ALL:
            search_path = False
        elif option.defname == "set" and option.arg.name == "search_path":
            kind = option.arg.kind
            if kind == enums.VariableSetKind.VAR_SET_VALUE:
                search_path = ", ".join(deparse(a) for a in option.arg.args or ()) or "''"
            elif kind == enums.VariableSetKind.VAR_SET_CURRENT:
                search_path = "from current"
            elif kind == enums.VariableSetKind.VAR_SET_DEFAULT:
                search_path = "default"
            else:
                search_path = False
    return definer, search_path


def function_body(language: str, body: str) -> str:
    """A function body in a form two spellings of the same code share: SQL bodies parsed and
    printed again, other languages with their whitespace collapsed."""
    if language == "sql":
        try:
            return "; ".join(deparse(raw.stmt) for raw in pglast.parse_sql(body))
        except pglast.parser.ParseError:
            pass
    return " ".join(body.split())


def create_function(state: SchemaState, node: ast.CreateFunctionStmt, statement: Statement) -> None:
    schema, name = name_key(node.funcname)
    key = (schema, name, function_arg_types(node.parameters))
    definer, search_path = function_settings(node.options)
    origin = Origin(statement)
    options = {o.defname: o.arg for o in node.options or ()}
    language = options["language"].sval.lower() if "language" in options else "sql"
    body = options.get("as")
    body_text = body[0].sval if isinstance(body, (tuple, list)) and body else ""
    if node.sql_body is not None:  # BEGIN ATOMIC ... END / RETURN expr
        body_text = deparse(node.sql_body)
    returns = ""
    if node.returnType is not None:
        returns = deparse_type(node.returnType)
    function = Function(
        schema=schema,
        name=name,
        arg_types=key[2],
        security_definer=bool(definer),
        search_path=search_path or None,
        origin=origin,
        returns=returns,
        language=language,
        volatility=options["volatility"].sval if "volatility" in options else "volatile",
        source=body_text,
        arg_names=tuple(p.name or "" for p in node.parameters or ()
                        if p.mode not in (enums.FunctionParameterMode.FUNC_PARAM_OUT,
                                          enums.FunctionParameterMode.FUNC_PARAM_TABLE)),
        arg_defaults=tuple(p.defexpr for p in node.parameters or ()
                           if p.mode not in (enums.FunctionParameterMode.FUNC_PARAM_OUT,
                                             enums.FunctionParameterMode.FUNC_PARAM_TABLE)),
    )
    existing = state.functions.get(key)
    if existing is not None and not node.replace:
        state.conflict(origin, f"creates function {existing.signature}, which "
                               f"{existing.origin.location} already created")
    if existing is not None:
        function.comment = existing.comment
    # CREATE OR REPLACE keeps the existing function's privileges.
    function.privileges = (existing.privileges if existing is not None
                           else grant_defaults(state.function_defaults, schema, origin))
    state.functions[key] = function


def alter_function(state: SchemaState, node: ast.AlterFunctionStmt, statement: Statement) -> None:
    definer, search_path = function_settings(node.actions)
    for function in functions_for(state, node.func):
        if definer is not None:
            function.security_definer = definer
            function.origin = Origin(statement)
        if search_path is False:
            function.search_path = None
        elif search_path is not None:
            function.search_path = search_path


# ---------------------------------------------------------------- triggers, comments, publications, schemas

TRIGGER_TIMING = {2: "before", 64: "instead of"}  # TRIGGER_TYPE_BEFORE, TRIGGER_TYPE_INSTEAD; else after
TRIGGER_EVENTS = ((4, "insert"), (16, "update"), (8, "delete"), (32, "truncate"))


def create_trigger(state: SchemaState, node: ast.CreateTrigStmt, statement: Statement) -> None:
    if node.isconstraint:
        return
    table = state.table(relation_key(node.relation))
    if node.trigname in table.triggers and not node.replace:
        state.conflict(Origin(statement), f"creates trigger {node.trigname} on {table.qualified_name}, which "
                                          f"{table.triggers[node.trigname].origin.location} already created")
    table.triggers[node.trigname] = Trigger(
        name=node.trigname,
        timing=TRIGGER_TIMING.get(node.timing & 66, "after"),
        events=tuple(name for bit, name in TRIGGER_EVENTS if node.events & bit),
        for_each_row=bool(node.row),
        function=name_key(node.funcname),
        when=node.whenClause,
        origin=Origin(statement),
        columns=tuple(c.sval for c in node.columns or ()),
        arguments=tuple(a.sval for a in node.args or ()),
    )


def comment(state: SchemaState, node: ast.CommentStmt, statement: Statement) -> None:
    kind = node.objtype
    if kind == enums.ObjectType.OBJECT_TABLE:
        table = state.tables.get(name_key(node.object))
        if table is not None:
            table.comment = node.comment
    elif kind == enums.ObjectType.OBJECT_COLUMN:
        table = state.tables.get(name_key(node.object[:-1]))
        column = table.columns.get(node.object[-1].sval) if table is not None else None
        if column is not None:
            column.comment = node.comment
    elif kind == enums.ObjectType.OBJECT_FUNCTION:
        for function in functions_for(state, node.object):
            function.comment = node.comment


def publication_tables(objects) -> list[tuple[str, str]]:
    return [relation_key(spec.pubtable.relation) for spec in objects or ()
            if getattr(spec, "pubtable", None) is not None]


def create_publication(state: SchemaState, node: ast.CreatePublicationStmt, statement: Statement) -> None:
    state.publications[node.pubname] = publication_tables(node.pubobjects)


def alter_publication(state: SchemaState, node: ast.AlterPublicationStmt, statement: Statement) -> None:
    members = state.publications.setdefault(node.pubname, [])
    tables = publication_tables(node.pubobjects)
    if node.action == enums.AlterPublicationAction.AP_SetObjects:
        members[:] = tables
    for key in tables:
        if node.action == enums.AlterPublicationAction.AP_AddObjects:
            if key in members:
                state.conflict(Origin(statement), f"adds {key[0]}.{key[1]} to publication {node.pubname}, "
                                                  f"which already holds it")
            else:
                members.append(key)
        elif node.action == enums.AlterPublicationAction.AP_DropObjects and key in members:
            members.remove(key)


def create_schema(state: SchemaState, node: ast.CreateSchemaStmt, statement: Statement) -> None:
    """A new schema: only its owner may use it until a GRANT says otherwise."""
    name = node.schemaname or (node.authrole.rolename if node.authrole else None)
    if name is None:
        return
    if name in state.schemas:
        if not node.if_not_exists:
            state.conflict(Origin(statement), f"creates schema {name}, which exists already")
        return
    state.schemas[name] = Schema(name, Origin(statement))


# ---------------------------------------------------------------- privileges

def change_privileges(held: dict[str, dict[str, Grant]], is_grant: bool, roles: tuple[str, ...],
                      privileges: tuple[str, ...], origin: Origin) -> None:
    for role in roles:
        current = held.setdefault(role, {})
        for privilege in privileges:
            if is_grant:
                current[privilege] = Grant(False, origin)
            else:
                current.pop(privilege, None)


def grant(state: SchemaState, node: ast.GrantStmt, statement: Statement) -> None:
    if node.grant_option and not node.is_grant:
        return  # REVOKE GRANT OPTION FOR keeps the privilege itself
    origin = Origin(statement)
    roles = role_names(node.grantees)
    kind = node.objtype
    if kind == enums.ObjectType.OBJECT_TABLE:
        privileges = privilege_names(node.privileges, TABLE_PRIVILEGES)
        for table in granted_tables(state, node):
            change_privileges(table.privileges, node.is_grant, roles, privileges, origin)
    elif kind == enums.ObjectType.OBJECT_SCHEMA:
        privileges = privilege_names(node.privileges, SCHEMA_PRIVILEGES)
        for target in node.objects:
            # a schema made elsewhere: known only for the roles a statement mentions
            schema = state.schemas.setdefault(target.sval, Schema(target.sval, None))
            change_privileges(schema.privileges, node.is_grant, roles, privileges, origin)
    elif kind in (enums.ObjectType.OBJECT_FUNCTION, enums.ObjectType.OBJECT_ROUTINE,
                  enums.ObjectType.OBJECT_PROCEDURE):
        privileges = privilege_names(node.privileges, FUNCTION_PRIVILEGES)
        for function in granted_functions(state, node):
            change_privileges(function.privileges, node.is_grant, roles, privileges, origin)


def granted_tables(state: SchemaState, node: ast.GrantStmt) -> list[Table]:
    if node.targtype == enums.GrantTargetType.ACL_TARGET_ALL_IN_SCHEMA:
        schemas = {s.sval for s in node.objects}
        return [t for t in state.tables.values() if t.schema in schemas]
    return [state.table(relation_key(r)) for r in node.objects]


def granted_functions(state: SchemaState, node: ast.GrantStmt) -> list[Function]:
    if node.targtype == enums.GrantTargetType.ACL_TARGET_ALL_IN_SCHEMA:
        schemas = {s.sval for s in node.objects}
        return [f for f in state.functions.values() if f.schema in schemas]
    return [f for target in node.objects for f in functions_for(state, target)]


def alter_default_privileges(state: SchemaState, node: ast.AlterDefaultPrivilegesStmt,
                             statement: Statement) -> None:
    schemas: list[str | None] = [None]
    for option in node.options or ():
        if option.defname == "schemas":
            schemas = [s.sval for s in option.arg]
    action = node.action
    if action.objtype == enums.ObjectType.OBJECT_TABLE:
        defaults, all_privileges = state.table_defaults, TABLE_PRIVILEGES
    elif action.objtype in (enums.ObjectType.OBJECT_FUNCTION, enums.ObjectType.OBJECT_ROUTINE):
        defaults, all_privileges = state.function_defaults, FUNCTION_PRIVILEGES
    else:
        return
    privileges = privilege_names(action.privileges, all_privileges)
    for schema in schemas:
        scope = defaults.setdefault(schema, {})
        for role in role_names(action.grantees):
            current = scope.setdefault(role, set())
            if action.is_grant:
                current.update(privileges)
            elif not action.grant_option:
                current.difference_update(privileges)


# ---------------------------------------------------------------- drops

def drop(state: SchemaState, node: ast.DropStmt, statement: Statement) -> None:
    kind = node.removeType
    for target in node.objects or ():
        if kind == enums.ObjectType.OBJECT_TABLE:
            drop_table(state, name_key(target), node, statement)
        elif kind == enums.ObjectType.OBJECT_TRIGGER:
            table = state.tables.get(name_key(target[:-1]))
            if table is not None:
                if table.triggers.pop(target[-1].sval, None) is None and not node.missing_ok \
                        and not table.external:
                    state.conflict(Origin(statement), f"{table.qualified_name} has no trigger {target[-1].sval}")
        elif kind == enums.ObjectType.OBJECT_VIEW:
            state.views.pop(name_key(target), None)
        elif kind == enums.ObjectType.OBJECT_TYPE:
            drop_enum(state, target.names)
        elif kind == enums.ObjectType.OBJECT_SCHEMA:
            state.schemas.pop(target.sval, None)
        elif kind == enums.ObjectType.OBJECT_INDEX:
            drop_index(state, target)
        elif kind == enums.ObjectType.OBJECT_POLICY:
            table = state.tables.get(name_key(target[:-1]))
            if table is not None:
                table.policies.pop(target[-1].sval, None)
        elif kind in (enums.ObjectType.OBJECT_FUNCTION, enums.ObjectType.OBJECT_PROCEDURE,
                      enums.ObjectType.OBJECT_ROUTINE):
            for function in functions_for(state, target):
                state.functions.pop((function.schema, function.name, function.arg_types), None)


def drop_table(state: SchemaState, key: tuple[str, str], node: ast.DropStmt, statement: Statement) -> None:
    table = state.tables.pop(key, None)
    if table is None:
        return
    for members in state.publications.values():
        if key in members:
            members.remove(key)
    for other in state.tables.values():
        dependents = [fk for fk in other.foreign_keys if fk.target == key]
        if dependents and node.behavior != enums.DropBehavior.DROP_CASCADE and not other.external:
            state.conflict(Origin(statement), f"drops {table.qualified_name}, which {other.qualified_name}'s "
                                              f"foreign key {dependents[0].name} references (use cascade)")
        other.foreign_keys = [fk for fk in other.foreign_keys if fk.target != key]


def drop_index(state: SchemaState, target: tuple) -> None:
    schema, name = name_key(target)
    for table in state.tables.values():
        if table.schema == schema:
            table.indexes = [ix for ix in table.indexes if ix.name != name]


HANDLERS: dict[type, Callable[[SchemaState, ast.Node, Statement], None]] = {
    ast.CreateStmt: create_table,
    ast.CreateTableAsStmt: create_table_as,
    ast.AlterObjectSchemaStmt: set_schema,
    ast.AlterTableStmt: alter_table,
    ast.IndexStmt: create_index,
    ast.ViewStmt: create_view,
    ast.RenameStmt: rename,
    ast.CreatePolicyStmt: create_policy,
    ast.AlterPolicyStmt: alter_policy,
    ast.CreateFunctionStmt: create_function,
    ast.AlterFunctionStmt: alter_function,
    ast.GrantStmt: grant,
    ast.AlterDefaultPrivilegesStmt: alter_default_privileges,
    ast.DropStmt: drop,
    ast.CreateTrigStmt: create_trigger,
    ast.CommentStmt: comment,
    ast.CreatePublicationStmt: create_publication,
    ast.AlterPublicationStmt: alter_publication,
    ast.CreateSchemaStmt: create_schema,
    ast.CreateEnumStmt: create_enum,
    ast.AlterEnumStmt: alter_enum,
}


def touched_tables(node: ast.Node) -> list[tuple[str, str]]:
    """The tables a schema-changing statement acts on (none for other statements)."""
    if isinstance(node, (ast.AlterTableStmt, ast.IndexStmt, ast.CreateTrigStmt, ast.CreateStmt)):
        return [relation_key(node.relation)]
    if isinstance(node, (ast.CreatePolicyStmt, ast.AlterPolicyStmt)):
        return [relation_key(node.table)]
    if isinstance(node, ast.RenameStmt) and node.relation is not None:
        return [relation_key(node.relation)]
    if isinstance(node, ast.CommentStmt) and node.objtype == enums.ObjectType.OBJECT_TABLE:
        return [name_key(node.object)]
    if isinstance(node, ast.CommentStmt) and node.objtype == enums.ObjectType.OBJECT_COLUMN:
        return [name_key(node.object[:-1])]
    if isinstance(node, ast.GrantStmt) and node.objtype == enums.ObjectType.OBJECT_TABLE \
            and node.targtype == enums.GrantTargetType.ACL_TARGET_OBJECT:
        return [relation_key(r) for r in node.objects]
    if isinstance(node, ast.AlterPublicationStmt):
        return publication_tables(node.pubobjects)
    if isinstance(node, ast.DropStmt):
        if node.removeType == enums.ObjectType.OBJECT_TABLE:
            return [name_key(target) for target in node.objects]
        if node.removeType in (enums.ObjectType.OBJECT_POLICY, enums.ObjectType.OBJECT_TRIGGER):
            return [name_key(target[:-1]) for target in node.objects]
    return []
