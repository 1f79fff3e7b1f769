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

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tenantspec.adopt.buckets import adopt_buckets, declare_buckets
from tenantspec.adopt.access import adopt_access, policy_entry
from tenantspec.adopt.objects import ProjectObjects
from tenantspec.adopt.tenancy import TenancyReading
from tenantspec.adopt.writing import (
    declare_external,
    flow,
    scalar,
    spec_default,
    spec_type,
)
from tenantspec.catalog.access import AccessReader, TenantModel, personas
from tenantspec.catalog.expression import display_expression, value_list
from tenantspec.catalog.nodes import deparse
from tenantspec.catalog.state import LEGACY, RESTRICTED, SchemaState, Table
from tenantspec.catalog.unread import unread_statements
from tenantspec.errors import Location, Problem, TenantspecError
from tenantspec.plan.history import baseline_of, read_history
from tenantspec.plan.pipeline import fresh_migrations, replay_texts
from tenantspec.render.migrations import environment
from tenantspec.spec import model
from tenantspec.spec.expressions import timezone_call, utc_timezone_call
from tenantspec.spec.load import load_project
from tenantspec.spec.located import load_located

COMMANDS = model.COMMANDS



@dataclass
class Adoption:
    """The spec texts adoption would write, and what it could not read as it is."""

    specs: dict[Path, str] = field(default_factory=dict)
    notes: list[Problem] = field(default_factory=list)


# Schemas whose functions the platform provides, and the built-in functions policies call.


