"""Adopt tables that hand-written migrations created: write their specs from the replayed state.

The migrations folder is replayed (``tenantspec.catalog``), the same state the next
``tenantspec generate`` starts from, so the specs adoption writes and the corrective migration
that follows agree by construction. Columns, types, defaults, nullability, comments, value-list
checks (as ``one_of``), foreign keys, unique keys, indexes, triggers, realtime and
service_role's grants are read as they are. Tenancy and access are read from the policies by
``tenantspec.catalog.access``: each command's level is the project level whose roles are
exactly the roles the policies admit. What cannot be mapped is said, with the policy's
location, and written as ``nobody``: the safest reading, for review, never a wider one.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pglast import ast
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from tenantspec import model
from tenantspec.adopt_access import adopt_access, owner_columns, policy_entry
from tenantspec.adopt_unread import unread_statements
from tenantspec.catalog.access import AccessReader, TenantModel, personas
from tenantspec.catalog.bodies import function_query
from tenantspec.catalog.builtins import BUILTIN_FUNCTIONS
from tenantspec.catalog.expression import display_expression, value_list
from tenantspec.catalog.names import singular
from tenantspec.catalog.nodes import deparse, function_name, normalized, walk
from tenantspec.catalog.replay import LEGACY, RESTRICTED, SchemaState, Table
from tenantspec.errors import Location, Problem, TenantspecError
from tenantspec.expressions import timezone_call, type_node, utc_timezone_call
from tenantspec.history import baseline_of, read_history
from tenantspec.load import load_project
from tenantspec.pipeline import replay_texts
from tenantspec.render import environment

COMMANDS = model.COMMANDS
# A plain scalar in a flow mapping: no indicator first, no comma, bracket, brace, ": " or " #".
PLAIN = re.compile(r"(?![-?:,\[\]{}#&*!|>'\"%@`])[^,\[\]{}\n]*\Z")
YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"}


@dataclass
class Adoption:
    """The spec texts adoption would write, and what it could not read as it is."""

    specs: dict[Path, str] = field(default_factory=dict)
    notes: list[Problem] = field(default_factory=list)


# Schemas whose functions the platform provides, and the built-in functions policies call.
SERVICE_SCHEMAS = frozenset({"auth", "pg_catalog", "extensions", "storage", "realtime", "vault"})


def scalar(value) -> str:
    """A YAML scalar in flow context: plain when unambiguous, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if PLAIN.match(text) and ": " not in text and " #" not in text and text.lower() not in YAML_WORDS \
            and text == text.strip() and text and not re.fullmatch(r"[-+.0-9eE]+", text):
        return text
    return json.dumps(text, ensure_ascii=False)


def flow(mapping: dict) -> str:
    """``{key: value, ...}`` with nested mappings and lists."""
    parts = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            parts.append(f"{key}: {flow(value)}")
        elif isinstance(value, (list, tuple)):
            parts.append(f"{key}: [{', '.join(scalar(v) for v in value)}]")
        else:
            parts.append(f"{key}: {scalar(value)}")
    return "{" + ", ".join(parts) + "}"


def spec_type(node: ast.TypeName) -> str:
    """A column type as a spec writes it: ``uuid``, ``text``, ``integer``, ``varchar(80)``."""
    text = deparse(node)
    return {"timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
            "double precision": "float8", "character varying": "varchar"}.get(text, text)


def spec_default(node) -> str | bool | int | None:
    """A default as a spec writes it: a YAML boolean or integer for a constant, else one SQL
    expression without the casts a string literal needs not."""
    if node is None:
        return None
    node = normalized(node)
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Boolean):
        return bool(node.val.boolval)
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Integer):
        return node.val.ival
    if isinstance(node, ast.FuncCall) and not node.args and len(node.funcname) == 1:
        return f"{node.funcname[0].sval.lower()}()"  # now(), gen_random_uuid()
    return deparse(node)


