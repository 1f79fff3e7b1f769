"""Render the model into Supabase migrations through logic-free Jinja templates.

Every decision (which helpers a migration needs, in which order, how a policy
predicate reads, what each role is granted) is made here, in Python; the templates
only place the prepared, already-quoted pieces.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from generator import model
from generator.quoting import ident, ident_list, literal, literal_list, qualified

MIGRATIONS_DIR = Path("supabase/migrations")


def template_dir() -> Path:
    """``templates/`` of the checkout, or the copy packed into the wheel."""
    packed = Path(__file__).parent / "templates"
    return packed if packed.is_dir() else Path(__file__).parent.parent / "templates"


@cache
def environment() -> jinja2.Environment:
    """One environment per process: templates compile once."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir()),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


@dataclass(frozen=True)
class WorkspaceHelper:
    """``<level>_workspace_ids()``: the current user's workspaces where their role is in the level."""

    level: str

    @property
    def function(self) -> str:
        return f"{self.level}_workspace_ids"


@dataclass(frozen=True)
class ParentHelper:
    """``<level>_<parent>_ids()``: ids of parent rows in the user's workspaces of that level."""

    level: str
    parent: str

    @property
    def function(self) -> str:
        return f"{self.level}_{self.parent}_ids"


def helper_name(project: model.Project, helper: WorkspaceHelper | ParentHelper) -> str:
    return qualified(model.Name(project.helper_schema, helper.function))


def helpers_of(project: model.Project, table: model.Table) -> list[WorkspaceHelper | ParentHelper]:
    """The helpers the policies of ``table`` call, each after the helpers it calls."""
    levels = [lvl for lvl in project.tenancy.levels if lvl in table.access.values()]
    if table.tenancy.column:
        return [WorkspaceHelper(lvl) for lvl in levels]
    parent = table.column(table.tenancy.parent).references.table.name
    return [h for lvl in levels for h in (WorkspaceHelper(lvl), ParentHelper(lvl, parent))]


def membership_predicate(project: model.Project, table: model.Table, level: str) -> str:
    """The row belongs to a workspace where the user holds ``level``; an initPlan, not a per-row call."""
    if table.tenancy.column:
        helper = WorkspaceHelper(level)
    else:
        helper = ParentHelper(level, table.column(table.tenancy.parent).references.table.name)
    return f"{ident(table.tenancy.key)} = any (array(select {helper_name(project, helper)}()))"


def row_workspace(project: model.Project, table: model.Table) -> str:
    """An expression for the workspace of the row being written."""
    row = ident(table.name.name)
    if table.tenancy.column:
        return f"{row}.{ident(table.tenancy.column)}"
    ref = table.column(table.tenancy.parent).references
    return (f"(select p.{ident(project.workspace_of(ref.table))} from {qualified(ref.table)} as p "
            f"where p.{ident(ref.column)} = {row}.{ident(table.tenancy.parent)})")


def same_workspace_checks(project: model.Project, table: model.Table) -> list[str]:
    """Foreign keys ignore RLS: tie each same_workspace reference to the row's own workspace."""
    checks, row = [], ident(table.name.name)
    for column in table.columns:
        ref = column.references
        if not (ref and ref.same_workspace):
            continue
        referenced = (f"(select r.{ident(project.workspace_of(ref.table))} from {qualified(ref.table)} as r "
                      f"where r.{ident(ref.column)} = {row}.{ident(column.name)})")
        check = f"{referenced} = {row_workspace(project, table)}"
        if not column.not_null:
            check = f"({row}.{ident(column.name)} is null or {check})"
        checks.append(check)
    return checks


