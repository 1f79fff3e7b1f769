"""What the policy tests know of each table, read from the project model.

Spec'd tables and external ones (the workspaces, the memberships, anything a spec references)
get the same shape: columns and types, the key that names a row, where a row's workspace
comes from, references, unique keys and the columns the tests must fill in. Nothing here
knows any table by name except Supabase's own ``auth.users``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from pglast import parse_sql

from tenantspec.catalog.expression import text_rules
from tenantspec.catalog.json_schema import document, schema_checks
from tenantspec.catalog.nodes import columns_read
from tenantspec.render.helpers import GuardFunction, RecheckFunction
from tenantspec.render.migrations import functions_of
from tenantspec.render.predicates import self_ties
from tenantspec.spec import model
from tenantspec.spec.expressions import condition_values, storage_type
from tenantspec.testing.values import family

USERS = model.Name("auth", "users")
USERS_COLUMNS = {"id": "uuid", "email": "text"}


@dataclass(frozen=True)
class Reference:
    """A foreign key from one column, as the tests need it."""

    column: str
    target: model.Name
    target_column: str
    same_workspace: bool
    on_delete: str | None
    not_null: bool
    parent: bool  # the column that gives the row its workspace (tenancy.parent)
    enforced: bool = False  # a same-workspace tie a composite foreign key holds (for every role)


@dataclass(frozen=True)
class UniqueKey:
    columns: tuple[str, ...]
    where: str | None = None  # a partial unique index's predicate

    def covers(self, row: Mapping) -> bool:
        """Whether the key holds for ``row``: always, or where its predicate does. A predicate
        of columns' values (``is_default``, ``deleted_at is null``) is judged on the row, a
        column it leaves out taken as null; another covers no row (it cannot be judged here)."""
        if self.where is None:
            return True
        wanted = condition_values(self.where)
        return wanted is not None and all(_same(row.get(column), value) for column, value in wanted.items())


def _same(stored, value) -> bool:
    """A row's text value against a condition's (True, False, None or text)."""
    if value is None or stored is None:
        return stored is None and value is None
    if isinstance(value, bool):
        return str(stored).strip().lower() in (("true", "t", "yes", "on", "1") if value else ("false", "f", "no", "off", "0"))
    return str(stored) == str(value)


@dataclass(frozen=True)
class TableFacts:
    name: model.Name
    spec: model.Table | None  # None: an external table
    columns: dict[str, str] = field(hash=False)  # name -> SQL type
    key: tuple[str, ...] = ()
    workspace_column: str | None = None
    carried: str | None = None  # a workspace column the database fills from the parent row
    guarded: bool = False  # a trigger refuses the API roles any change of a row's workspace
    rechecked: bool = False  # a trigger refuses a move that leaves a same-workspace reference behind
    parent: Reference | None = None
    references: tuple[Reference, ...] = ()
    unique_keys: tuple[UniqueKey, ...] = ()
    required: frozenset[str] = frozenset()  # not null and no default: an insert must give them
    not_null: frozenset[str] = frozenset()
    one_of: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    documents: dict[str, str] = field(default_factory=dict, hash=False)  # a JSON a CHECK's schema accepts
    text_rules: dict[str, tuple] = field(default_factory=dict, hash=False)  # a CHECK's pattern, least length
    payload: str | None = None  # the column plain updates change
    seed: dict = field(default_factory=dict, hash=False)
    label: str = ""  # how test parameters name the table: its name, schema-prefixed outside the project's
    user: str | None = None  # the column naming the user a row belongs to (tenancy.user)
    per_user: bool = False  # rows belong to users, not to workspaces
    computed: frozenset[str] = frozenset()  # generated columns: the database writes them
    identity_always: bool = False  # an insert gives its values with OVERRIDING SYSTEM VALUE

    def reference(self, column: str) -> Reference | None:
        return next((r for r in self.references if r.column == column), None)

    @property
    def personal(self) -> tuple[str, ...]:
        """The commands a row's user may run on its rows of no workspace (tenancy.personal)."""
        return self.spec.tenancy.personal if self.spec is not None else ()

    @property
    def user_parent(self) -> bool:
        """A per-user table whose rows are their parent row's user's."""
        return self.per_user and self.user is None and self.parent is not None

    @property
    def ties(self) -> tuple[Reference, ...]:
        """References that must stay within the row's workspace (parent included)."""
        return tuple(r for r in self.references if r.same_workspace or r.parent)