class Adopter:
    """Reads one project's replayed state into specs for the named tables."""

    def __init__(self, project: model.Project, states: dict[str, SchemaState], names: list[str]):
        self.project = project
        self.state = states[LEGACY]
        self.explicit = states[RESTRICTED]  # no default privileges: what the migrations grant themselves
        self.names = names
        self.tenancy = TenantModel.of(project)
        self.reader = AccessReader(self.state, self.tenancy)
        every = personas(self.tenancy)
        self.members = [p for p in every if p.member_role]  # one per membership role of workspace A
        self.strangers = [p for p in every if not p.member_role and p.db_role != "service_role"]
        self.adoption = Adoption()
        self.kept: dict[str, list] = {}  # table -> policies kept as written
        self.unknown_helpers: list[Problem] = []  # called, made nowhere, declared nowhere

    def note(self, origin, message: str) -> None:
        location = origin.location if origin is not None else None
        self.adoption.notes.append(Problem(location, message))

    def table(self, name: str) -> Table:
        if model.Name(self.project.schema, name) in self.project.external_tables:
            raise TenantspecError(f"{name} is declared external in {self.project.source}: remove it there to adopt it")
        table = self.state.tables.get((self.project.schema, name))
        if table is None or table.external:
            raise TenantspecError(f"{self.project.schema}.{name}: no migration in supabase/migrations creates it")
        return table

    def adopt(self) -> Adoption:
        template = environment().get_template("spec.yaml.j2")
        for name in self.names:
            table = self.table(name)
            self.adoption.specs[Path("schema") / f"{name}.yaml"] = template.render(self.spec(table))
        return self.adoption

    def missing_helpers(self) -> list[Problem]:
        """Functions the adopted tables' policies call that no migration and no baseline
        creates: their bodies decide who passes, and without them a policy cannot be read."""
        known = {(f.schema, f.name) for f in self.state.functions.values()}
        declared = {(f.name.schema, f.name.name) for f in self.project.external_functions}
        notes, seen = [], set()
        for name in self.names:
            for policy in self.state.tables[(self.project.schema, name)].policies.values():
                for expression in (policy.using, policy.check):
                    for node, _ in walk(expression) if expression is not None else ():
                        if not isinstance(node, ast.FuncCall):
                            continue
                        schema, function = function_name(node)
                        if schema in SERVICE_SCHEMAS or (schema or "public", function) in known:
                            continue
                        if schema is None and function in BUILTIN_FUNCTIONS:
                            continue
                        shown = f"{schema + '.' if schema else ''}{function}()"
                        if (schema or self.project.schema, function) not in seen:  # (public.f and f are one)
                            seen.add((schema or self.project.schema, function))
                            notes.append(Problem(policy.origin.location,
                                                 f"{shown}, which policy {policy.name!r} calls, is created by no "
                                                 "migration of the folder and no baseline: its body decides who "
                                                 "passes; put the SQL that creates it in the baseline "
                                                 "(tests/baseline.sql, or tenantspec_baseline in pytest.ini)"))
                            if (schema or self.project.schema, function) not in declared:
                                self.unknown_helpers.append(notes[-1])
        return notes

    def unpinned_functions(self) -> list[Problem]:
        """SECURITY DEFINER functions of the folder whose search_path is not pinned to '' (the
        proof's rule): a caller's objects can stand in for the names their bodies use. The specs
        do not own them, so the correction leaves them; the note says the fix (and the proof's
        check fails until it is made)."""
        notes = []
        for function in self.state.functions.values():
            if not function.security_definer or function.search_path == "''" or function.schema in SERVICE_SCHEMAS \
                    or function.origin is None or function.origin.location is None:
                continue
            signature = f"{function.schema}.{function.name}({', '.join(function.arg_types)})"
            setting = "no search_path" if function.search_path is None else f"search_path {function.search_path}"
            notes.append(Problem(function.origin.location, (
                f"{signature} is SECURITY DEFINER with {setting}, so a caller's objects can stand in for the "
                "names its body uses, and the proof's check of such functions fails on it: the correction leaves "
                f"it as it is (no spec owns it); a migration of yours fixes it: `alter function {signature} set "
                f"search_path = ''` once its body qualifies every name ({', '.join(self.names_to_qualify(function))})")))
        return notes

    def names_to_qualify(self, function) -> list[str]:
        """The tables ``function``'s body names without a schema, as it must name them once its
        search_path is empty; the membership table when the body is not one adoption reads."""
        query = function_query(function)
        found = sorted({node.relname for node, _ in walk(query) if isinstance(node, ast.RangeVar)
                        and not node.schemaname}) if query is not None else []
        if found:
            return [f"{self.project.schema}.{name}" for name in found]
        members = self.project.tenancy.members.table
        return [f"{members.schema}.{members.name}"]

    def undeclared(self) -> tuple[dict[str, dict], list[str]]:
        """Tables the adopted ones reference and functions their triggers call that are neither
        spec'd nor declared external: ``project.yaml`` must name them."""
        tables, functions = {}, []
        declared = {(f.name.schema, f.name.name) for f in self.project.external_functions}
        for name in self.names:
            table = self.state.tables[(self.project.schema, name)]
            for fk in table.foreign_keys:
                target = fk.target
                spec_name = target[1] if target[0] == self.project.schema else f"{target[0]}.{target[1]}"
                if (target[0] == self.project.schema and (target[1] in self.project.tables or target[1] in self.names)) \
                        or model.Name(*target) in self.project.external_tables or spec_name in tables:
                    continue
                referenced = self.state.tables.get(target)
                columns = {c.name: spec_type(c.type) for c in referenced.columns.values()} if referenced and \
                    referenced.columns else {column: "uuid" for column in fk.target_columns}
                entry: dict = {"columns": columns}
                if (workspace := self.reader.workspace_column(target)) is not None:
                    entry["workspace_column"] = workspace
                tables[spec_name] = entry
            for policy in self.kept.get(name, ()):
                self.policy_objects(policy, tables, functions, declared)
            for trigger in table.triggers.values():
                if trigger.function not in declared:
                    schema, function = trigger.function
                    signature = f"{function}()" if schema == self.project.schema else f"{schema}.{function}()"
                    if signature not in functions:
                        functions.append(signature)
        return tables, functions

    def undeclared_enums(self, tables: dict[str, dict]) -> dict[str, list[str]]:
        """Enum types the migrations create that a column of an adopted table, or of a table
        declared external beside them, is of, and ``project.yaml`` does not declare."""
        declared = {(e.name.schema, e.name.name) for e in self.project.enums.values()}
        found: dict[str, list[str]] = {}
        types = [c.type for name in self.names for c in self.state.tables[(self.project.schema, name)].columns.values()]
        types += [type_node(t) for entry in tables.values() for t in entry["columns"].values()]
        for node in types:
            if node is None:
                continue
            names = [n.sval for n in node.names]
            key = (names[-2] if len(names) > 1 else self.project.schema, names[-1])
            enum = self.state.enums.get(key)
            if enum is not None and key not in declared:
                found[key[1] if key[0] == self.project.schema else ".".join(key)] = list(enum.values)
        return found

    def policy_objects(self, policy, tables: dict[str, dict], functions: list[str], declared: set) -> None:
        """The tables a kept policy reads and the functions it calls, for ``external``."""
        for expression in (policy.using, policy.check):
            for node, _ in walk(expression) if expression is not None else ():
                if isinstance(node, ast.RangeVar):
                    target = (node.schemaname or self.project.schema, node.relname)
                    shown = target[1] if target[0] == self.project.schema else ".".join(target)
                    known = (target[0] == self.project.schema and (target[1] in self.project.tables
                                                                   or target[1] in self.names))
                    referenced = self.state.tables.get(target)
                    if known or model.Name(*target) in self.project.external_tables or shown in tables \
                            or referenced is None or not referenced.columns:
                        continue
                    entry: dict = {"columns": {c.name: spec_type(c.type) for c in referenced.columns.values()}}
                    if (workspace := self.reader.workspace_column(target)) is not None:
                        entry["workspace_column"] = workspace
                    tables[shown] = entry
                elif isinstance(node, ast.FuncCall):
                    schema, function = function_name(node)
                    if schema in SERVICE_SCHEMAS or (schema is None and function in BUILTIN_FUNCTIONS):
                        continue
                    found = [f for f in self.state.functions.values()
                             if f.name == function and (schema is None or f.schema == schema)]
                    if not found or (found[0].schema, found[0].name) in declared:
                        continue
                    f = found[0]
                    args = ", ".join(f.arg_types)
                    signature = f"{f.name}({args})" if f.schema == self.project.schema else f"{f.schema}.{f.name}({args})"
                    if signature not in functions:
                        functions.append(signature)

    # -- one table ------------------------------------------------------------------------

    def spec(self, table: Table) -> dict:
        key = (table.schema, table.name)
        one_of, checks = self.checks(table)
        indexes, covered = self.indexes(table)
        references = self.references(table)
        tenancy = self.tenancy_of(table)
        users = self.user_columns(table)
        per_user = tenancy is None and len(users) == 1 and not self.workspace_named(table)
        user_parent = None if per_user or tenancy is not None else self.user_parent_column(table)
        if user_parent is not None:  # a row of a user's row: that user's
            tenancy = {"parent": user_parent}
            per_user = True
        if per_user:
            tenancy = tenancy or {"user": next(iter(users))}
            for spec in references.values():  # a row of no workspace ties nothing to its workspace
                spec.pop("same_workspace", None)
        elif tenancy is None:
            tenancy = self.unreferenced_tenancy(table, references)
        access = adopt_access(self, table, per_user)
        if access.user is not None and not per_user:
            tenancy["user"] = access.user
        self.kept[table.name] = access.kept
        needs_index = [c for c in list(references) + [tenancy.get("column") or tenancy.get("parent")
                                                      or tenancy.get("user")]
                       if c and c not in covered]
        carried = self.carried_column(table, tenancy)
        if carried is not None:
            # tenantspec indexes the carried key (parent, carried) and the carried column itself
            needs_index = [c for c in needs_index if c != tenancy["parent"]]
            kept = [ix for ix in indexes if ix != {"columns": [tenancy["parent"]]}]
            if len(kept) < len(indexes):
                self.note(table.origin, f"{table.qualified_name}: the index on ({tenancy['parent']}) alone is left out: "
                                        f"the index of the carried key ({tenancy['parent']}, {carried}) serves it; "
                                        "the next migration drops it")
            indexes = kept
            if carried not in table.columns:
                self.note(table.origin, f"{table.qualified_name}: its workspace comes through {tenancy['parent']}; "
                                        f"the spec carries it in a new column {carried} (filled from the parent, "
                                        "indexed), which keeps the policies' cost flat; say strategy: exists or "
                                        "parent_ids to leave the table's columns as they are")
        for column in dict.fromkeys(needs_index):
            indexes.append({"columns": [column]})
            self.note(table.columns[column].origin,
                      f"{table.qualified_name}.{column}: a foreign key or policy column leads no index; "
                      "the spec adds one")
        columns = []
        for column in table.columns.values():
            if column.name != carried:  # (a carried column the table has already: the strategy says it)
                columns.append((column.name, self.column(table, column, one_of.get(column.name), references)))
        return {
            "name": table.name,
            "comment": scalar(table.comment) if table.comment else None,
            "columns": [(f"{name}:".ljust(max(len(n) for n, _ in columns) + 1), flow(spec))
                        for name, spec in columns],
            "unique": [f"[{', '.join(cols)}]" for cols in self.unique(table)],
            "indexes": [flow(index) for index in indexes],
            "checks": [flow(check) for check in checks],
            "tenancy": flow(tenancy),
            "access": flow(access.access),
            "policies": [(f"{p.origin.location}" if p.origin else "", flow(policy_entry(p))) for p in access.kept],
            "service_role": f"[{', '.join(self.service_role(key))}]",
            "triggers": [flow(trigger) for trigger in self.triggers(table)],
            "realtime": key in self.state.publications.get("supabase_realtime", []),
        }

    def column(self, table: Table, column, one_of, references: dict) -> dict:
        spec: dict = {"type": spec_type(column.type)}
        if column.name in (table.primary_key or ()):
            spec["primary_key"] = True  # (each column of a composite key says so)
        elif column.not_null:
            spec["not_null"] = True
        default = spec_default(column.default)
        if isinstance(default, str) and column.type_name == "timestamptz" and timezone_call(default):
            if utc_timezone_call(default):
                self.note(column.default_origin, f"{table.qualified_name}.{column.name} defaults to {default}: right "
                                                 "under Supabase's UTC sessions, and now() is the same instant in "
                                                 "every zone: the spec says now(); rows written so far are unaffected")
            else:
                self.note(column.default_origin, f"{table.qualified_name}.{column.name} defaults to {default}, a "
                                                 "local time stored as if it were UTC: the spec says now(), and rows "
                                                 "written so far are hours off (docs/adopt.md shows how to fix them)")
            default = "now()"
        if default is not None and column.identity is None:
            spec["default"] = default
        if column.identity is not None:
            spec["identity"] = column.identity
        if column.generated is not None:
            spec["generated"] = deparse(column.generated)
        if one_of:
            spec["one_of"] = list(one_of)
        if column.comment:
            spec["comment"] = column.comment
        if column.name in references:
            spec["references"] = references[column.name]
        return spec

    def checks(self, table: Table) -> tuple[dict[str, tuple[str, ...]], list[dict]]:
        one_of, checks = {}, []
        for check in table.checks:
            found = value_list(check.expression)
            if found and found[0] in table.columns and found[0] not in one_of:
                one_of[found[0]] = found[1]
            else:
                checks.append({"name": check.name, "expression": display_expression(check.expression)})
        return one_of, checks

    def unique(self, table: Table) -> list[tuple[str, ...]]:
        return [ix.columns for ix in table.indexes if ix.constraint == "unique"]

    def indexes(self, table: Table) -> tuple[list[dict], set[str]]:
        """Plain and unique indexes, without the ones another index already serves; and the
        columns some full index leads."""
        keys = [ix.columns for ix in table.indexes if ix.constraint]
        full = [ix for ix in table.indexes if not ix.constraint]
        found = []
        for index in full:
            if any(c.startswith("(") for c in index.columns):
                self.note(index.origin, f"index {index.name} on {table.qualified_name} is on an expression, "
                                        "which specs do not describe; the next migration drops it")
                continue
            longer = [other for other in keys + [o.columns for o in full if o is not index and o.predicate is None]
                      if len(other) > len(index.columns) and other[:len(index.columns)] == index.columns]
            same = [other for other in keys if other == index.columns]
            if index.predicate is None and not index.unique and (longer or same):
                self.note(index.origin, f"index {index.name} on {table.qualified_name} ({', '.join(index.columns)}) "
                                        "repeats the leading columns of another index; the next migration drops it")
                continue
            spec: dict = {"columns": list(index.columns)}
            if index.unique:
                spec["unique"] = True
            if index.predicate is not None:
                spec["where"] = display_expression(index.where)
            found.append(spec)
        leading = {cols[0] for cols in keys} | {ix["columns"][0] for ix in found if "where" not in ix}
        return found, leading

    def references(self, table: Table) -> dict[str, dict]:
        found = {}
        tied = {id(fk): (column, target) for fk, column, target in self.workspace_keys(table)}
        parent = self.carrying_parent(table)
        for fk in table.foreign_keys:
            if id(fk) in tied:  # how tenantspec itself keeps a reference (or the parent) in the row's workspace
                column, target_column = tied[id(fk)]
                found[column] = self.reference_spec(fk, target_column)
                if column != parent:
                    found[column]["same_workspace"] = True
                continue
            if len(fk.columns) != 1:
                self.note(fk.origin, f"foreign key {fk.name} on {table.qualified_name} spans several columns, "
                                     "which specs do not describe; the next migration drops it")
                continue
            spec = self.reference_spec(fk, fk.target_columns[0])
            if self.scoped_reference(table, fk.columns[0], fk.target):
                spec["same_workspace"] = True
                if not self.tied_everywhere(table, fk.columns[0]):
                    self.note(fk.origin, f"{table.qualified_name}.{fk.columns[0]} references "
                                         f"{fk.target[0]}.{fk.target[1]}, whose rows belong to a workspace, and no "
                                         "policy keeps it within the row's own: the spec says same_workspace, the "
                                         "next migration adds the check")
            found[fk.columns[0]] = spec
        return found

    def reference_spec(self, fk, target_column: str) -> dict:
        target = fk.target[1] if fk.target[0] == self.project.schema else f"{fk.target[0]}.{fk.target[1]}"
        spec: dict = {"table": target}
        if target_column != "id":
            spec["column"] = target_column
        if fk.on_delete != "no action":
            spec["on_delete"] = fk.on_delete
        return spec

    def scoped_reference(self, table: Table, column: str, target: tuple[str, str]) -> bool:
        """A reference into another table whose rows belong to a workspace (not the tenancy
        column itself, nor the parent a child's workspace comes from)."""
        key = (table.schema, table.name)
        if column == self.reader.workspace_column(key) or target == self.tenancy.workspaces:
            return False
        if self.reader.workspace_column(target) is None:
            return False
        return self.parent_column(table) != column

    def tied_everywhere(self, table: Table, column: str) -> bool:
        return all(self.reader.reference_tied(table, column, command, persona)
                   for command in ("insert", "update") for persona in self.members
                   if self.reader.verdict((table.schema, table.name), command, persona).allowed)

    def workspace_keys(self, table: Table) -> list[tuple]:
        """Two-column keys pairing the row's workspace column with the target's, ``(order_id,
        workspace_id) -> orders (id, workspace_id)``: ``(key, the other column, its target)``."""
        workspace = self.reader.workspace_column((table.schema, table.name))
        found = []
        for fk in table.foreign_keys:
            if len(fk.columns) == 2 and workspace in fk.columns \
                    and self.reader.workspace_column(fk.target) == fk.target_columns[fk.columns.index(workspace)]:
                other = 1 - fk.columns.index(workspace)
                found.append((fk, fk.columns[other], fk.target_columns[other]))
        return found

    def carrying_parent(self, table: Table) -> str | None:
        """The parent key of a workspace column carried from the parent, ``(job_id,
        workspace_id) references robot_jobs (id, workspace_id)`` with no key of its own to the
        workspaces table."""
        workspace = self.reader.workspace_column((table.schema, table.name))
        if any(fk.columns == (workspace,) and fk.target == self.tenancy.workspaces for fk in table.foreign_keys):
            return None
        return next((column for fk, column, _ in self.workspace_keys(table)
                     if fk.target != (table.schema, table.name) and table.columns[column].not_null), None)

    def parent_column(self, table: Table) -> str | None:
        """A NOT NULL foreign key to a table with a workspace column, when the row has none."""
        if self.reader.workspace_column((table.schema, table.name)) is not None:
            return None
        for fk in table.foreign_keys:
            if len(fk.columns) == 1 and table.columns[fk.columns[0]].not_null \
                    and fk.target[0] == self.project.schema and self.reader.workspace_column(fk.target):
                target = self.state.tables.get(fk.target)
                if target is not None and not target.external:
                    return fk.columns[0]
        return None

    def tenancy_of(self, table: Table) -> dict | None:
        column = self.reader.workspace_column((table.schema, table.name))
        if column is not None and (parent := self.carrying_parent(table)) is not None:
            return {"parent": parent, "strategy": model.CARRIED}  # as tenantspec renders a child
        if column is not None:
            return {"column": column}
        parent = self.parent_column(table)
        return {"parent": parent, "strategy": model.CARRIED} if parent else None

    def user_columns(self, table: Table) -> set[str]:
        """The columns a table's policies compare with auth.uid(); with no policy at all, its one
        foreign key to auth.users."""
        if not table.policies:
            return {fk.columns[0] for fk in table.foreign_keys if fk.target == ("auth", "users")
                    and len(fk.columns) == 1 and table.columns[fk.columns[0]].type_name == "uuid"}
        return set().union(*(owner_columns(p) for p in table.policies.values())) & set(table.columns)

    def of_users(self, key: tuple[str, str]) -> bool:
        """Whether ``key`` is (or adopts as) a per-user table."""
        if key[0] != self.project.schema:
            return False
        spec = self.project.tables.get(key[1])
        if spec is not None:
            return spec.tenancy.per_user and not spec.tenancy.user_parent
        table = self.state.tables.get(key)
        return key[1] in self.names and table is not None and self.tenancy_of(table) is None \
            and len(self.user_columns(table)) == 1 and not self.workspace_named(table)

    def user_parent_column(self, table: Table) -> str | None:
        """A NOT NULL foreign key to a per-user table, when the row has no workspace."""
        for fk in table.foreign_keys:
            if len(fk.columns) == 1 and table.columns[fk.columns[0]].not_null and fk.target != (table.schema, table.name) \
                    and self.of_users(fk.target):
                return fk.columns[0]
        return None

    def workspace_named(self, table: Table) -> bool:
        """Whether the table has a column named like a workspace column (it references nothing)."""
        workspaces = self.tenancy.workspaces
        names = [self.project.tenancy.members.workspace_column, f"{singular(workspaces[1])}_id", "workspace_id"]
        return any(n and n in table.columns for n in names)

    def unreferenced_tenancy(self, table: Table, references: dict[str, dict]) -> dict:
        """A table whose workspace column references nothing (``org_id uuid not null``, no
        foreign key): the column named like the memberships' workspace column holds it, and
        the spec adds the reference; without such a column adoption stops, naming the table."""
        workspaces = self.tenancy.workspaces
        names = [self.project.tenancy.members.workspace_column, f"{singular(workspaces[1])}_id", "workspace_id"]
        column = next((n for n in names if n and n in table.columns), None)
        if column is None:
            raise TenantspecError(Problem(table.origin.location if table.origin else None,
                                          f"{table.qualified_name}: no column references {workspaces[1]} and no "
                                          "parent table that does, so which workspace a row belongs to is unknown; "
                                          "tenantspec adopts workspace tables only"))
        target = workspaces[1] if workspaces[0] == self.project.schema else ".".join(workspaces)
        references[column] = {"table": target, "on_delete": "cascade"}
        self.note(table.columns[column].origin,
                  f"{table.qualified_name}.{column} holds the row's {workspaces[1]} row but references nothing: "
                  f"the spec makes it the tenancy column and references {target} (on delete cascade); the next "
                  "migration adds the foreign key, which fails if a row names no existing one")
        return {"column": column}

    def carried_column(self, table: Table, tenancy: dict) -> str | None:
        """The column a carried child gets: its parent's workspace column's name."""
        if tenancy.get("strategy") != model.CARRIED:
            return None
        target = self.reader.reference_target((table.schema, table.name), tenancy["parent"]) or next(
            (fk.target for fk, column, _ in self.workspace_keys(table) if column == tenancy["parent"]), None)
        return self.reader.workspace_column(target) if target else None

    # -- access ---------------------------------------------------------------------------

    def policy_origin(self, table: Table, command: str):
        policies = [p for p in table.policies.values() if p.command in (command, "all")]
        return policies[0].origin if policies else table.origin

    def service_role(self, key: tuple[str, str]) -> list[str]:
        explicit = self.explicit.tables[key].privileges.get("service_role", {})
        held = explicit or self.state.tables[key].privileges.get("service_role", {})
        return [c for c in COMMANDS if c in held]

    def triggers(self, table: Table) -> list[dict]:
        """Every trigger as it is: timing, events, ``update of`` columns, ``when``, arguments and
        row or statement; only INSTEAD OF (a view's) is beyond a table spec."""
        found = []
        for trigger in table.triggers.values():
            if trigger.timing == "instead of":
                self.note(trigger.origin, f"trigger {trigger.name} on {table.qualified_name} is an INSTEAD OF "
                                          "trigger, which tables do not have; the next migration drops it")
                continue
            name = trigger.name.replace(f"{table.name}_", "", 1) if trigger.name.startswith(f"{table.name}_") \
                else trigger.name.replace(f"_{table.name}", "").replace(f"{table.name}_", "")
            function = trigger.function[1] if trigger.function[0] == self.project.schema else ".".join(trigger.function)
            spec: dict = {"name": name, "timing": trigger.timing, "events": list(trigger.events)}
            if trigger.columns:
                spec["columns"] = list(trigger.columns)
            if trigger.when is not None:
                spec["when"] = deparse(trigger.when)
            if trigger.arguments:
                spec["arguments"] = list(trigger.arguments)
            if not trigger.for_each_row:
                spec["for_each"] = "statement"
            spec["function"] = function
            found.append(spec)
        return found


