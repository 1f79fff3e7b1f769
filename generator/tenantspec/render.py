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

from tenantspec import model
from tenantspec.quoting import ident, ident_list, literal, literal_list, qualified

MIGRATIONS_DIR = Path("supabase/migrations")


def template_dir() -> Path:
    """``templates/`` of the checkout, or the copy packed into the wheel."""
    packed = Path(__file__).parent / "templates"
    return packed if packed.is_dir() else Path(__file__).parents[2] / "templates"  # generator/tenantspec/


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


@dataclass(frozen=True)
class CarryFunction:
    """``<table>_carry_<column>()``: a trigger function filling a carried child's workspace
    column from its parent row."""

    table: str
    column: str

    @property
    def function(self) -> str:
        return f"{self.table}_carry_{self.column}"


@dataclass(frozen=True)
class GuardFunction:
    """``refuse_workspace_move()``: a trigger function refusing an API role's change of a row's
    workspace (the column is the trigger's argument)."""

    @property
    def function(self) -> str:
        return "refuse_workspace_move"


@dataclass(frozen=True)
class RecheckFunction:
    """``<table>_recheck_move()``: after a movable row changes workspace, every same-workspace
    reference that depends on it must still hold."""

    table: str

    @property
    def function(self) -> str:
        return f"{self.table}_recheck_move"


Helper = WorkspaceHelper | ParentHelper | CarryFunction | GuardFunction | RecheckFunction


def states_grants(helper: Helper) -> bool:
    """Whether the migrations say who may EXECUTE the helper. The guard runs as the caller and
    only as a trigger: its EXECUTE is whatever the database's default privileges give a new
    function (a project may have changed them), which the migrations leave alone."""
    return not isinstance(helper, GuardFunction)


def helper_name(project: model.Project, helper: Helper) -> str:
    return qualified(model.Name(project.helper_schema, helper.function))


def helpers_of(project: model.Project, table: model.Table) -> list[WorkspaceHelper | ParentHelper]:
    """The helpers the policies of ``table`` call, each after the helpers it calls."""
    named = set(table.access.values()) | set(table.own_access.values())
    called = {call for policy in table.policies for text in (policy.using, policy.check) if text
              for call in called_functions(text)}
    named |= {lvl for lvl in project.tenancy.levels
              if (project.helper_schema, WorkspaceHelper(lvl).function) in called}
    levels = [lvl for lvl in project.tenancy.levels if lvl in named]
    if table.tenancy.strategy != model.PARENT_IDS:
        return [WorkspaceHelper(lvl) for lvl in levels]
    parent = table.parent_reference().table.name
    return [h for lvl in levels for h in (WorkspaceHelper(lvl), ParentHelper(lvl, parent))]


def called_functions(text: str) -> set[tuple[str, str]]:
    """``(schema, name)`` of every qualified function an expression calls."""
    import pglast
    from pglast import ast

    from tenantspec.catalog.nodes import walk

    found = set()
    for node, _ in walk(pglast.parse_sql(f"select {text}")[0].stmt):
        if isinstance(node, ast.FuncCall) and len(node.funcname) == 2:
            found.add(tuple(n.sval for n in node.funcname))
    return found


def functions_of(project: model.Project, table: model.Table) -> list[CarryFunction | GuardFunction | RecheckFunction]:
    """The trigger functions ``table``'s generated triggers call."""
    found: list = []
    if table.tenancy.carried:
        found.append(CarryFunction(table.name.name, table.tenancy.carried))
    if not table.tenancy.movable and table.tenancy.workspace_column:
        found.append(GuardFunction())
    elif table.tenancy.movable and move_checks(project, table):
        found.append(RecheckFunction(table.name.name))
    return found


