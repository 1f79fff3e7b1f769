"""The predicates of the generated policies and checks: a row's workspace, membership of it,
the row's user, the ties of same-workspace references, and what each API role is granted."""

from __future__ import annotations

from tenantspec.render.helpers import ParentHelper, WorkspaceHelper, helper_name
from tenantspec.render.quoting import ident, literal, qualified
from tenantspec.spec import model


def membership_predicate(project: model.Project, table: model.Table, level: str) -> str:
    """The row belongs to a workspace where the user holds ``level``; an initPlan, not a per-row call
    (but for the exists strategy, a correlated subquery through the parent)."""
    workspaces = f"array(select {helper_name(project, WorkspaceHelper(level))}())"
    if table.tenancy.workspace_column:
        return f"{ident(table.tenancy.workspace_column)} = any ({workspaces})"
    ref = table.parent_reference()
    if table.tenancy.strategy == model.EXISTS:
        return parent_in(project, table, ident(table.name.name), workspaces)
    helper = ParentHelper(level, ref.table.name)
    return f"{ident(table.tenancy.parent)} = any (array(select {helper_name(project, helper)}()))"


def workspace_in(project: model.Project, table: model.Table, row: str, workspaces: str) -> str:
    """The row ``row`` of ``table`` lies in one of ``workspaces``: its workspace column, or its
    parents' (``p2``, ``p3``, ...) where it holds none."""
    if table.tenancy.workspace_column:
        return f"{row}.{ident(table.tenancy.workspace_column)} = any ({workspaces})"
    return parent_in(project, table, row, workspaces, depth=2)


def parent_step(project: model.Project, table: model.Table, depth: int):
    """One step up from ``table`` to its parent: the reference, the parent's alias at this
    depth (``p``, ``p2``, ...), the parent's spec when it holds no workspace column (the
    next step starts there), and its workspace column otherwise."""
    ref = table.parent_reference()
    column = project.workspace_of(ref.table)
    parent = project.tables.get(ref.table.name) if ref.table.schema == project.schema and not column else None
    return ref, "p" if depth == 1 else f"p{depth}", parent, column


def parent_in(project: model.Project, table: model.Table, row: str, workspaces: str, depth: int = 1) -> str:
    """The parent of ``row`` lies in one of ``workspaces``: a correlated subquery through it, and
    through its own parents where it holds no workspace column (``p``, ``p2``, ...)."""
    ref, alias, parent, column = parent_step(project, table, depth)
    test = parent_in(project, parent, alias, workspaces, depth + 1) if parent else \
        f"{alias}.{ident(column)} = any ({workspaces})"
    return (f"exists (select 1 from {qualified(ref.table)} as {alias} where {alias}.{ident(ref.column)} = "
            f"{row}.{ident(table.tenancy.parent)} and {test})")


def row_workspace(project: model.Project, table: model.Table, row: str | None = None, depth: int = 1) -> str:
    """An expression for the workspace of the row being written (``row``: how it is named),
    through its parents where it holds no workspace column."""
    row = row or ident(table.name.name)
    if table.tenancy.workspace_column:
        return f"{row}.{ident(table.tenancy.workspace_column)}"
    ref, alias, parent, column = parent_step(project, table, depth)
    selected = row_workspace(project, parent, alias, depth + 1) if parent else f"{alias}.{ident(column)}"
    return (f"(select {selected} from {qualified(ref.table)} as {alias} "
            f"where {alias}.{ident(ref.column)} = {row}.{ident(table.tenancy.parent)})")


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


def owner_predicate(project: model.Project, table: model.Table) -> str:
    """The row names the signed-in user, or its parent does; an initPlan, not a per-row call."""
    if table.tenancy.user_parent:
        ref = table.parent_reference()
        parent = project.tables[ref.table.name]
        return (f"{ident(table.tenancy.parent)} = any (array(select p.{ident(ref.column)} from {qualified(ref.table)} "
                f"as p where p.{ident(parent.tenancy.user)} = (select auth.uid())))")
    return f"{ident(table.tenancy.user)} = (select auth.uid())"


