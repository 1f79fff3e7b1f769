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

from pglast import ast

from tenantspec import model
from tenantspec.catalog import names as pg_names
from tenantspec.catalog.nodes import columns_read, deparse, normalized, rename_column_refs, walk
from tenantspec.catalog.replay import LEGACY, PUBLIC, RESTRICTED, SchemaState, Table
from tenantspec.errors import Location, Problem, TenantspecError
from tenantspec.expressions import is_serial, timezone_call, utc_timezone_call
from tenantspec.helpers import ParentHelper, helper_name, helpers_of, states_grants
from tenantspec.plan_types import enum_steps
from tenantspec.predicates import grants_of, policies_of
from tenantspec.quoting import ident, literal, qualified
from tenantspec.render import (
    column_definition,
    environment,
    functions_of,
    generated_triggers,
    helper_schema_statements,
    helper_text,
    index_context,
    named_constraints,
    placed_functions,
    publication_context,
    table_context,
    trigger_context,
)

REGIMES = (LEGACY, RESTRICTED)
GRANTEES = ("public", "anon", "authenticated", "service_role")
REALTIME = "supabase_realtime"

# Step phases: the order PostgreSQL accepts. Whatever uses an object goes before it does
# (policies before the columns they read), and is created after it exists.
DROP_POLICY, DROP_TRIGGER, DROP_FOREIGN_KEY, DROP_CONSTRAINT, DROP_INDEX = 10, 11, 12, 13, 14
LEAVE_PUBLICATION, DROP_TABLE, RENAME, DROP_COLUMN, ALTER_COLUMN, ADD_COLUMN = 15, 16, 20, 30, 40, 41
# keys come before new tables, whose foreign keys may need them; foreign keys and checks after
HELPERS, ADD_KEY, CREATE_TABLE, ADD_CONSTRAINT, CREATE_INDEX, COMMENT, CREATE_TRIGGER = 50, 55, 60, 70, 71, 80, 81
ENABLE_RLS, CREATE_POLICY, GRANTS, JOIN_PUBLICATION, DROP_HELPER = 85, 90, 100, 110, 120

NUMERIC_TYPES = frozenset({"int2", "int4", "int8", "numeric", "float4", "float8"})
STRING_TYPES = frozenset({"text", "varchar", "bpchar"})
TIME_TYPES = frozenset({"date", "timestamp", "timestamptz"})
# old -> types that hold every value of it
WIDER = {
    "int2": {"int4", "int8", "numeric", "float8"},
    "int4": {"int8", "numeric", "float8"},
    "int8": {"numeric"},
    "float4": {"float8"},
    "varchar": {"text"},
    "bpchar": {"text", "varchar"},
    "date": {"timestamp", "timestamptz"},
}


@dataclass(frozen=True)
class Hazard:
    """Something a step may do to data; ``destructive`` ones are refused unless allowed."""

    message: str
    location: Location | None
    destructive: bool = True

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


@dataclass(frozen=True)
class Step:
    """One change, in words, and the statements that make it."""

    phase: int
    summary: str
    statements: tuple[str, ...]
    table: str | None = None
    hazards: tuple[Hazard, ...] = ()
    # (verb, object) for naming the migration: ("add", "notes"), ("create", "audit_log")
    label: tuple[str, str] | None = None


def proving_check(table: str, column: str) -> str:
    """The CHECK that lets ``set not null`` skip its scan of the table. Its label is not
    PostgreSQL 18's ``not_null``, so the NOT NULL constraint created beside it keeps the name a
    fresh table gets (``<table>_<column>_not_null``), never a numbered one."""
    return ident(pg_names.object_name(table, column, pg_names.NOT_NULL_CHECK))