class Adopter(ProjectObjects, TenancyReading):
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
        self.left_out: list[str] = []  # tables whose spec could not be written: hand-written still

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

    def adopt(self, skip_untraceable: bool = False) -> Adoption:
        """The specs of ``names``; with ``skip_untraceable``, a table whose spec cannot be
        written is left hand-written and named in a note instead of stopping adoption."""
        template = environment().get_template("spec.yaml.j2")
        for name in list(self.names):
            table = self.table(name)
            try:
                self.adoption.specs[Path("schema") / f"{name}.yaml"] = template.render(self.spec(table))
            except TenantspecError as error:
                if not skip_untraceable:
                    raise
                self.names.remove(name)
                self.left_out.append(name)
                self.adoption.notes += [Problem(p.location or (table.origin.location if table.origin else None),
                                                f"{table.qualified_name} stays hand-written: {p.message}")
                                        for p in error.problems]
        return self.adoption


    # -- one table ------------------------------------------------------------------------

    def user_only(self, table: Table) -> bool:
        """Whether every command's policies let signed-in people in on the rows naming them
        only, never for a membership: the row is its user's, wherever it lies."""
        key, found = (table.schema, table.name), False
        for command in model.COMMANDS:
            for persona in self.members + [p for p in self.strangers if p.signed_in]:
                verdict = self.reader.verdict(key, command, persona)
                if verdict.allowed is None or verdict.allowed and not verdict.own:
                    return False
                found = found or bool(verdict.allowed)
        return found

    def spec(self, table: Table) -> dict:
        key = (table.schema, table.name)
        for fk in table.foreign_keys:
            if missing := [c for c in fk.columns if c not in table.columns]:
                raise TenantspecError(Problem(fk.origin.location if fk.origin else None, (
                    f"foreign key {fk.name} names {', '.join(missing)}, a column the migrations never make as "
                    "tenantspec reads them (a change inside EXECUTE or a function is not read), so the table's "
                    "columns are not known")))
        one_of, checks = self.checks(table)
        indexes, covered = self.indexes(table)
        references = self.references(table)
        tenancy = self.tenancy_of(table)
        users = self.user_columns(table)
        # a user's row that may name a workspace (a bookmark of a chat, a notification about an
        # organization) and whose policies test only its user: the user's
        users_row = bool(tenancy and tenancy.get("nullable") and len(users) == 1
                         and ("parent" in tenancy or self.user_only(table)))
        if users_row:
            tenancy = None
        per_user = tenancy is None and len(users) == 1 and (users_row or not self.workspace_named(table))
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
        if access.personal:  # the user's rows of no workspace
            tenancy["personal"] = access.personal
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
            function = self.written_name(trigger.function)
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
    a dashboard created, say); nothing written. With no names, every table of the project's
    schema whose workspace or user can be traced; the others are named in notes.

    Every spec written is one the loader accepts: a table whose spec it refuses stays
    hand-written, named with the loader's words. Refuses to overwrite an existing spec unless
    ``force``.
    """
    project = load_project(root)
    passed_over: list[Problem] = []
    states = replayed(root, baseline, passed_over)
    every = not names
    if every:
        names = adoptable_tables(project, states[LEGACY])
        if not names:
            raise TenantspecError(f"no table of schema {project.schema} is left to adopt: every one is the "
                                  "workspaces or membership table, declared external, or spec'd already")
    existing = [name for name in names if (root / "schema" / f"{name}.yaml").exists()]
    if existing and not force and not every:
        raise TenantspecError([Problem(None, f"schema/{name}.yaml exists; adopt does not overwrite a spec "
                                             "(--force does)") for name in existing])
    refused: list[Problem] = []
    while True:
        adoption = _adoption(root, project, states, list(names), every)
        rejected = _refused_specs(root, adoption)
        if not rejected:
            break
        for name, problems in rejected.items():
            names = [n for n in names if n != name]
            refused += [Problem(p.location, f"{project.schema}.{name} stays hand-written: tenantspec cannot say it "
                                            f"yet ({p.message})") for p in problems[:3]]
        if not names:
            break
    adoption.notes += refused + passed_over
    if every and not any(path.stem != "project" for path in adoption.specs):
        raise TenantspecError(sorted(adoption.notes, key=lambda p: (p.location or Location("", 0, 0), p.message))
                              + [Problem(None, "no table was adopted: each one left stays hand-written, for the "
                                               "reason above")])
    adoption.notes.sort(key=lambda p: (p.location or Location("", 0, 0), p.message))
    return adoption


def adoptable_tables(project: model.Project, state: SchemaState) -> list[str]:
    """The tables ``adopt`` with no names tries: the project schema's, but the workspaces and
    membership tables and what project.yaml declares external."""
    skip = {project.tenancy.workspaces, project.tenancy.members.table, *project.external_tables, *(
        model.Name(project.schema, name) for name in project.tables)}
    return sorted(table.name for (schema, _), table in state.tables.items()
                  if schema == project.schema and not table.external and model.Name(schema, table.name) not in skip)


def _adoption(root: Path, project: model.Project, states: dict[str, SchemaState], names: list[str],
              every: bool) -> Adoption:
    adopter = Adopter(project, states, names)
    adoption = adopter.adopt(skip_untraceable=every)
    tables, functions = adopter.undeclared()
    domains = adopter.undeclared_domains(tables)
    enums = adopter.undeclared_enums(tables, domains)
    if tables or functions or enums or domains:
        adoption.specs[Path(project.source)] = declare_external(root / project.source, tables, functions, enums,
                                                                domains)
        for name, base in domains.items():
            adoption.notes.append(Problem(None, f"{project.source}: declares the domain {name} ({base}) under "
                                                "external.domains (a column of an adopted or external table is of it)"))
        for name in enums:
            adoption.notes.append(Problem(None, f"{project.source}: declares the enum type {name} under "
                                                "external.enums (a column of an adopted or external table is of it)"))
        for name in tables:
            adoption.notes.append(Problem(None, f"{project.source}: declares {name} under external.tables "
                                                "(an adopted table references it)"))
        for signature in functions:
            adoption.notes.append(Problem(None, f"{project.source}: declares {signature} under external.functions "
                                                "(an adopted trigger or kept policy calls it)"))
    if every:  # the buckets whose policies say a rule, beside every table
        buckets, bucket_notes = adopt_buckets(project, states[LEGACY])
        if buckets:
            source = Path(project.source)
            text = adoption.specs.get(source) or (root / source).read_text(encoding="utf-8")
            adoption.specs[source] = declare_buckets(text, buckets)
        adoption.notes += bucket_notes
    adoption.notes += adopter.missing_helpers() + adopter.unpinned_functions()
    adoption.notes += unread_statements(states[LEGACY], {(project.schema, name) for name in adopter.names})
    if adopter.unknown_helpers:
        # Without the function, the policies calling it can be neither read nor kept (the
        # correction would not verify): say what to declare, write nothing.
        raise TenantspecError(adopter.unknown_helpers + [Problem(None, (
            f"{len(adopter.unknown_helpers)} function(s) the policies call exist in no migration, no baseline and "
            f"not under external.functions of {project.source}: declare each there (with its argument types) and "
            "put the SQL that creates it in the baseline; no table spec was written"))])
    return adoption


def _external_entry(external: dict, line: int) -> str | None:
    """The name of the ``external`` table, enum or function (of the project file's
    ``external``, read with positions) whose entry holds ``line`` (1-based)."""
    found = None
    for kind in ("tables", "enums", "functions"):
        entries = external.get(kind) or {}
        items = entries.items() if isinstance(entries, dict) else enumerate(entries)
        for key, _ in items:
            start = entries.lc.key(key)[0] if isinstance(entries, dict) else entries.lc.item(key)[0]
            if start + 1 <= line:
                name = key if isinstance(entries, dict) else str(entries[key]).split("(")[0]
                found = (start, name) if found is None or start >= found[0] else found
    return found[1] if found else None


def _naming(external: dict, entry: str) -> set[str]:
    """``entry`` and the external tables whose declarations name it, and those naming them
    (a table of an enum type the loader refuses needs it too)."""
    tables = external.get("tables") or {}
    named, grown = {entry}, True
    while grown:
        grown = False
        for name, declaration in tables.items():
            words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", str(declaration)))
            if name not in named and any(n in words or n.split(".")[-1] in words for n in named):
                named.add(name)
                grown = True
    return named


def _refused_specs(root: Path, adoption: Adoption) -> dict[str, list[Problem]]:
    """The adopted tables whose specs the loader refuses, with its problems: read as
    ``generate`` would read them, beside the project's other specs, in a scratch copy."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch)
        shutil.copytree(root / "schema", copy / "schema", ignore=shutil.ignore_patterns("*.json"))
        for path, text in adoption.specs.items():
            (copy / path).write_text(text, encoding="utf-8")
        try:
            fresh_migrations(load_project(copy))  # loaded, rendered and verified as generate does
        except TenantspecError as error:
            found: dict[str, list[Problem]] = {}
            project_text = adoption.specs.get(Path("schema/project.yaml"))
            external = ((load_located(project_text) or {}).get("external") or {}) if project_text else None
            for problem in error.problems:
                behind = _tables_behind(problem, adoption, external)
                if not behind:
                    raise  # a spec of the user's, or nothing adopted to leave out for it
                for name in behind:
                    found.setdefault(name, []).append(problem)
            return found
    return {}