def access_predicate(project: model.Project, table: model.Table, command: str) -> str | None:
    """Rows ``command`` may act on: every row of the level's workspaces, or (``own``) the rows
    naming the user in the own level's workspaces, and the user's personal rows (of no
    workspace) where the spec says; None when nobody may."""
    level, own = table.access[command], table.own_level(command)
    if level in model.OPEN_LEVELS:  # every row, to everyone the policy's roles hold
        return "true"
    parts = []
    if level != model.NOBODY:
        parts.append(membership_predicate(project, table, level))
    if own == model.OWN:
        parts.append(owner_predicate(project, table))
    elif own != model.NOBODY:
        parts.append(f"({owner_predicate(project, table)} and {membership_predicate(project, table, own)})")
    if command in table.tenancy.personal and own != model.OWN:  # the user's own rows of no workspace
        parts.append(f"({ident(table.tenancy.workspace_column)} is null and {owner_predicate(project, table)})")
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
                         "mode": "", "roles": policy_roles(table.access[command]),
                         "comments": open_level_comments(table, command)})
    for policy in table.policies:
        clauses = [f"using ({policy.using})"] if policy.using is not None else []
        clauses += [f"with check ({policy.check})"] if policy.check is not None else []
        policies.append({"name": ident(policy.name), "command": policy.command, "clauses": clauses,
                         "mode": "" if policy.permissive else "as restrictive ", "roles": "authenticated",
                         "comments": []})
    return policies


def open_level_comments(table: model.Table, command: str) -> list[str]:
    """The lint suppression an open level's policy carries: the spec decided the rows are open."""
    level = table.access[command]
    if level not in model.OPEN_LEVELS:
        return []
    rules = "open-read-policy" if command == "select" else "open-write-policy"
    who = "every signed-in user" if level == model.SIGNED_IN else "anyone, anon included"
    return [f"-- tenantspec: ignore {rules} {table.name.name}.access.{command} is {level}: {who}, by the spec"]


def policy_roles(level: str) -> str:
    """The roles a generated policy is for: signed-in users, and anon too where anyone may."""
    return "anon, authenticated" if level == model.ANYONE else "authenticated"


def grants_of(table: model.Table) -> list[dict]:
    """authenticated gets the commands its policies allow, anon those anyone may run;
    service_role what the spec lists."""
    grants = []
    for role, commands in (("anon", table.anyone_commands), ("authenticated", table.api_commands),
                           ("service_role", table.service_role)):
        if commands:
            grants.append({"role": role, "privileges": ", ".join(commands)})
    return grants


def self_ties(table: model.Table) -> list[model.Column]:
    """Same-workspace references of a table to its own rows. A policy cannot tie them (its
    subquery on the table would apply the table's policies again, endlessly): a composite
    foreign key through the workspace column does, for every role."""
    workspace = table.tenancy.workspace_column
    return [c for c in table.columns if c.references and c.references.same_workspace and workspace
            and c.references.table == table.name and c.name != workspace]


# -- Storage -----------------------------------------------------------------------------------

STORAGE_OBJECTS = "storage.objects"
FOLDER = "(storage.foldername(name))[1]"  # an object's first folder, as text


def bucket_test(project: model.Project, bucket: model.Bucket, rule: str) -> str:
    """The object is in ``bucket`` and its first folder is one the user may reach by ``rule``:
    compared as text (a malformed path is no workspace, and raises nothing), the user's
    workspaces computed once per statement."""
    tie = f"bucket_id = {literal(bucket.id)}"
    if bucket.folder == model.USER_FOLDER:
        return f"{tie} and {FOLDER} = (select auth.uid()::text)"
    workspaces = f"array(select w::text from {helper_name(project, WorkspaceHelper(rule))}() as w)"
    return f"{tie} and {FOLDER} = any ({workspaces})"


def bucket_policies(project: model.Project, bucket: model.Bucket) -> list[dict]:
    """One policy on storage.objects per command someone may run on the bucket's objects,
    TO authenticated, named ``<bucket>_<command>``; USING and WITH CHECK both hold the object
    to the bucket and the folder (an update cannot move a file out of either)."""
    policies = []
    for command in model.COMMANDS:
        rule = bucket.rule(command)
        if rule == model.NOBODY:
            continue
        test = bucket_test(project, bucket, rule)
        clauses = {"select": [f"using ({test})"], "insert": [f"with check ({test})"],
                   "update": [f"using ({test})", f"with check ({test})"], "delete": [f"using ({test})"]}[command]
        policies.append({"name": ident(f"{bucket.id}_{command}"), "command": command, "clauses": clauses, "mode": "",
                         "roles": "authenticated", "comments": []})
    return policies


def bucket_row(bucket: model.Bucket) -> dict:
    """The bucket's row of storage.buckets, as SQL literals."""
    mime = ("array[" + ", ".join(literal(t) for t in bucket.allowed_mime_types) + "]::text[]"
            if bucket.allowed_mime_types else "null")
    return {"id": literal(bucket.id), "public": "true" if bucket.public else "false",
            "file_size_limit": str(bucket.file_size_limit) if bucket.file_size_limit else "null",
            "allowed_mime_types": mime}
