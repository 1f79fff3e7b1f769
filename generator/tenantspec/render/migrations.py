"""Render the model into Supabase migrations through logic-free Jinja templates.

Every decision (which helpers a migration needs, in which order, how a policy
predicate reads, what each role is granted) is made here, in Python; the templates
only place the prepared, already-quoted pieces.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import jinja2

from tenantspec.render.helpers import (
    CarryFunction,
    GuardFunction,
    Helper,
    ParentHelper,
    RecheckFunction,
    WorkspaceHelper,
    bucket_helpers,
    helper_name,
    helpers_of,
)
from tenantspec.render.predicates import (
    bucket_policies,
    bucket_row,
    carried_children,
    grants_of,
    move_checks,
    policies_of,
    self_ties,
    workspace_in,
)
from tenantspec.render.quoting import (
    ident,
    ident_list,
    literal,
    literal_list,
    qualified,
)
from tenantspec.spec import model

MIGRATIONS_DIR = Path("supabase/migrations")
VERSION = re.compile(r"(?P<version>[0-9]+)_(?P<name>.+)\.sql\Z")  # <version>_<name>.sql, as supabase names them


def template_dir() -> Path:
    """``templates/`` of the checkout, or the copy packed into the wheel."""
    packed = Path(__file__).parents[1] / "templates"  # tenantspec/templates in the wheel
    return packed if packed.is_dir() else Path(__file__).parents[3] / "templates"  # generator/tenantspec/render/


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
    workspace_type = key_type(project.external_tables[members.table].columns.get(members.workspace_column, "uuid")
                              if members.table in project.external_tables else workspaces_key_type(project))
    tenancy = project.tenancy
    roles = tenancy.levels[helper.level]
    held = tuple(role for role in roles if role != tenancy.owner_role)  # by a membership
    branches = []
    if held and members.in_token:  # the workspace (and role) the token's claims name
        branches.append({
            "selected": f"({claim_sql(members.claim_workspace)})::{workspace_type}",
            "source": None,
            # a level of every role tests none: the token may name a role no level lists
            "conditions": [f"({claim_sql(members.claim_role)}) in ({literal_list(held)})"]
            if members.claim_role and set(held) != set(tenancy.membership_roles) else [],
        })
    elif held:
        branches.append({
            "selected": f"m.{ident(members.workspace_column)}",
            "source": f"{qualified(members.table)} as m",
            # where the column may hold roles no level names, the level of every role tests none
            "conditions": [c for c in (user_test(members),
                                       "" if members.open_roles and set(held) == set(tenancy.membership_roles)
                                       else role_test(members, held),
                                       f"({members.active})" if members.active else "") if c],
        })
    if tenancy.owner_role in roles:  # and the workspaces the user owns
        workspaces = project.external_tables[tenancy.workspaces]
        branches.append({
            "selected": f"w.{ident(workspaces.workspace_column or 'id')}",
            "source": f"{qualified(tenancy.workspaces)} as w",
            "conditions": [f"w.{ident(tenancy.owner_column)} = (select auth.uid())"],
        })
    return {"name": helper_name(project, helper), "key_type": workspace_type, "branches": branches}


def user_test(members: model.Members) -> str:
    """The condition on the membership row ``m`` that it is the signed-in user's: its user
    column holds the user's id, or the key of the user's row of ``user_through``."""
    through = members.user_through
    if through is None:
        return f"m.{ident(members.user_column)} = (select auth.uid())"
    return (f"m.{ident(members.user_column)} in (select u.{ident(through.key)} from {qualified(through.table)} as u "
            f"where u.{ident(through.user_column)} = (select auth.uid()))")


def workspaces_key_type(project: model.Project) -> str:
    """The type of the workspaces table's key, where no members table says it."""
    workspaces = project.external_tables.get(project.tenancy.workspaces)
    if workspaces is None:
        return "uuid"
    return workspaces.columns.get(workspaces.workspace_column or "id", "uuid")


def claim_sql(path: str) -> str:
    """The text of the token's claim at a dotted ``path``: ``(select auth.jwt()) -> 'app_metadata'
    ->> 'org_id'``."""
    return json_text("(select auth.jwt())", path)


def json_text(document: str, path: str) -> str:
    """The text at a dotted ``path`` of a JSON ``document``: ``doc -> 'a' ->> 'b'``."""
    *parents, last = path.split(".")
    return document + "".join(f" -> {literal(key)}" for key in parents) + f" ->> {literal(last)}"


