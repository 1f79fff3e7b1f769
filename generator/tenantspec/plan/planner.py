"""Plan the next migration: the statements that take what the committed migrations build to
what the specs describe.

Both sides are read the same way: the committed migrations are replayed into a schema state
(``tenantspec.catalog.replay``), and so is a fresh render of the specs. Comparing the two, object
by object (columns, constraints, indexes, triggers, policies, grants, helpers, realtime), gives
an ordered list of steps. Each step says in words what it changes and carries its hazards;
destructive ones are refused unless allowed. Creating statements come from the spec model,
through the same template macros a fresh migration uses.

Grants are compared under both of Supabase's default-privilege regimes, and restated whole
whenever either differs, so the migration is right whichever one a project has.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tenantspec.catalog.nodes import rename_column_refs
from tenantspec.catalog.state import LEGACY, SchemaState, Table
from tenantspec.plan.access import AccessSteps
from tenantspec.plan.buckets import BucketSteps
from tenantspec.plan.columns import ColumnSteps
from tenantspec.plan.compare import execute_by_role, function_definition, managed, match
from tenantspec.plan.constraints import ConstraintSteps
from tenantspec.plan.enums import enum_steps
from tenantspec.plan.steps import (
    COMMENT,
    CREATE_TABLE,
    CREATE_TRIGGER,
    DROP_HELPER,
    DROP_TABLE,
    DROP_TRIGGER,
    ENABLE_RLS,
    HELPERS,
    REGIMES,
    RENAME,
    Hazard,
    Plan,
    Step,
)
from tenantspec.render.helpers import (
    ParentHelper,
    bucket_helpers,
    helper_name,
    helpers_of,
    states_grants,
)
from tenantspec.render.migrations import (
    environment,
    functions_of,
    generated_triggers,
    helper_schema_statements,
    helper_text,
    placed_functions,
    table_context,
    trigger_context,
)
from tenantspec.render.quoting import ident, literal, qualified
from tenantspec.spec import model

# ---------------------------------------------------------------- the planner

@dataclass
class Planner(ColumnSteps, ConstraintSteps, AccessSteps, BucketSteps):
    """Compares ``current`` (the committed migrations, replayed) with ``desired`` (a fresh
    render of the specs, replayed), both by privilege regime, for the objects tenantspec manages."""

    project: model.Project
    current: dict[str, SchemaState]
    desired: dict[str, SchemaState]
    generated: set[str]  # file names of the migrations tenantspec generated
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.sql = environment().get_template("statements.sql.j2").module
        self.cur = self.current[LEGACY]
        self.want = self.desired[LEGACY]
        self.schema = self.project.schema
        # columns whose type changes, by table: policies that read them are recreated
        self.retyped: dict[str, set[str]] = {}
        self.new_tables: list[str] = []

    # -- helpers ---------------------------------------------------------------------

    def add(self, phase: int, summary: str, statements: Iterable[str], table: str | None = None,
            hazards: Iterable[Hazard] = (), label: tuple[str, str] | None = None) -> None:
        self.steps.append(Step(phase, summary, tuple(statements), table, tuple(hazards), label))

    def created_by_tenantspec(self, origin) -> bool:
        return origin is not None and Path(origin.statement.file.path).name in self.generated

    def managed_tables(self) -> list[str]:
        """Spec'd tables, in dependency order, then tables tenantspec created whose spec is gone."""
        names = list(self.project.tables)
        gone = managed(self.project, self.cur, self.generated) - {(self.schema, name) for name in names}
        return names + sorted(name for schema, name in gone if schema == self.schema)

    # -- the whole plan ----------------------------------------------------------------

    def plan(self) -> Plan:
        self.steps += enum_steps(self.project, self.cur, self.sql,
                                 lambda phase, summary, statements, label, hazards: Step(
                                     phase, summary, tuple(statements), None, tuple(hazards), label), self.retyped)
        for name in self.managed_tables():
            key = (self.schema, name)
            current, wanted = self.cur.tables.get(key), self.want.tables.get(key)
            if current is not None and current.external:
                current = None
            if wanted is None:
                self.drop_table(name, current)
            elif current is None:
                self.new_tables.append(name)
            else:
                self.table_changes(self.project.tables[name], current, wanted)
        self.unmanaged_notes()
        self.helpers()
        self.buckets()
        self.create_tables()
        order = {step: i for i, step in enumerate(self.steps)}
        steps = sorted(self.steps, key=lambda s: (s.phase, order[s]))
        sources = [self.project.source] + sorted({self.project.tables[s.table].source for s in steps
                                                   if s.table in self.project.tables})
        return Plan(tuple(steps), tuple(self.notes), tuple(sources))

    def unmanaged_notes(self) -> None:
        for (schema, name), table in sorted(self.cur.tables.items()):
            if schema == self.schema and name not in self.project.tables and not table.external \
                    and not self.created_by_tenantspec(table.origin) and self.touched_by_tenantspec(table):
                self.notes.append(f"{schema}.{name} has no spec any more; tenantspec leaves it as it is "
                                  f"(created by {table.origin.location})")

    def touched_by_tenantspec(self, table: Table) -> bool:
        origins = [p.origin for p in table.policies.values()] + [c.origin for c in table.columns.values()]
        return any(self.created_by_tenantspec(o) for o in origins)

    # -- tables --------------------------------------------------------------------------

    def drop_table(self, name: str, current: Table | None) -> None:
        if current is None:
            return
        where = current.origin.location if current.origin else None
        self.add(DROP_TABLE, f"drop table {name} (its spec is gone)",
                 [self.sql.drop_table(qualified(model.Name(self.schema, name)))], name,
                 [Hazard(f"drops table {self.schema}.{name} and every row in it (its spec schema/{name}.yaml "
                         f"is gone)", where)], ("drop", name))

    def create_tables(self) -> None:
        """New tables as a fresh migration writes them: their helpers, then the table block."""
        if not self.new_tables:
            return
        tables = [self.project.tables[name] for name in self.new_tables]
        emitted = {h for h in self.helper_tables if not self.placed_with_new_table(h)}
        placed = placed_functions(self.project, tables, emitted)
        for table in tables:
            context = table_context(self.project, table, placed[table.name.name])
            self.add(CREATE_TABLE, f"create table {table.name.name}" + (f": {table.comment}" if table.comment else ""),
                     [self.sql.table_block(context)], table.name.name, label=("create", table.name.name))

    def table_changes(self, spec: model.Table, current: Table, wanted: Table) -> None:
        renames = self.column_renames(spec, current)
        self.columns(spec, current, wanted, renames)
        self.constraints(spec, current, wanted, renames)
        self.indexes(spec, current, wanted, renames)
        self.triggers(spec, current, wanted)
        self.comment(spec, current, wanted)
        self.rls(spec, current, wanted)
        self.policies(spec, current, wanted, renames)
        self.grants(spec)
        self.publication(spec)

    def column_renames(self, spec: model.Table, current: Table) -> dict[str, str]:
        """``{old: new}`` for spec columns ``renamed_from`` a column the table still has."""
        renames = {}
        for column in spec.columns:
            old = column.renamed_from
            if old and old in current.columns and column.name not in current.columns:
                renames[old] = column.name
        return renames

    def renamed(self, node, table: str, renames: dict[str, str], top_level_only: bool = False):
        for old, new in renames.items():
            node = rename_column_refs(node, table, old, new, top_level_only)
        return node

    # -- columns ---------------------------------------------------------------------------

    # -- triggers, comments, RLS ---------------------------------------------------------------

    def triggers(self, spec: model.Table, current: Table, wanted: Table) -> None:
        name, qname = spec.name.name, qualified(spec.name)
        definition = lambda t: (t.timing, t.events, t.columns, t.for_each_row, t.function, t.when,  # noqa: E731
                                t.arguments)
        have = {n: definition(t) for n, t in current.triggers.items()}
        want = {n: definition(t) for n, t in wanted.triggers.items()}
        by_name = {trigger.name: trigger for trigger in spec.triggers + tuple(generated_triggers(self.project, spec))}
        matched = match(have, want)
        for old, trigger in matched.renamed:
            self.add(RENAME, f"{name}: rename trigger {old} to {trigger}",
                     [self.sql.rename_trigger(ident(old), qname, ident(trigger))], name)
        for trigger in matched.created:
            context = trigger_context(by_name[trigger])
            self.add(CREATE_TRIGGER, f"{name}: create trigger {trigger} ({context['timing']} "
                     f"{context['events']}, {context['function']}())",
                     [self.sql.create_trigger(context, qname)], name, label=("trigger", name))
        for trigger in matched.dropped:
            self.add(DROP_TRIGGER, f"{name}: drop trigger {trigger}", [self.sql.drop_trigger(ident(trigger), qname)],
                     name)

    def comment(self, spec: model.Table, current: Table, wanted: Table) -> None:
        if (current.comment or None) != (wanted.comment or None):
            text = literal(spec.comment) if spec.comment else "null"
            self.add(COMMENT, f"{spec.name.name}: table comment " + ("changed" if spec.comment else "removed"),
                     [self.sql.set_comment(f"table {qualified(spec.name)}", text)], spec.name.name)

    def rls(self, spec: model.Table, current: Table, wanted: Table) -> None:
        if wanted.rls and not current.rls:
            self.add(ENABLE_RLS, f"{spec.name.name}: enable row level security",
                     [self.sql.enable_rls(qualified(spec.name))], spec.name.name, label=("secure", spec.name.name))

    # -- policies and grants ---------------------------------------------------------------

    # -- helpers --------------------------------------------------------------------------

    def helper_functions(self, state: SchemaState) -> dict[str, object]:
        """The argument-less functions in the helper schema of ``state``, by name."""
        schema = self.project.helper_schema
        return {f.name: f for f in state.functions.values() if f.schema == schema and not f.arg_types}

    @cached_property
    def helper_tables(self) -> dict:
        """Every helper the specs need, in creation order, and the table it serves."""
        found: dict = {}
        for table in self.project.tables.values():
            for helper in helpers_of(self.project, table) + functions_of(self.project, table):
                found.setdefault(helper, table)
        for helper in bucket_helpers(self.project):  # a workspace helper needs no table
            found.setdefault(helper, None)
        return found

    def placed_with_new_table(self, helper) -> bool:
        """A parent helper whose parent is new is created right after it, with the new tables."""
        return isinstance(helper, ParentHelper) and helper.parent in self.new_tables

    def helpers(self) -> None:
        """Create or replace the helpers the policies and triggers need; drop the ones nothing uses."""
        schema = self.project.helper_schema
        existing = self.helper_functions(self.cur)
        wanted = self.helper_functions(self.want)
        statements: list[str] = []
        words: list[str] = []
        if wanted and not self.schema_ready(schema):
            statements += [f"{s};" for s in helper_schema_statements(self.project)]
            words.append(f"schema {schema}")
        for helper, table in self.helper_tables.items():
            if self.placed_with_new_table(helper):
                continue
            function = existing.get(helper.function)
            target = wanted[helper.function]
            same_body = function is not None and function_definition(function) == function_definition(target)
            key = (schema, helper.function, ())
            same_grants = function is not None and (not states_grants(helper) or all(
                execute_by_role(self.current[regime].functions.get(key))
                == execute_by_role(self.desired[regime].functions.get(key)) for regime in REGIMES))
            if same_body and same_grants:
                continue
            statements.append(helper_text(self.project, helper, table))
            words.append(f"{helper_name(self.project, helper)}() " + (
                "created" if function is None else "replaced" if not same_body else "grants restated"))
        if statements:
            self.add(HELPERS, "helpers: " + ", ".join(words), statements, label=("helpers", "rls"))
        for function_name, function in existing.items():
            if function_name not in wanted and self.created_by_tenantspec(function.origin):
                self.add(DROP_HELPER, f"helpers: drop {schema}.{function_name}() (nothing uses it)",
                         [self.sql.drop_function(qualified(model.Name(schema, function_name)))],
                         label=("helpers", "rls"))

    def schema_ready(self, schema: str) -> bool:
        held = self.cur.schemas.get(schema)
        return held is not None and "usage" in held.privileges.get("authenticated", {})


def plan_migration(project: model.Project, current: dict[str, SchemaState], desired: dict[str, SchemaState],
                   generated: set[str]) -> Plan:
    """The steps from ``current`` to ``desired``; empty when the specs and the migrations agree."""
    return Planner(project, current, desired, generated).plan()