def _tables_behind(problem: Problem, adoption: Adoption, external: dict | None) -> list[str]:
    """The adopted tables a problem of the loader or the verification comes from: the spec it
    is in; the specs naming an external entry adoption declared in the project file
    (``external``, when adoption rewrote it); the spec holding the policy the verification
    names."""
    file = Path(problem.location.path).name if problem.location else ""
    specs = {path.stem: text for path, text in adoption.specs.items() if path.stem != "project"}
    if file == "project.yaml" and external is not None:
        entry = _external_entry(external, problem.location.line)
        named = _naming(external, entry) if entry else set()
        return [name for name, text in specs.items()
                if any(re.search(rf"\b{re.escape(n.split('.')[-1])}\b", text) for n in named)]
    if file.endswith(".sql"):
        policy = re.search(r"policy (.+?) (?:refers|calls|reads|on|is|has|uses)\b", problem.message)
        held = [name for name, text in specs.items()
                if policy and (policy.group(1) in text or policy.group(1).startswith(f"{name}_"))]
        return held[:1]
    return [file.removesuffix(".yaml")] if file.removesuffix(".yaml") in specs else []


def replayed(root: Path, baseline: Path | None = None,
             passed_over: list[Problem] | None = None) -> dict[str, SchemaState]:
    """The schema states (per privilege regime) the project's baseline and then its
    migrations leave: what adoption reads. A statement the parser refuses is left out and
    said in ``passed_over`` (adoption reads what it can), or stops the replay without it."""
    found = baseline_of(root) if baseline is None else baseline
    before = [(str(found.relative_to(root) if found.is_relative_to(root) else found), found.read_text())] \
        if found is not None else []
    return replay_texts(before + [(str(f.path), f.text) for f in read_history(root).files], passed_over)