def membership_predicate(project: model.Project, table: model.Table, level: str) -> str:
    """The row belongs to a workspace where the user holds ``level``; an initPlan, not a per-row call
    (but for the exists strategy, a correlated subquery through the parent)."""
    workspaces = f"array(select {helper_name(project, WorkspaceHelper(level))}())"
    if table.tenancy.workspace_column:
        return f"{ident(table.tenancy.workspace_column)} = any ({workspaces})"
    ref = table.parent_reference()
    if table.tenancy.strategy == model.EXISTS:
        return (f"exists (select 1 from {qualified(ref.table)} as p where p.{ident(ref.column)} = "
                f"{ident(table.name.name)}.{ident(table.tenancy.parent)} and "
                f"p.{ident(project.workspace_of(ref.table))} = any ({workspaces}))")
    helper = ParentHelper(level, ref.table.name)
    return f"{ident(table.tenancy.parent)} = any (array(select {helper_name(project, helper)}()))"


def row_workspace(project: model.Project, table: model.Table, row: str | None = None) -> str:
    """An expression for the workspace of the row being written (``row``: how it is named)."""
    row = row or ident(table.name.name)
    if table.tenancy.workspace_column:
        return f"{row}.{ident(table.tenancy.workspace_column)}"
    ref = table.parent_reference()
    return (f"(select p.{ident(project.workspace_of(ref.table))} from {qualified(ref.table)} as p "
            f"where p.{ident(ref.column)} = {row}.{ident(table.tenancy.parent)})")


def carried_children(project: model.Project, table: model.Table) -> list[model.Table]:
    """Spec'd tables that carry ``table``'s workspace in a column of their own."""
    return [t for t in project.tables.values() if t.tenancy.carried and t.parent_reference().table == table.name]


def move_checks(project: model.Project, table: model.Table) -> list[str]:
    """Conditions true when moving ``table``'s row (``new``) to another workspace leaves a
    same-workspace reference pointing into the old one: the row's own references, its
    children's, and other tables' references to it."""
    new, workspace = "new", f"new.{ident(table.tenancy.workspace_column or '')}"
    checks = []
    for column in table.columns:
        ref = column.references
        if ref and ref.same_workspace and column not in self_ties(table):  # the foreign key holds those
            checks.append(f"exists (select 1 from {qualified(ref.table)} as r where r.{ident(ref.column)} = "
                          f"{new}.{ident(column.name)} and r.{ident(project.workspace_of(ref.table))} <> {workspace})")
    for other in project.tables.values():
        parent = other.parent_reference()
        for column in other.columns:
            ref = column.references
            if not (ref and ref.same_workspace):
                continue
            if parent is not None and parent.table == table.name and column.name != other.tenancy.parent:
                checks.append(
                    f"exists (select 1 from {qualified(other.name)} as x join {qualified(ref.table)} as r "
                    f"on r.{ident(ref.column)} = x.{ident(column.name)} where x.{ident(other.tenancy.parent)} = "
                    f"{new}.{ident(parent.column)} and r.{ident(project.workspace_of(ref.table))} <> {workspace})")
            if ref.table == table.name and other.name != table.name:
                checks.append(f"exists (select 1 from {qualified(other.name)} as x where x.{ident(column.name)} = "
                              f"{new}.{ident(ref.column)} and {row_workspace(project, other, 'x')} <> {workspace})")
    return checks


def same_workspace_checks(project: model.Project, table: model.Table) -> list[str]:
    """Foreign keys ignore RLS: tie each same_workspace reference to the row's own workspace."""
    checks, row = [], ident(table.name.name)
    for column in table.columns:
        ref = column.references
        if not (ref and ref.same_workspace) or column in self_ties(table):
            continue
        referenced = (f"(select r.{ident(project.workspace_of(ref.table))} from {qualified(ref.table)} as r "
                      f"where r.{ident(ref.column)} = {row}.{ident(column.name)})")
        check = f"{referenced} = {row_workspace(project, table)}"
        if not column.not_null:
            check = f"({row}.{ident(column.name)} is null or {check})"
        checks.append(check)
    return checks


def owner_predicate(table: model.Table) -> str:
    """The row names the signed-in user; an initPlan, not a per-row call."""
    return f"{ident(table.tenancy.user)} = (select auth.uid())"