def policies_of(project: model.Project, table: model.Table) -> list[dict]:
    """One policy per command the API may run, TO authenticated, named ``<table>_<command>``."""
    policies = []
    for command in model.COMMANDS:
        level = table.access[command]
        if level == model.NOBODY:
            continue
        using = membership_predicate(project, table, level)
        check = " and ".join([using] + same_workspace_checks(project, table))
        clauses = {
            "select": [f"using ({using})"],
            "insert": [f"with check ({check})"],
            "update": [f"using ({using})", f"with check ({check})"],
            "delete": [f"using ({using})"],
        }[command]
        policies.append({"name": ident(f"{table.name.name}_{command}"), "command": command, "clauses": clauses})
    return policies


def grants_of(table: model.Table) -> list[dict]:
    """authenticated gets the commands its policies allow; service_role what the spec lists."""
    grants = []
    for role, commands in (("authenticated", table.api_commands), ("service_role", table.service_role)):
        if commands:
            grants.append({"role": role, "privileges": ", ".join(commands)})
    return grants


def column_definition(column: model.Column) -> str:
    parts = [ident(column.name), column.type]
    if column.default is not None:
        parts.append(f"default {column.default}")
    if column.not_null:
        parts.append("not null")
    return " ".join(parts)


def named_constraints(table: model.Table) -> list[tuple[str, str]]:
    """``(name, definition)`` of the table's constraints, in the order: primary key, foreign
    keys, unique, checks. Names derive from table and columns, so versions line up."""
    name = table.name.name
    found = [(f"{name}_pkey", f"primary key ({ident_list(table.primary_key)})")]
    for column in table.columns:
        if ref := column.references:
            on_delete = f" on delete {ref.on_delete}" if ref.on_delete else ""
            found.append((f"{name}_{column.name}_fkey", f"foreign key ({ident(column.name)}) "
                          f"references {qualified(ref.table)} ({ident(ref.column)}){on_delete}"))
    for columns in table.unique:
        found.append((f"{name}_{'_'.join(columns)}_key", f"unique ({ident_list(columns)})"))
    for column in table.columns:
        if column.one_of:
            found.append((f"{name}_{column.name}_check",
                          f"check ({ident(column.name)} in ({literal_list(column.one_of)}))"))
    for check in table.checks:
        found.append((check.name, f"check ({check.expression})"))
    return found


def constraint_definitions(table: model.Table) -> list[str]:
    """The table's constraints as lines of its CREATE TABLE."""
    return [f"constraint {ident(name)} {definition}" for name, definition in named_constraints(table)]


def comments_of(table: model.Table) -> list[dict]:
    comments = []
    if table.comment:
        comments.append({"target": f"table {qualified(table.name)}", "text": literal(table.comment)})
    for column in table.columns:
        if column.comment:
            comments.append({"target": f"column {qualified(table.name)}.{ident(column.name)}",
                             "text": literal(column.comment)})
    return comments


def index_context(index: model.Index) -> dict:
    return {
        "name": ident(index.name),
        "unique": "unique " if index.unique else "",
        "columns": ident_list(index.columns),
        "where": f" where {index.where}" if index.where else "",
    }


def trigger_context(trigger: model.Trigger) -> dict:
    return {
        "name": ident(trigger.name),
        "timing": trigger.timing,
        "events": " or ".join(trigger.events),
        "function": qualified(trigger.function),
    }


def publication_context() -> dict:
    return {"name": "supabase_realtime", "name_literal": literal("supabase_realtime")}


def table_context(project: model.Project, table: model.Table, parent_helpers: list[dict] | None = None) -> dict:
    return {
        "name": table.name.name,
        "heading": f"{table.name.name}: {table.comment}" if table.comment else table.name.name,
        "qualified_name": qualified(table.name),
        "schema_literal": literal(table.name.schema),
        "name_literal": literal(table.name.name),
        "definition": [column_definition(c) for c in table.columns] + constraint_definitions(table),
        "comments": comments_of(table),
        "indexes": [index_context(index) for index in table.indexes],
        "triggers": [trigger_context(trigger) for trigger in table.triggers],
        "policies": policies_of(project, table),
        "grants": grants_of(table),
        "publications": [publication_context()] if table.realtime else [],
        "parent_helpers": parent_helpers or [],
    }