def adopt(root: Path, names: list[str], force: bool = False, baseline: Path | None = None) -> Adoption:
    """Specs for ``names`` from the replayed ``supabase/migrations`` of ``root``, after the
    project's baseline (the objects made before the first migration: the membership helpers
    a dashboard created, say); nothing written.

    Refuses to overwrite an existing spec unless ``force``.
    """
    if not names:
        raise TenantspecError("name at least one table to adopt")
    project = load_project(root)
    existing = [name for name in names if (root / "schema" / f"{name}.yaml").exists()]
    if existing and not force:
        raise TenantspecError([Problem(None, f"schema/{name}.yaml exists; adopt does not overwrite a spec "
                                             "(--force does)") for name in existing])
    states = replayed(root, baseline)
    adopter = Adopter(project, states, names)
    adoption = adopter.adopt()
    tables, functions = adopter.undeclared()
    enums = adopter.undeclared_enums(tables)
    if tables or functions or enums:
        adoption.specs[Path(project.source)] = declare_external(root / project.source, tables, functions, enums)
        for name in enums:
            adoption.notes.append(Problem(None, f"{project.source}: declares the enum type {name} under "
                                                "external.enums (a column of an adopted or external table is of it)"))
        for name in tables:
            adoption.notes.append(Problem(None, f"{project.source}: declares {name} under external.tables "
                                                "(an adopted table references it)"))
        for signature in functions:
            adoption.notes.append(Problem(None, f"{project.source}: declares {signature} under external.functions "
                                                "(an adopted trigger or kept policy calls it)"))
    adoption.notes += adopter.missing_helpers() + adopter.unpinned_functions()
    adoption.notes += unread_statements(states[LEGACY], {(project.schema, name) for name in names})
    if adopter.unknown_helpers:
        # Without the function, the policies calling it can be neither read nor kept (the
        # correction would not verify): say what to declare, write nothing.
        raise TenantspecError(adopter.unknown_helpers + [Problem(None, (
            f"{len(adopter.unknown_helpers)} function(s) the policies call exist in no migration, no baseline and "
            f"not under external.functions of {project.source}: declare each there (with its argument types) and "
            "put the SQL that creates it in the baseline; no table spec was written"))])
    adoption.notes.sort(key=lambda p: (p.location or Location("", 0, 0), p.message))
    return adoption