def access_predicate(project: model.Project, table: model.Table, command: str) -> str | None:
    """Rows ``command`` may act on: every row of the level's workspaces, or (``own``) the rows
    naming the user in the own level's workspaces; None when nobody may."""
    level, own = table.access[command], table.own_level(command)
    parts = []
    if level != model.NOBODY:
        parts.append(membership_predicate(project, table, level))
    if own == model.OWN:
        parts.append(owner_predicate(table))
    elif own != model.NOBODY:
        parts.append(f"({owner_predicate(table)} and {membership_predicate(project, table, own)})")
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else " or ".join(f"({p})" if " or " in p else p for p in parts)


def policies_of(project: model.Project, table: model.Table) -> list[dict]:
    """One policy per command the API may run, TO authenticated, named ``<table>_<command>``,
    then the spec's hand-written policies as they are written."""
    policies = []
    for command in model.COMMANDS:
        using = access_predicate(project, table, command)
        if using is None:
            continue
        ties = same_workspace_checks(project, table)
        check = " and ".join([f"({using})" if ties and " or " in using else using] + ties)
        clauses = {
            "select": [f"using ({using})"],
            "insert": [f"with check ({check})"],
            "update": [f"using ({using})", f"with check ({check})"],
            "delete": [f"using ({using})"],
        }[command]
        policies.append({"name": ident(f"{table.name.name}_{command}"), "command": command, "clauses": clauses,
                         "mode": ""})
    for policy in table.policies:
        clauses = [f"using ({policy.using})"] if policy.using is not None else []
        clauses += [f"with check ({policy.check})"] if policy.check is not None else []
        policies.append({"name": ident(policy.name), "command": policy.command, "clauses": clauses,
                         "mode": "" if policy.permissive else "as restrictive "})
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
    if column.identity is not None:
        parts.append(f"generated {column.identity} as identity")
    if column.generated is not None:
        parts.append(f"generated always as ({column.generated}) stored")
    if column.not_null:
        parts.append("not null")
    return " ".join(parts)


def named_constraints(project: model.Project, table: model.Table) -> list[tuple[str, str]]:
    """``(name, definition)`` of the table's constraints, in the order: primary key, foreign
    keys, unique, checks. Names derive from table and columns, so versions line up.

    A carried child's parent key is a composite foreign key through the workspace column, so
    the row's workspace can only be its parent's; the parent gets the unique key it needs."""
    name = table.name.name
    found = [(f"{name}_pkey", f"primary key ({ident_list(table.primary_key)})")]
    for column in table.columns:
        if ref := column.references:
            on_delete = f" on delete {ref.on_delete}" if ref.on_delete else ""
            if column.name == table.tenancy.parent and table.tenancy.carried:
                carried = table.tenancy.carried
                found.append((f"{name}_{column.name}_{carried}_fkey",
                              f"foreign key ({ident_list((column.name, carried))}) references {qualified(ref.table)} "
                              f"({ident_list((ref.column, project.workspace_of(ref.table)))}){on_delete} "
                              "on update cascade"))
                continue
            if column in self_ties(table):
                workspace = table.tenancy.workspace_column
                # set null clears the reference alone: the row keeps its workspace
                action = f" on delete set null ({ident(column.name)})" if ref.on_delete == "set null" else on_delete
                found.append((f"{name}_{column.name}_{workspace}_fkey",
                              f"foreign key ({ident_list((column.name, workspace))}) references {qualified(ref.table)} "
                              f"({ident_list((ref.column, workspace))}){action}"))
                continue
            found.append((f"{name}_{column.name}_fkey", f"foreign key ({ident(column.name)}) "
                          f"references {qualified(ref.table)} ({ident(ref.column)}){on_delete}"))
    for columns in table.unique + workspace_keys(project, table):
        found.append((f"{name}_{'_'.join(columns)}_key", f"unique ({ident_list(columns)})"))
    for column in table.columns:
        if column.one_of:
            found.append((f"{name}_{column.name}_check",
                          f"check ({ident(column.name)} in ({literal_list(column.one_of)}))"))
    for check in table.checks:
        found.append((check.name, f"check ({check.expression})"))
    return found