@dataclass(frozen=True)
class Plan:
    """The ordered steps of the next migration, and what reviewers should know besides."""

    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.steps

    @property
    def hazards(self) -> list[Hazard]:
        return [hazard for step in self.steps for hazard in step.hazards]

    @property
    def destructive(self) -> list[Hazard]:
        return [hazard for hazard in self.hazards if hazard.destructive]

    def name(self) -> str:
        """A file name part derived from the change, e.g. ``add_robot_jobs_notes``."""
        labelled = [(s.table, s.label) for s in self.steps if s.label and s.table] or [
            (s.table, s.label) for s in self.steps if s.label]
        tables = list(dict.fromkeys(t for t, _ in labelled if t)) or list(
            dict.fromkeys(s.table for s in self.steps if s.table))
        kinds = list(dict.fromkeys(label for _, label in labelled))
        if len(tables) == 1 and len(kinds) == 1:
            verb, thing = kinds[0]
            name = f"{verb}_{tables[0]}" if thing == tables[0] else f"{verb}_{tables[0]}_{thing}"
        elif tables and all(label[0] == "create" for label in kinds):
            name = "create_" + "_".join(tables[:3])
        elif tables:
            name = "alter_" + "_".join(tables[:3]) + ("_and_more" if len(tables) > 3 else "")
        elif kinds:  # types only: extend_topic_status, create_job_status
            name = "_".join(f"{verb}_{thing}" for verb, thing in kinds[:2])
        else:
            name = "update_helpers"
        return name[:80].rstrip("_")


# ---------------------------------------------------------------- reading the states

def type_key(node: ast.TypeName | None) -> tuple:
    """A column type, the same whichever synonym spelled it: (base, modifiers, array depth)."""
    if node is None:
        return ("", (), 0)
    names = [n.sval for n in node.names]
    # public is on every search_path: public.status and status are one type
    base = names[-1] if len(names) == 1 or names[0] in ("pg_catalog", "public") else ".".join(names)
    return (base, tuple(deparse(m) for m in node.typmods or ()), len(node.arrayBounds or ()))


def lossless(old: tuple, new: tuple) -> bool:
    """Whether every value of type ``old`` survives a change to ``new``."""
    if old == new:
        return True
    (old_base, old_mods, old_dims), (new_base, new_mods, new_dims) = old, new
    if old_dims != new_dims:
        return False
    if new_base == "text" or (new_base == "varchar" and not new_mods):
        return True
    if old_base == new_base:
        if not new_mods:
            return True
        if not old_mods or len(old_mods) != len(new_mods):
            return False
        numbers = [int(m) for m in old_mods], [int(m) for m in new_mods]
        if old_base == "numeric" and len(old_mods) == 2:
            (precision, scale), (new_precision, new_scale) = numbers
            return new_scale >= scale and new_precision - new_scale >= precision - scale
        return all(n >= o for o, n in zip(*numbers))
    return new_base in WIDER.get(old_base, ()) and not new_mods


def needs_using(old: tuple, new: tuple) -> bool:
    """PostgreSQL converts without USING only where an implicit or assignment cast exists."""
    if old[2] != new[2]:
        return True
    pair = {old[0], new[0]}
    return not (new[0] in STRING_TYPES or pair <= NUMERIC_TYPES or pair <= TIME_TYPES or old[0] == new[0])


def expression_text(node) -> str | None:
    return None if node is None else deparse(node)


# Definitions below hold expressions as syntax trees: pglast compares them ignoring where in
# the text they stood, and much faster than printing them.


def in_list_values(node) -> set[str] | None:
    """The values of ``col in ('a', 'b')`` (or ``= any (array[...])``), else None."""
    values = set()
    for child, _ in walk(node):
        if isinstance(child, ast.A_Const) and isinstance(child.val, ast.String):
            values.add(child.val.sval)
    return values or None


def grants_by_role(table: Table | None) -> dict[str, frozenset[str]]:
    held = table.privileges if table is not None else {}
    return {role: frozenset(held.get(role, {})) for role in GRANTEES}


def execute_by_role(function) -> dict[str, bool]:
    held = function.privileges if function is not None else {}
    return {role: "execute" in held.get(role, {}) for role in GRANTEES}