def facts_of(project: model.Project) -> dict[model.Name, TableFacts]:
    """Facts for every spec'd table, every external table and ``auth.users``."""
    facts: dict[model.Name, TableFacts] = {}
    referenced: dict[model.Name, set[str]] = {}
    for table in project.tables.values():
        for column in table.columns:
            if column.references:
                referenced.setdefault(column.references.table, set()).add(column.references.column)
    for ext in project.external_tables.values():
        for target in ext.references.values():
            referenced.setdefault(target.table, set()).add(target.column)
    members = project.tenancy.members
    for name, ext in project.external_tables.items():
        key = tuple(sorted(referenced.get(name, ())))
        if not key:
            if "id" in ext.columns:
                key = ("id",)
            elif name == members.table:
                key = (members.workspace_column, members.user_column)
            else:
                key = (ext.workspace_column,) if ext.workspace_column else tuple(ext.columns)[:1]
        columns = {column: project.base_type(storage_type(type_text)) for column, type_text in ext.columns.items()}
        # An external table's own foreign keys, as declared: whether the column may be null is
        # not said, so the tests always fill it.
        references = tuple(Reference(column=column, target=target.table, target_column=target.column,
                                     same_workspace=False, on_delete=target.on_delete, not_null=True, parent=False)
                           for column, target in ext.references.items())
        facts[name] = TableFacts(name=name, spec=None, columns=columns, key=key,
                                 workspace_column=ext.workspace_column, seed=dict(ext.seed),
                                 label=_label(project, name), references=references)
    if USERS not in facts:
        facts[USERS] = TableFacts(name=USERS, spec=None, columns=dict(USERS_COLUMNS), key=("id",),
                                  label=_label(project, USERS))
    for table in project.tables.values():
        facts[table.name] = _spec_facts(project, table)
    return facts


def _label(project: model.Project, name: model.Name) -> str:
    return name.name if name.schema == project.schema else f"{name.schema}_{name.name}"


def _spec_facts(project: model.Project, table: model.Table) -> TableFacts:
    held = {c.name for c in self_ties(table)}
    references = tuple(
        Reference(column=c.name, target=c.references.table, target_column=c.references.column,
                  same_workspace=c.references.same_workspace, on_delete=c.references.on_delete,
                  not_null=c.not_null, parent=c.name == table.tenancy.parent, enforced=c.name in held)
        for c in table.columns if c.references
    )
    unique_keys = [UniqueKey(table.primary_key)] + [UniqueKey(cols) for cols in table.unique]
    unique_keys += [UniqueKey(i.columns, i.where) for i in table.indexes if i.unique]
    in_checks = set()
    documents, text = {}, {}
    for check in table.checks:
        statement = parse_sql(f"select {check.expression}")[0]
        in_checks |= columns_read(statement)
        expression = statement.stmt.targetList[0].val
        documents |= {column: json.dumps(document(schema)) for column, schema in schema_checks(expression).items()}
        text |= text_rules(expression)
    keyed = {c for key in unique_keys for c in key.columns}
    # The functions that guard or recheck a move: the ones the spec generates, or, for a table
    # read from the catalog (it has no spec location), the ones its triggers call.
    move_triggers = {t.function.name for t in table.triggers} if table.location is None else \
        {f.function for f in functions_of(project, table)}
    tied = {r.column for r in references} | {table.tenancy.key}
    return TableFacts(
        name=table.name, spec=table,
        columns={c.name: project.base_type(storage_type(c.type)) for c in table.columns},  # a domain's base
        key=table.primary_key,
        workspace_column=table.tenancy.workspace_column,
        carried=table.tenancy.carried,
        guarded=GuardFunction().function in move_triggers,
        rechecked=RecheckFunction(table.name.name).function in move_triggers,
        parent=next((r for r in references if r.parent), None),
        references=references,
        unique_keys=tuple(unique_keys),
        required=frozenset(c.name for c in table.columns
                           if c.not_null and c.default is None and c.name != table.tenancy.carried
                           and c.generated is None and not _numbered(c)),
        not_null=frozenset(c.name for c in table.columns if c.not_null),
        one_of=_allowed_values(project, table),
        documents=documents,
        text_rules=text,
        payload=_payload(table, keyed | tied | in_checks),
        label=_label(project, table.name),
        user=table.tenancy.user,
        per_user=table.tenancy.per_user,
        computed=frozenset(c.name for c in table.columns if c.generated is not None),
        identity_always=any(c.identity == "always" for c in table.columns),
    )


def _numbered(column: model.Column) -> bool:
    """A column the database numbers: serial, or an identity."""
    return column.identity is not None or column.type.split("(")[0].strip().lower() in (
        "serial", "bigserial", "smallserial", "serial2", "serial4", "serial8")


def _allowed_values(project: model.Project, table: model.Table) -> dict[str, tuple[str, ...]]:
    """The values a column may take: its ``one_of``, or its enum type's."""
    found = {}
    for column in table.columns:
        base = project.base_type(column.type)  # a domain over an enum takes the enum's values
        enum = project.enum_of(base) if not base.endswith("]") else None
        if column.one_of or enum is not None:
            found[column.name] = column.one_of or enum.values
    return found


def _payload(table: model.Table, avoid: set[str]) -> str | None:
    """A column a plain update can change without touching keys, references or checks:
    text first, then numbers, booleans, any other type the tests make values of, then a
    column with two allowed values or more. None when every column is a key or a reference."""
    candidates = [c for c in table.columns if c.name not in avoid and not c.primary_key
                  and c.generated is None and c.identity is None]
    for wanted in ("text", "integer", "boolean", "json", "timestamp", "date", "time", "interval", "array"):
        for column in candidates:
            if family(column.type) == wanted and not column.one_of:
                return column.name
    return next((c.name for c in candidates if len(c.one_of) >= 2), None)