def self_ties(table: model.Table) -> list[model.Column]:
    """Same-workspace references of a table to its own rows. A policy cannot tie them (its
    subquery on the table would apply the table's policies again, endlessly): a composite
    foreign key through the workspace column does, for every role."""
    workspace = table.tenancy.workspace_column
    return [c for c in table.columns if c.references and c.references.same_workspace and workspace
            and c.references.table == table.name and c.name != workspace]


def workspace_keys(project: model.Project, table: model.Table) -> tuple[tuple[str, ...], ...]:
    """The ``(key, workspace)`` unique keys composite foreign keys into ``table`` need: its
    carried children's, and its own same-workspace references to itself."""
    workspace = table.tenancy.workspace_column
    keys = {(child.parent_reference().column, workspace) for child in carried_children(project, table)}
    keys |= {(column.references.column, workspace) for column in self_ties(table)}
    return tuple(sorted(keys - set(table.unique)))


def constraint_definitions(project: model.Project, table: model.Table) -> list[str]:
    """The table's constraints as lines of its CREATE TABLE."""
    return [f"constraint {ident(name)} {definition}" for name, definition in named_constraints(project, table)]


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
        "events": " or ".join(f"{event} of {ident_list(trigger.columns)}" if event == "update" and trigger.columns
                              else event for event in trigger.events),
        "function": qualified(trigger.function),
        "when": f" when ({trigger.when})" if trigger.when else "",
        "arguments": literal_list(trigger.arguments),
        "for_each": trigger.for_each,
    }


def generated_triggers(project: model.Project, table: model.Table) -> list[model.Trigger]:
    """The triggers tenancy adds: the carried child's fill, and the guard or recheck of a move."""
    found = []
    name = table.name.name
    column = table.tenancy.workspace_column
    for function in functions_of(project, table):
        target = model.Name(project.helper_schema, function.function)
        if isinstance(function, CarryFunction):
            # also when a write sets the column itself: the parent's value wins
            found.append(model.Trigger(f"{name}_carry_{column}", "before", ("insert", "update"), target,
                                       columns=(table.tenancy.parent, column)))
        elif isinstance(function, GuardFunction):
            found.append(model.Trigger(f"{name}_keep_{column}", "before", ("update",), target,
                                       when=f"old.{ident(column)} is distinct from new.{ident(column)}",
                                       arguments=(column,)))
        else:
            found.append(model.Trigger(f"{name}_recheck_move", "after", ("update",), target,
                                       when=f"old.{ident(column)} is distinct from new.{ident(column)}"))
    return found


def publication_context() -> dict:
    return {"name": "supabase_realtime", "name_literal": literal("supabase_realtime")}