def function_definition(function) -> tuple:
    return (function.returns, function.language, function.volatility, function.security_definer,
            function.search_path, function.body)


def policy_definition(policy, using=None, check=None) -> tuple:
    return (policy.command, policy.permissive, tuple(sorted(policy.roles)),
            policy.using if using is None else using,
            policy.check if check is None else check)


def managed(project: model.Project, state: SchemaState, generated: set[str]) -> set[tuple[str, str]]:
    """Tables tenantspec owns: the spec'd ones and the ones a migration it generated created."""
    owned = {(project.schema, name) for name in project.tables}
    for key, table in state.tables.items():
        if table.origin is not None and Path(table.origin.statement.file.path).name in generated:
            owned.add(key)
    return owned


@dataclass(frozen=True)
class Matched:
    """Named objects of one kind (constraints, indexes, triggers) compared by definition."""

    renamed: tuple[tuple[str, str], ...]  # (old, new): the same definition under a new name
    created: tuple[str, ...]  # wanted, in order
    dropped: tuple[str, ...]  # had, and neither kept nor renamed


def match(have: dict[str, object], want: dict[str, object]) -> Matched:
    """Keep what has the same name and definition, rename what has only another name (a derived
    name that changed, a hand-written name), and create or drop the rest."""
    unmatched = {name: d for name, d in have.items() if want.get(name) != d}
    renamed, created = [], []
    for name, definition in want.items():
        if have.get(name) == definition:
            continue
        same = next((old for old, d in unmatched.items() if d == definition and old not in want), None)
        if same is not None:
            del unmatched[same]
            renamed.append((same, name))
        else:
            created.append(name)
    return Matched(tuple(renamed), tuple(created), tuple(unmatched))


# ---------------------------------------------------------------- the planner