def replayed(root: Path, baseline: Path | None = None) -> dict[str, SchemaState]:
    """The schema states (per privilege regime) the project's baseline and then its
    migrations leave: what adoption reads."""
    found = baseline_of(root) if baseline is None else baseline
    before = [(str(found.relative_to(root) if found.is_relative_to(root) else found), found.read_text())] \
        if found is not None else []
    return replay_texts(before + [(str(f.path), f.text) for f in read_history(root).files])


def declare_external(path: Path, tables: dict[str, dict], functions: list[str],
                     enums: dict[str, list[str]] | None = None) -> str:
    """The project file with ``tables``, ``functions`` and ``enums`` added under ``external``,
    its comments kept."""
    yaml = YAML(typ="rt")
    yaml.width = 4096
    data = yaml.load(path.read_text(encoding="utf-8"))
    external = data.setdefault("external", CommentedMap())
    declared = external.setdefault("tables", CommentedMap())
    for name, entry in tables.items():
        columns = CommentedMap(entry["columns"])
        columns.fa.set_flow_style()
        item = CommentedMap(columns=columns, **({"workspace_column": entry["workspace_column"]}
                                                 if "workspace_column" in entry else {}))
        item.fa.set_flow_style()
        declared[name] = item
    if enums:
        types = external.setdefault("enums", CommentedMap())
        for name, values in enums.items():
            entry = CommentedSeq(values)
            entry.fa.set_flow_style()
            types[name] = entry
    listed = external.setdefault("functions", CommentedSeq())
    for signature in functions:
        listed.append(signature)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