def workspace_helper_context(project: model.Project, helper: WorkspaceHelper) -> dict:
    members = project.tenancy.members
    return {
        "name": helper_name(project, helper),
        "workspace_column": ident(members.workspace_column),
        "members_table": qualified(members.table),
        "user_column": ident(members.user_column),
        "role_column": ident(members.role_column),
        "roles": literal_list(project.tenancy.levels[helper.level]),
    }


def parent_helper_context(project: model.Project, helper: ParentHelper, child: model.Table) -> dict:
    parent = project.tables[helper.parent]
    return {
        "name": helper_name(project, helper),
        "comment": f"ids of the {helper.parent} rows in the user's {helper.level} workspaces, "
                   f"for the policies of {child.name.name}",
        "parent_key": ident(parent.primary_key[0]),
        "parent_table": qualified(parent.name),
        "workspace_column": ident(parent.tenancy.column),
        "workspace_helper": helper_name(project, WorkspaceHelper(helper.level)),
    }


def helper_schema_statements(project: model.Project) -> list[str]:
    return [f"create schema if not exists {ident(project.helper_schema)}",
            f"grant usage on schema {ident(project.helper_schema)} to authenticated"]


def migration_context(project: model.Project, migration: model.Migration, emitted: set) -> dict:
    """Context for one migration; ``emitted`` holds helpers created by earlier migrations."""
    tables = [project.tables[name] for name in migration.tables]
    first_helpers = not emitted
    needed = []
    for table in tables:
        needed += [h for h in helpers_of(project, table) if h not in emitted and h not in needed]
    emitted.update(needed)
    workspace_helpers = [workspace_helper_context(project, h) for h in needed if isinstance(h, WorkspaceHelper)]
    parent_helpers = placed_parent_helpers(project, tables, set(needed))
    return {
        "sources": ", ".join([project.source] + [t.source for t in tables]),
        "helper_schema_statements": helper_schema_statements(project) if first_helpers and emitted else [],
        "workspace_helpers": workspace_helpers,
        "tables": [table_context(project, t, parent_helpers[t.name.name]) for t in tables],
    }


def placed_parent_helpers(project: model.Project, tables: list[model.Table], wanted: set) -> dict[str, list[dict]]:
    """The ``wanted`` parent helpers, each placed before the first of ``tables`` whose policies
    call it: a SQL function's body is checked when it is created, after its parent exists."""
    placed: dict[str, list[dict]] = {table.name.name: [] for table in tables}
    done: set[ParentHelper] = set()
    for table in tables:
        for h in helpers_of(project, table):
            if isinstance(h, ParentHelper) and h in wanted and h not in done:
                done.add(h)
                placed[table.name.name].append(parent_helper_context(project, h, table))
    return placed


def fresh_layout(project: model.Project, version: str, name: str) -> tuple[model.Migration, ...]:
    """The files a fresh set of migrations has: the ones project.yaml lists, then one file
    ``<version>_<name>.sql`` for every table they do not list."""
    listed = {table for migration in project.migrations for table in migration.tables}
    rest = tuple(table for table in project.tables if table not in listed)
    return project.migrations + ((model.Migration(version, name, rest),) if rest else ())


def render_migrations(project: model.Project, version: str = "0", name: str = "schema") -> dict[Path, str]:
    """SQL text of a fresh set of migrations creating every table, keyed by path relative to
    the project root (see ``fresh_layout``)."""
    template = environment().get_template("migration.sql.j2")
    emitted: set = set()
    return {
        MIGRATIONS_DIR / migration.filename: template.render(migration_context(project, migration, emitted))
        for migration in fresh_layout(project, version, name)
    }


def render_change(plan) -> str:
    """The next migration: the plan's steps, in order, with their words and hazards."""
    return environment().get_template("change.sql.j2").render(
        sources=", ".join(plan.sources), steps=plan.steps, destructive=plan.destructive)