@dataclass
class Planner:
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

    def columns(self, spec: model.Table, current: Table, wanted: Table, renames: dict[str, str]) -> None:
        name, qname = spec.name.name, qualified(spec.name)
        for old, new in renames.items():
            self.add(RENAME, f"{name}: rename column {old} to {new} (rows keep their values)",
                     [self.sql.rename_column(qname, ident(old), ident(new))], name, label=("rename", f"{old}_to_{new}"))
        columns = {renames.get(n, n): c for n, c in current.columns.items()}
        for column_name in columns:
            if column_name not in wanted.columns:
                self.add(DROP_COLUMN, f"{name}: drop column {column_name}",
                         [self.sql.drop_column(qname, ident(column_name))], name,
                         [Hazard(f"drops column {name}.{column_name} and its values", spec.locate("columns"))],
                         ("drop", column_name))
        for column_name, target in wanted.columns.items():
            column_spec = spec.column(column_name)
            existing = columns.get(column_name)
            if existing is None:
                self.add_column(spec, column_spec, current)
            else:
                self.alter_column(spec, column_spec, existing, target)

    def add_column(self, spec: model.Table, column: model.Column, current: Table) -> None:
        name = spec.name.name
        hazards = []
        if column.name == spec.tenancy.carried:
            self.add_carried_column(spec, column, current)
            return
        numbered = column.identity is not None or is_serial(column.type)  # existing rows get numbers too
        if column.not_null and column.default is None and not numbered:
            hazards.append(Hazard(f"adds {name}.{column.name} not null without a default: the migration fails "
                                  "if the table has rows; give the column a default", column.locate("not_null")))
        rewrite = numbered or column.generated is not None
        if rewrite:
            made = "its expression" if column.generated is not None else "the next numbers"
            hazards.append(Hazard(f"fills {name}.{column.name} of every existing row with {made}: the table is "
                                  "rewritten while writes to it wait", column.locate("type"), destructive=False))
        self.add(ADD_COLUMN, f"{name}: add column {column.name} ({column.type}"
                 + (", not null" if column.not_null else "") + (f", default {column.default}" if column.default else "")
                 + ")", [self.sql.add_column(qualified(spec.name), column_definition(column),
                                             column.not_null and column.default is None, rewrite)],
                 name, hazards, ("add", column.name))
        if column.comment:
            self.column_comment(spec, column, "comment added")

    def add_carried_column(self, spec: model.Table, column: model.Column, current: Table) -> None:
        """The parent's workspace, carried: added empty, filled from the parent, then not null."""
        name, qname, col = spec.name.name, qualified(spec.name), ident(column.name)
        ref = spec.parent_reference()
        nullable = model.Column(column.name, column.type, False, False, None, (), None, None)
        fill = (f"update {qname} as c set {col} = p.{ident(self.project.workspace_of(ref.table))} "
                f"from {qualified(ref.table)} as p where p.{ident(ref.column)} = c.{ident(spec.tenancy.parent)}")
        self.add(ADD_COLUMN, f"{name}: add column {column.name}, the workspace of each row's {ref.table.name} row",
                 [self.sql.add_column(qname, column_definition(nullable)), *self.quiet_update(current, fill),
                  self.sql.set_not_null(qname, col, proving_check(name, column.name))], name,
                 [Hazard(f"fills {name}.{column.name} of every existing row from {ref.table.name} (one update of "
                         "each row; its update triggers are held off)", spec.locate("tenancy"), destructive=False)],
                 ("carry", column.name))
        if column.comment:
            self.column_comment(spec, column, "comment added")

    def quiet_update(self, current: Table, statement: str) -> list[str]:
        """``statement`` (an UPDATE of existing rows) with the table's triggers held off, so
        filling a column does not also rewrite ``updated_at`` and the like."""
        if not any("update" in t.events for t in current.triggers.values()):
            return [f"{statement};"]
        qname = f"{ident(current.schema)}.{ident(current.name)}"
        return [self.sql.set_trigger(qname, "user", "disable"), f"{statement};",
                self.sql.set_trigger(qname, "user", "enable")]

    def column_comment(self, spec: model.Table, column: model.Column, words: str) -> None:
        target = f"column {qualified(spec.name)}.{ident(column.name)}"
        self.add(COMMENT, f"{spec.name.name}.{column.name}: {words}",
                 [self.sql.set_comment(target, literal(column.comment) if column.comment else "null")], spec.name.name)

    def alter_column(self, spec: model.Table, column: model.Column, existing, target) -> None:
        name, qname, col = spec.name.name, qualified(spec.name), ident(column.name)
        old_type, new_type = type_key(existing.type), type_key(target.type)
        retyped = old_type != new_type
        defaults_differ = normalized(existing.default) != normalized(target.default)
        had_default, has_default = existing.default is not None, target.default is not None
        statements, hazards, words = [], [], []
        if retyped:
            self.retyped.setdefault(name, set()).add(column.name)
            cast = needs_using(old_type, new_type)
            # without an assignment cast the old default cannot be converted either
            if cast and had_default:
                statements.append(self.sql.drop_default(qname, col))
            using = f" using {col}::{column.type}" if cast else ""
            statements.append(self.sql.alter_column_type(qname, col, column.type, using))
            words.append(f"type {deparse(existing.type)} -> {column.type}")
            if not lossless(old_type, new_type):
                hazards.append(Hazard(f"changes {name}.{column.name} from {deparse(existing.type)} to {column.type}, "
                                      "which may not hold every existing value", column.locate("type")))
            if has_default and (cast or defaults_differ):
                statements.append(self.sql.set_default(qname, col, column.default))
            elif had_default and not has_default and not cast:
                statements.append(self.sql.drop_default(qname, col))
        elif defaults_differ:
            statements.append(self.sql.set_default(qname, col, column.default) if has_default
                              else self.sql.drop_default(qname, col))
            old_text = expression_text(existing.default)
            words.append(f"default {old_text or 'none'} -> {column.default or 'none'}")
            if existing.type_name == "timestamptz" and old_text and timezone_call(old_text) \
                    and not utc_timezone_call(old_text):
                hazards.append(Hazard(f"rows written under the old default {old_text} hold a local time stored as "
                                      "if it were UTC, hours off: the migration does not rewrite them "
                                      "(docs/adopt.md shows how to fix them)", column.locate("default"),
                                      destructive=False))
        if existing.identity != target.identity:
            if existing.identity is None:
                statements.append(self.sql.add_identity(qname, col, target.identity))
            elif target.identity is None:
                statements.append(self.sql.drop_identity(qname, col))
            else:
                statements.append(self.sql.set_identity(qname, col, target.identity))
            words.append(f"identity {existing.identity or 'none'} -> {target.identity or 'none'}")
        if normalized(existing.generated) != normalized(target.generated):
            raise TenantspecError(Problem(column.locate("generated"), (
                f"{name}.{column.name}: a column's generation cannot change in place on every PostgreSQL: add a "
                "column under a new name (and drop this one) instead")))
        if existing.not_null and not target.not_null and not target.identity:
            statements.append(self.sql.drop_not_null(qname, col))
            words.append("nullable")
        elif target.not_null and not existing.not_null:
            if column.default is not None:
                fill = f"update {qname} set {col} = {column.default} where {col} is null"
                statements += self.quiet_update(self.cur.tables[(spec.name.schema, spec.name.name)], fill)
                hazards.append(Hazard(f"sets {name}.{column.name} to its default {column.default} where it is "
                                      "null, then makes it not null", column.locate("not_null"), destructive=False))
            else:
                hazards.append(Hazard(f"makes {name}.{column.name} not null without a default: the migration "
                                      "fails if any row holds null", column.locate("not_null")))
            statements.append(self.sql.set_not_null(qname, col, proving_check(name, column.name)))
            words.append("not null")
        elif target.not_null and self.renames_not_null(spec, existing, target):
            statements += [self.sql.drop_not_null(qname, col),
                           self.sql.set_not_null(qname, col, proving_check(name, column.name))]
            words.append(f"not-null constraint named as on a fresh table ({existing.not_null_name} -> "
                         f"{target.not_null_name} on PostgreSQL 18; servers before 18 name none)")
        if statements:
            self.add(ALTER_COLUMN, f"{name}.{column.name}: " + ", ".join(words), statements, name, hazards,
                     ("alter", column.name))
        if (existing.comment or None) != (target.comment or None):
            self.column_comment(spec, column, "comment changed" if target.comment else "comment removed")

    def renames_not_null(self, spec: model.Table, existing, target) -> bool:
        """PostgreSQL 18 names a NOT NULL constraint once, when the column becomes NOT NULL: a
        renamed column, or a name that was taken then, leaves the chain with another name than a
        fresh render. Making the column NOT NULL again gives it the fresh name, on a server that
        names the constraint; elsewhere it changes nothing. A primary-key column cannot drop NOT
        NULL, and a name the schema still holds would be numbered again: both are left as they are."""
        if existing.not_null_name == target.not_null_name or target.not_null_name is None:
            return False
        keyed = set(self.cur.tables[(spec.name.schema, spec.name.name)].primary_key)
        return (existing.name not in keyed and target.name not in keyed
                and not self.cur.constraint_name_taken(spec.name.schema, target.not_null_name))

    # -- constraints and indexes ------------------------------------------------------------

    def constraint_definitions(self, table: Table, renames: dict[str, str] | None = None) -> dict[str, tuple]:
        """``{name: definition}`` of every constraint, in comparable form."""
        renames = renames or {}
        swap = lambda names: tuple(renames.get(n, n) for n in names)  # noqa: E731
        found = {}
        for fk in table.foreign_keys:
            found[fk.name] = ("foreign key", swap(fk.columns), fk.target, fk.target_columns, fk.on_delete,
                              fk.on_update)
        for check in table.checks:
            found[check.name] = ("check", normalized(self.renamed(check.expression, table.name, renames)))
        for index in table.indexes:
            if index.constraint:
                found[index.name] = (index.constraint, swap(index.columns))
        return found

    def constraints(self, spec: model.Table, current: Table, wanted: Table, renames: dict[str, str]) -> None:
        name, qname = spec.name.name, qualified(spec.name)
        have = self.constraint_definitions(current, renames)
        want = self.constraint_definitions(wanted)
        definitions = dict(named_constraints(self.project, spec))
        matched = match(have, want)
        for old, constraint in matched.renamed:
            self.add(RENAME, f"{name}: rename constraint {old} to {constraint}",
                     [self.sql.rename_constraint(qname, ident(old), ident(constraint))], name)
        for constraint in matched.created:
            text = f"constraint {ident(constraint)} {definitions[constraint]}"
            kind = want[constraint][0]
            hazards = self.narrowing(spec, current, constraint) if kind == "check" and constraint in have else []
            if kind in ("foreign key", "check"):
                statement = self.sql.add_constraint_not_valid(qname, text, ident(constraint))
                how = "added not valid, then validated"
            else:
                rules = ("adding-serial-primary-key-field" if kind == "primary key" else "disallowed-unique-constraint")
                statement = self.sql.add_constraint(qname, text, f"constraint-missing-not-valid, {rules}")
                how = "builds its index while the table is locked"
            self.add(ADD_CONSTRAINT if kind in ("foreign key", "check") else ADD_KEY,
                     f"{name}: add {kind} {constraint} ({how})", [statement], name, hazards, ("constrain", name))
        for constraint in matched.dropped:
            kind = have[constraint][0]
            replaced = " (replaced)" if constraint in want else ""
            self.add(DROP_FOREIGN_KEY if kind == "foreign key" else DROP_CONSTRAINT,
                     f"{name}: drop {kind} {constraint}{replaced}",
                     [self.sql.drop_constraint(qname, ident(constraint))], name)

    def narrowing(self, spec: model.Table, current: Table, constraint: str) -> list[Hazard]:
        """A one_of check that no longer allows a value it allowed is refused by default; another
        replaced check may fail validation on existing rows."""
        column = next((c for c in spec.columns if c.one_of and constraint == f"{spec.name.name}_{c.name}_check"), None)
        old = next((c for c in current.checks if c.name == constraint), None)
        if old is None:
            return []
        if column is None:
            return [Hazard(f"replaces check {constraint}: validation fails if existing rows break it",
                           spec.locate("checks"), destructive=False)]
        old_values = in_list_values(old.expression) or set()
        dropped = sorted(old_values - set(column.one_of))
        if not dropped:
            return []
        return [Hazard(f"narrows {spec.name.name}.{column.name} one_of, dropping {', '.join(dropped)}: rows "
                       "holding them make the migration fail", column.locate("one_of"))]

    def index_definitions(self, table: Table, renames: dict[str, str] | None = None) -> dict[str, tuple]:
        renames = renames or {}
        found = {}
        for index in table.indexes:
            if index.constraint:
                continue
            where = self.renamed(index.where, table.name, renames) if index.where is not None else None
            found[index.name] = (tuple(renames.get(c, c) for c in index.columns), index.unique,
                                 where, index.method)
        return found

    def indexes(self, spec: model.Table, current: Table, wanted: Table, renames: dict[str, str]) -> None:
        name, qname = spec.name.name, qualified(spec.name)
        have = self.index_definitions(current, renames)
        want = self.index_definitions(wanted)
        by_name = {index.name: index for index in spec.indexes}
        matched = match(have, want)
        for old, index in matched.renamed:
            self.add(RENAME, f"{name}: rename index {old} to {index}",
                     [self.sql.rename_index(qualified(model.Name(self.schema, old)), ident(index))], name)
        for index in matched.created:
            self.add(CREATE_INDEX, f"{name}: create index {index} on ({', '.join(want[index][0])})",
                     [self.sql.create_index(index_context(by_name[index]), qname, True)], name,
                     [Hazard(f"builds index {index} while writes to {name} wait (a migration runs in one "
                             "transaction, where CREATE INDEX CONCURRENTLY cannot)", by_name[index].location,
                             destructive=False)], ("index", name))
        for index in matched.dropped:
            self.add(DROP_INDEX, f"{name}: drop index {index}",
                     [self.sql.drop_index(qualified(model.Name(self.schema, index)))], name)

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

    def policies(self, spec: model.Table, current: Table, wanted: Table, renames: dict[str, str]) -> None:
        name, qname = spec.name.name, qualified(spec.name)
        retyped = self.retyped.get(name, set())
        have = {}
        for policy_name, policy in current.policies.items():
            using = self.renamed(policy.using, name, renames, top_level_only=True)
            check = self.renamed(policy.check, name, renames, top_level_only=True)
            reads = columns_read(using) | columns_read(check) if retyped else set()
            # a column's type cannot change under a policy that reads it
            have[policy_name] = None if reads & retyped else policy_definition(policy, using, check)
        want = {n: policy_definition(p) for n, p in wanted.policies.items()}
        generated = {p["name"]: p for p in policies_of(self.project, spec)}
        for policy_name, definition in have.items():
            if want.get(policy_name) != definition:
                what = "replaced" if policy_name in want else "removed"
                if PUBLIC in current.policies[policy_name].roles:
                    what += "; it applied to PUBLIC, anon included"
                self.add(DROP_POLICY, f"{name}: drop policy {policy_name} ({what})",
                         [self.sql.drop_policy(ident(policy_name), qname)], name, label=("policies", name))
        for policy_name, definition in want.items():
            if have.get(policy_name) != definition:
                policy = generated[ident(policy_name)]
                command = policy["command"]
                rule = spec.rule(command) if policy_name == f"{spec.name.name}_{command}" else "hand-written"
                self.add(CREATE_POLICY, f"{name}: policy {policy_name} ({command}, {rule})",
                         [self.sql.create_policy(policy, qname)], name, label=("policies", name))

    def grants(self, spec: model.Table) -> None:
        """Restate the table's grants whole when they differ under either privilege regime."""
        key = (spec.name.schema, spec.name.name)
        changes = []
        for regime in REGIMES:
            have = grants_by_role(self.current[regime].tables.get(key))
            want = grants_by_role(self.desired[regime].tables.get(key))
            for role in GRANTEES:
                gained, lost = sorted(want[role] - have[role]), sorted(have[role] - want[role])
                for verb, privileges in (("gains", gained), ("loses", lost)):
                    if privileges:
                        change = f"{'PUBLIC' if role == 'public' else role} {verb} {', '.join(privileges)}"
                        if change not in [c for c, _ in changes]:
                            changes.append((change, regime))
                        else:
                            changes = [(c, None if c == change else r) for c, r in changes]
        if not changes:
            return
        regime_words = {LEGACY: " (projects with the legacy default privileges)",
                        RESTRICTED: " (projects with the 2026 default privileges)", None: ""}
        summary = f"{spec.name.name}: grants restated: " + "; ".join(c + regime_words[r] for c, r in changes)
        self.add(GRANTS, summary, [self.sql.grants(qualified(spec.name), grants_of(spec))], spec.name.name,
                 label=("grants", spec.name.name))

    def publication(self, spec: model.Table) -> None:
        key = (spec.name.schema, spec.name.name)
        inside = key in self.cur.publications.get(REALTIME, [])
        context = {"qualified_name": qualified(spec.name), "schema_literal": literal(spec.name.schema),
                   "name_literal": literal(spec.name.name)}
        if spec.realtime and not inside:
            self.add(JOIN_PUBLICATION, f"{spec.name.name}: realtime on",
                     [self.sql.join_publication(publication_context(), context)], spec.name.name,
                     label=("realtime", spec.name.name))
        elif inside and not spec.realtime:
            self.add(LEAVE_PUBLICATION, f"{spec.name.name}: realtime off",
                     [self.sql.leave_publication(publication_context(), context)], spec.name.name,
                     label=("realtime", spec.name.name))

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