def table_context(project: model.Project, table: model.Table, functions: list[str] | None = None) -> dict:
    """What the table block places; ``functions``: the helpers' SQL to create right before it."""
    return {
        "name": table.name.name,
        "heading": f"{table.name.name}: {table.comment}" if table.comment else table.name.name,
        "qualified_name": qualified(table.name),
        "schema_literal": literal(table.name.schema),
        "name_literal": literal(table.name.name),
        "definition": [column_definition(c) for c in table.columns] + constraint_definitions(project, table),
        "comments": comments_of(table),
        "indexes": [index_context(index) for index in table.indexes],
        "triggers": [trigger_context(trigger) for trigger in table.triggers + tuple(generated_triggers(project, table))],
        "policies": policies_of(project, table),
        "grants": grants_of(table),
        "publications": [publication_context()] if table.realtime else [],
        "functions": functions or [],
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


def carry_function_context(project: model.Project, helper: CarryFunction) -> dict:
    child = project.tables[helper.table]
    ref = child.parent_reference()
    return {
        "name": helper_name(project, helper),
        "comment": f"fills {helper.table}.{helper.column} with the workspace of its {ref.table.name} row",
        "column": ident(helper.column),
        "parent_table": qualified(ref.table),
        "parent_workspace": ident(project.workspace_of(ref.table)),
        "parent_key": ident(ref.column),
        "child_key": ident(child.tenancy.parent),
    }


def guard_function_context(project: model.Project, helper: GuardFunction) -> dict:
    return {"name": helper_name(project, helper)}


def recheck_function_context(project: model.Project, helper: RecheckFunction) -> dict:
    table = project.tables[helper.table]
    return {
        "name": helper_name(project, helper),
        "comment": f"a moved {helper.table} row must leave no same-workspace reference behind",
        "checks": move_checks(project, table),
        "table": helper.table,
    }


def helper_text(project: model.Project, helper: Helper, table: model.Table) -> str:
    """The SQL creating ``helper`` (with its EXECUTE grants), through its macro."""
    sql = environment().get_template("statements.sql.j2").module
    if isinstance(helper, WorkspaceHelper):
        return sql.workspace_helper(workspace_helper_context(project, helper))
    if isinstance(helper, ParentHelper):
        return sql.parent_helper(parent_helper_context(project, helper, table))
    if isinstance(helper, CarryFunction):
        return sql.carry_function(carry_function_context(project, helper))
    if isinstance(helper, GuardFunction):
        return sql.guard_function(guard_function_context(project, helper))
    return sql.recheck_function(recheck_function_context(project, helper))


def helper_schema_statements(project: model.Project) -> list[str]:
    return [f"create schema if not exists {ident(project.helper_schema)}",
            f"grant usage on schema {ident(project.helper_schema)} to authenticated"]


def enum_context(enum: model.Enum) -> dict:
    return {"name": qualified(enum.name), "labels": literal_list(enum.values)}


def enums_of(project: model.Project, tables: list[model.Table], emitted: set) -> list[dict]:
    """The enum types the migrations create, each in the first migration whose tables use it
    (the first migration of all takes the ones no table uses); ``emitted`` is updated."""
    used = {project.enum_of(c.type) for t in project.tables.values() for c in t.columns} - {None}
    first = not emitted
    wanted = [e for e in project.enums.values() if not e.external and e not in emitted
              and (first and e not in used or any(project.enum_of(c.type) == e for t in tables for c in t.columns))]
    emitted.update(wanted)
    return [enum_context(e) for e in wanted]


def migration_context(project: model.Project, migration: model.Migration, emitted: set) -> dict:
    """Context for one migration; ``emitted`` holds helpers created by earlier migrations."""
    tables = [project.tables[name] for name in migration.tables]
    types = enums_of(project, tables, emitted)
    first_helpers = not any(not isinstance(h, model.Enum) for h in emitted)
    needed = []
    for table in tables:
        needed += [h for h in helpers_of(project, table)
                   if isinstance(h, WorkspaceHelper) and h not in emitted and h not in needed]
    emitted.update(needed)
    workspace_helpers = [workspace_helper_context(project, h) for h in needed if isinstance(h, WorkspaceHelper)]
    placed = placed_functions(project, tables, emitted)
    return {
        "sources": ", ".join([project.source] + [t.source for t in tables]),
        "types": types,
        "helper_schema_statements": helper_schema_statements(project) if first_helpers and any(
            not isinstance(h, model.Enum) for h in emitted) else [],
        "workspace_helpers": workspace_helpers,
        "tables": [table_context(project, t, placed[t.name.name]) for t in tables],
    }


def placed_functions(project: model.Project, tables: list[model.Table], emitted: set) -> dict[str, list[str]]:
    """The parent helpers and trigger functions ``tables`` need that are not in ``emitted``, each
    placed before the first table that uses it: a SQL function's body is checked when it is
    created, so a parent helper comes after its parent exists. ``emitted`` is updated."""
    placed: dict[str, list[str]] = {table.name.name: [] for table in tables}
    for table in tables:
        wanted = [h for h in helpers_of(project, table) if isinstance(h, ParentHelper)]
        for helper in wanted + functions_of(project, table):
            if helper not in emitted:
                emitted.add(helper)
                placed[table.name.name].append(helper_text(project, helper, table))
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