def key_type(declared: str) -> str:
    """The type a helper returns a key column's values as: the column's, serials as the integer
    they are (a bigint workspace id, a text parent key)."""
    return SERIAL_KEY_TYPES.get(declared.strip().lower(), declared)


SERIAL_KEY_TYPES = {"serial": "integer", "serial4": "integer", "bigserial": "bigint", "serial8": "bigint",
                    "smallserial": "smallint", "serial2": "smallint"}


def role_test(members: model.Members, roles: tuple[str, ...]) -> str:
    """The condition on the membership row ``m`` that its user holds one of ``roles``: the
    role column in the list, an array of roles overlapping it (cast to text, so an enum's
    array compares too), or nothing where every member is alike. Where the column holds no
    names (``role_values``: the ids of a roles table's rows), it is compared with those."""
    if members.role_column is None:
        return ""
    stored = [members.stored(role) for role in roles]
    if members.role_field:
        return f"({json_text(f'm.{ident(members.role_column)}', members.role_field)}) in ({literal_list(map(str, stored))})"
    if members.role_array:
        return f"m.{ident(members.role_column)}::text[] && array[{literal_list(str(v) for v in stored)}]::text[]"
    held = ", ".join(str(v) if isinstance(v, int) else literal(v) for v in stored)
    return f"m.{ident(members.role_column)} in ({held})"


def parent_helper_context(project: model.Project, helper: ParentHelper, child: model.Table) -> dict:
    parent = project.tables[helper.parent]
    return {
        "name": helper_name(project, helper),
        "comment": f"ids of the {helper.parent} rows in the user's {helper.level} workspaces, "
                   f"for the policies of {child.name.name}",
        "parent_key": ident(parent.primary_key[0]),
        "key_type": key_type(parent.column(parent.primary_key[0]).type),
        "parent_table": qualified(parent.name),
        # the parent's workspace column, or the subqueries through its own parents up to one
        "condition": workspace_in(project, parent, "p", f"array(select {helper_name(project, WorkspaceHelper(helper.level))}())"),
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


def bucket_context(project: model.Project, bucket: model.Bucket) -> dict:
    where = "its workspace's id" if bucket.folder == model.WORKSPACE_FOLDER else "its user's id"
    return {"comment": f"Bucket {bucket.id}: {'public' if bucket.public else 'private'}, each file under a first "
                       f"folder named for {where}.",
            "row": bucket_row(bucket), "policies": bucket_policies(project, bucket)}


def migration_context(project: model.Project, migration: model.Migration, emitted: set,
                      buckets: bool = False) -> dict:
    """Context for one migration; ``emitted`` holds helpers created by earlier migrations;
    with ``buckets``, the project's buckets follow its tables."""
    tables = [project.tables[name] for name in migration.tables]
    types = enums_of(project, tables, emitted)
    first_helpers = not any(not isinstance(h, model.Enum) for h in emitted)
    needed = []
    for table in tables:
        needed += [h for h in helpers_of(project, table)
                   if isinstance(h, WorkspaceHelper) and h not in emitted and h not in needed]
    if buckets:
        needed += [h for h in bucket_helpers(project) if h not in emitted and h not in needed]
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
        "buckets": [bucket_context(project, b) for b in project.buckets.values()] if buckets else [],
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
    return project.migrations + ((model.Migration(version, name, rest),) if rest or project.buckets else ())


def render_migrations(project: model.Project, version: str = "0", name: str = "schema") -> dict[Path, str]:
    """SQL text of a fresh set of migrations creating every table, keyed by path relative to
    the project root (see ``fresh_layout``)."""
    template = environment().get_template("migration.sql.j2")
    emitted: set = set()
    layout = fresh_layout(project, version, name)
    return {  # the buckets go last, with the tables of no listed migration
        MIGRATIONS_DIR / migration.filename: template.render(
            migration_context(project, migration, emitted, buckets=migration is layout[-1]))
        for migration in layout
    }


def render_change(plan) -> str:
    """The next migration: the plan's steps, in order, with their words and hazards."""
    return environment().get_template("change.sql.j2").render(
        sources=", ".join(plan.sources), steps=plan.steps, destructive=plan.destructive)
