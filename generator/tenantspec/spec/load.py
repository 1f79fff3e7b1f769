"""Load ``schema/*.yaml``, validate it strictly, and build the frozen model.

Shape is checked against the published JSON Schemas (``generator/tenantspec/schemas``); meaning
(references, types, expressions, indexes) is checked here. Every problem carries the
``file:line:col`` of the YAML node it is about, and all problems are reported at once.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from tenantspec.errors import Location, Problem, TenantspecError
from tenantspec.spec import model, rules
from tenantspec.spec.documents import (
    PROJECT_FILE,
    Document,
    read_document,
    shape_problems,
)
from tenantspec.spec.expressions import (
    default_error,
    is_serial,
    is_timestamptz,
    parse_expression,
    timezone_call,
    utc_timezone_call,
)
from tenantspec.spec.project_file import ProjectFile


def load_project(root: Path) -> model.Project:
    """Read ``root/schema``: the project file and one spec per table, into a validated model."""
    root = Path(root)
    schema_dir = root / "schema"
    project_file = schema_dir / PROJECT_FILE
    if not project_file.is_file():
        raise TenantspecError(f"{project_file}: no project file; tenantspec looks for schema/{PROJECT_FILE}")
    documents = [read_document(project_file, root)]
    documents += [read_document(f, root) for f in sorted(schema_dir.glob("*.yaml")) if f.name != PROJECT_FILE]
    problems = shape_problems(documents[0], "project")
    for doc in documents[1:]:
        problems += shape_problems(doc, "table")
    if problems:
        raise TenantspecError(sorted(problems, key=lambda p: (p.location, p.message)))
    return ProjectBuilder(documents[0], documents[1:]).build()


class ProjectBuilder(ProjectFile):
    """Turns shape-valid documents into the model, collecting every semantic problem."""

    def __init__(self, project_doc: Document, table_docs: list[Document]):
        self.doc = project_doc
        self.table_docs = table_docs
        self.docs_by_table = {doc.data["table"]: doc for doc in table_docs}
        self.problems: list[Problem] = []
        data = project_doc.data
        self.schema = data.get("schema", "public")
        self.helper_schema = data.get("helper_schema", "private")

    def problem(self, location: Location, message: str) -> None:
        self.problems.append(Problem(location, message))

    def name(self, text: str) -> model.Name:
        schema, _, name = str(text).rpartition(".")
        return model.Name(schema or self.schema, name)

    def build(self) -> model.Project:
        self.enums = rules.enums(self)
        self.domains = rules.domains(self)
        external_tables = self.external_tables()
        functions = self.external_functions()
        tenancy = self.tenancy(external_tables)
        self.external = external_tables
        self.functions = {f.name: f for f in functions}
        self.levels = tenancy.levels
        self.table_names = self.declared_table_names()
        tables = {t.name.name: t for t in (self.table(doc) for doc in self.table_docs)}
        migrations = self.migrations(tables)
        buckets = self.buckets()
        # Tables in the order their SQL runs: the listed migrations', then parents before children.
        ordered = [name for m in migrations for name in m.tables if name in tables]
        tables = {name: tables[name] for name in ordered + dependency_order(self.schema, tables, set(ordered))}
        if self.problems:
            raise TenantspecError(sorted(set(self.problems), key=lambda p: (p.location, p.message)))
        return model.Project(
            schema=self.schema,
            helper_schema=self.helper_schema,
            tenancy=tenancy,
            external_tables=external_tables,
            external_functions=functions,
            tables=tables,
            migrations=migrations,
            source=self.doc.path,
            enums=self.enums,
            domains=self.domains,
            buckets=buckets,
        )

    # -- table specs ----------------------------------------------------------------


    def table(self, doc: Document) -> model.Table:
        data = doc.data
        name = model.Name(self.schema, data["table"])
        columns = tuple(self.column(doc, column, spec) for column, spec in data["columns"].items())
        tenancy = self.table_tenancy(doc, {c.name: c for c in columns})
        columns = self.carried_column(doc, columns, tenancy)
        by_name = {c.name: c for c in columns}

        def known_columns(path: tuple, names) -> tuple[str, ...]:
            for i, column in enumerate(names):
                if column not in by_name:
                    self.problem(doc.locate(path + (i,)), f"unknown column '{column}' in table '{name.name}'")
            return tuple(names)

        if not any(c.primary_key for c in columns):
            self.problem(doc.locate(("columns",), key=True), "table has no primary key column")
        unique = tuple(known_columns(("unique", i), cols) for i, cols in enumerate(data.get("unique", [])))
        # A unique that repeats the primary key is one index in PostgreSQL too: accepted, kept once.
        primary = tuple(c.name for c in columns if c.primary_key)
        unique = tuple(cols for cols in unique if cols != primary)
        checks = []
        for i, check in enumerate(data.get("checks", [])):
            self.expression(doc, ("checks", i, "expression"), check["expression"])
            checks.append(model.Check(check["name"], check["expression"].strip()))
        indexes = []
        for i, spec in enumerate(data.get("indexes", [])):
            cols = known_columns(("indexes", i, "columns"), spec["columns"])
            where = spec.get("where")
            if where is not None:
                self.expression(doc, ("indexes", i, "where"), where)
            suffix = "key" if spec.get("unique") else "idx"
            indexes.append(model.Index(
                name=spec.get("name") or f"{name.name}_{'_'.join(cols)}_{suffix}",
                columns=cols, unique=bool(spec.get("unique")), where=where.strip() if where else None,
                location=doc.locate(("indexes", i))))
        indexes += self.derived_indexes(doc, name.name, tenancy, by_name, (primary, *unique), indexes)
        access, own_access = rules.access_rules(self, doc, tenancy, by_name)
        rules.ownership_problems(self, doc, tenancy, by_name)
        reads = {c for c in model.COMMANDS if access[c] != model.NOBODY or own_access[c] != model.NOBODY}
        policies = rules.hand_written_policies(self, doc, by_name, set(reads))
        reads |= {p.command for p in policies if p.permissive}
        for command in ("update", "delete"):
            if command in reads and not reads & {"select", "all"}:
                self.problem(doc.locate(("access", command)),
                             f"{command} needs select access too: PostgreSQL applies the SELECT policy "
                             "to the rows it reads")
        table = model.Table(
            name=name, source=doc.path, comment=data.get("comment"), columns=columns, unique=unique,
            checks=tuple(checks), indexes=tuple(indexes), tenancy=tenancy, access=access,
            own_access=own_access, policies=policies,
            service_role=tuple(c for c in model.COMMANDS if c in data.get("service_role", model.COMMANDS)),
            triggers=rules.triggers(self, doc, by_name), realtime=bool(data.get("realtime", False)),
            location=doc.locate(("table",)),
            key_locations={key: doc.locate((key,), key=True) for key in data},
        )
        self.rename_problems(doc, table)
        self.index_problems(doc, table)
        return table

    def column(self, doc: Document, name: str, spec: dict) -> model.Column:
        path = ("columns", name)
        type_text, enum = rules.column_type(self, str(spec["type"]))
        domain = rules.domain_of(self, type_text)
        if message := rules.unknown_type(self, type_text):
            self.problem(doc.locate(path + ("type",)), rules.enum_hint(self, type_text, message))
        default = spec.get("default")
        if isinstance(default, bool):
            default = "true" if default else "false"
        elif default is not None:
            default = str(default).strip()
            self.expression(doc, path + ("default",), default)
        if default is not None and (message := (rules.enum_default_error(enum, type_text, default) if enum
                                                else default_error(type_text if domain is None
                                                                   else self.domains[domain], default))):
            self.problem(doc.locate(path + ("default",)), message)
        if enum is not None and spec.get("one_of"):
            self.problem(doc.locate(path + ("one_of",), key=True),
                         f"{name} is of enum type {enum.name}, whose values are the allowed ones: drop one_of")
        references = None
        if ref := spec.get("references"):
            references = self.reference(doc, path + ("references",), ref)
        if default is not None and is_timestamptz(str(spec["type"])) and (zone := timezone_call(default)):
            self.problem(doc.locate(path + ("default",)), (
                f"timestamptz default {default} turns the instant into a local time without a zone ({zone}), "
                "which PostgreSQL reads back in the session's zone: "
                + ("right only while the session's TimeZone is UTC" if utc_timezone_call(default) else "hours off")
                + "; use now(), the same instant in every zone"))
        rules.column_shape_problems(self, doc, path, spec, type_text)
        return model.Column(
            name=name, type=type_text, not_null=bool(spec.get("not_null") or spec.get("primary_key")
                                                     or spec.get("identity") or is_serial(type_text)),
            identity=spec.get("identity"),
            generated=str(spec["generated"]).strip() if spec.get("generated") is not None else None,
            primary_key=bool(spec.get("primary_key")), default=default,
            one_of=tuple(str(v) for v in spec.get("one_of", ())), comment=spec.get("comment"),
            references=references, location=doc.locate(path, key=True),
            renamed_from=spec.get("renamed_from"),
            key_locations={key: doc.locate(path + (key,)) for key in spec},
        )

    def reference(self, doc: Document, path: tuple, spec: dict) -> model.Reference:
        target = self.name(spec["table"])
        column = spec.get("column", "id")
        if target.schema == self.schema and target.name in self.table_names:
            target_columns = set(self.docs_by_table[target.name].data["columns"])
        elif target in self.external:
            target_columns = set(self.external[target].columns)
        else:
            known = sorted({str(self.name(n)) for n in self.table_names} | {str(t) for t in self.external})
            close = difflib.get_close_matches(str(target), known, n=1)
            self.problem(doc.locate(path + ("table",)),
                         f"unknown table {target}" + (f" (did you mean {close[0]}?)" if close else "")
                         + ": specify it in schema/ or declare it under external.tables")
            target_columns = {column}
        if column not in target_columns:
            self.problem(doc.locate(path + ("column",) if "column" in spec else path),
                         f"unknown column '{column}' in table {target}")
        same_workspace = bool(spec.get("same_workspace"))
        if same_workspace and not self.has_workspace(target):
            self.problem(doc.locate(path + ("same_workspace",)),
                         f"{target} has no workspace: give it tenancy.column, or workspace_column under external.tables")
        return model.Reference(target, column, spec.get("on_delete"), same_workspace)

    def of_users(self, target: model.Name) -> bool:
        """Whether ``target`` is a spec'd per-user table (tenancy.user only)."""
        spec = self.docs_by_table[target.name].data["tenancy"] if target.name in self.docs_by_table else {}
        return "user" in spec and "column" not in spec and "parent" not in spec

    def has_workspace(self, target: model.Name) -> bool:
        """Whether rows of ``target`` hold their workspace in a column of their own."""
        if target.schema == self.schema and target.name in self.table_names:
            spec = self.docs_by_table[target.name].data["tenancy"]
            return "column" in spec or ("parent" in spec and spec.get("strategy", model.CARRIED) == model.CARRIED)
        return bool(self.external.get(target) and self.external[target].workspace_column)

    def reaches_workspace(self, target: model.Name, seen: frozenset = frozenset()) -> bool:
        """Whether rows of ``target`` belong to a workspace: by a column of their own, or through
        parents at any depth."""
        if self.has_workspace(target):
            return True
        if target.schema != self.schema or target.name not in self.table_names or target in seen:
            return False
        doc = self.docs_by_table[target.name]
        spec, columns = doc.data.get("tenancy") or {}, doc.data.get("columns") or {}
        reference = (columns.get(spec.get("parent")) or {}).get("references") or {}
        parent = str(reference.get("table", ""))
        return bool(parent) and self.reaches_workspace(self.name(parent), seen | {target})

    def rename_problems(self, doc: Document, table: model.Table) -> None:
        """``renamed_from`` names a column the spec no longer has, once."""
        seen: dict[str, str] = {}
        for column in table.columns:
            old = column.renamed_from
            if old is None:
                continue
            where = column.locate("renamed_from")
            if old == column.name:
                self.problem(where, f"column '{column.name}' is renamed from itself")
            elif table.column(old) is not None:
                self.problem(where, f"renamed_from '{old}': the table still has a column '{old}'")
            elif old in seen:
                self.problem(where, f"renamed_from '{old}': column '{seen[old]}' is renamed from it too")
            seen[old] = column.name

    def table_tenancy(self, doc: Document, columns: dict[str, model.Column]) -> model.Tenancy:
        spec = doc.data["tenancy"]
        user = spec.get("user")
        if "column" in spec and "parent" in spec:
            self.problem(doc.locate(("tenancy", "parent"), key=True),
                         "tenancy has a column or a parent, not both")
        if "column" not in spec and "parent" not in spec:
            for key in ("strategy", "movable"):
                if key in spec:
                    self.problem(doc.locate(("tenancy", key), key=True),
                                 f"{key} applies to rows of a workspace; a table of users has no workspace")
            return model.Tenancy(user=user)
        key = "column" if "column" in spec else "parent"
        column = columns.get(spec[key])
        where = doc.locate(("tenancy", key))
        if column is None:
            self.problem(where, f"unknown column '{spec[key]}' in table '{doc.data['table']}'")
        elif key == "column" and not (column.references and column.references.table == self.tenancy_workspaces()):
            self.problem(where, f"tenancy column '{column.name}' must reference {self.tenancy_workspaces()}")
        elif key == "parent":
            target = column.references.table if column.references else None
            if target is None or not (target.schema == self.schema and target.name in self.table_names):
                self.problem(where, f"parent column '{column.name}' must reference a table specified in schema/")
            elif self.of_users(target):
                # a row of a user's row (a document's sections): it is that user's
                for extra in ("strategy", "movable", "user"):
                    if extra in spec:
                        self.problem(doc.locate(("tenancy", extra), key=True),
                                     f"{extra} does not apply: the parent table '{target.name}' belongs to users, "
                                     "and a row of it is its parent's user's")
                if not column.not_null:
                    self.problem(where, f"tenancy column '{column.name}' must be not_null: a row of no parent "
                                        "is visible to nobody and writable by service_role only")
                return model.Tenancy(parent=spec[key], user_parent=True)
            elif spec.get("strategy") in (model.EXISTS, model.PARENT_IDS) and not self.reaches_workspace(target):
                self.problem(where, f"parent table '{target.name}' reaches no workspace: give it tenancy.column "
                                    "or tenancy.parent, or make it belong to users (tenancy.user only)")
            elif spec.get("strategy") not in (model.EXISTS, model.PARENT_IDS) and not self.has_workspace(target):
                self.problem(where, f"parent table '{target.name}' holds no workspace column of its own: give it "
                                    "tenancy.column, or the default carried strategy (a child of a carried "
                                    "child carries it too), say strategy: exists or parent_ids here (through "
                                    "each parent up to the workspace), or make it belong to users "
                                    "(tenancy.user only)")
        nullable = bool(spec.get("nullable", False))
        if nullable and key == "parent" and spec.get("strategy", model.CARRIED) == model.CARRIED:
            self.problem(doc.locate(("tenancy", "nullable"), key=True),
                         "a row of no parent has no workspace to carry: say strategy: exists or parent_ids")
        elif nullable and key not in ("column", "parent"):
            self.problem(doc.locate(("tenancy", "nullable"), key=True),
                         "nullable applies to tenancy.column and tenancy.parent only")
        elif nullable and column is not None and column.not_null:
            self.problem(doc.locate(("tenancy", "nullable"), key=True),
                         f"nullable says a row may have no workspace, but '{column.name}' is not_null")
        elif column is not None and not column.not_null and not nullable:
            self.problem(where, f"tenancy column '{column.name}' must be not_null: a row without a workspace "
                                "is visible to nobody and writable by service_role only (say nullable: true "
                                "where the table has such rows)")
        movable = bool(spec.get("movable", False))
        personal = tuple(c for c in model.COMMANDS if c in (spec.get("personal") or ()))
        if personal and not (key == "column" and nullable and user):
            self.problem(doc.locate(("tenancy", "personal"), key=True),
                         "personal rows are the rows of no workspace, each its user's: say them with column, "
                         "nullable: true and user")
        if key == "column":
            if "strategy" in spec:
                self.problem(doc.locate(("tenancy", "strategy")), "strategy applies to tenancy.parent only")
            return model.Tenancy(column=spec[key], movable=movable, user=user, nullable=nullable, personal=personal)
        strategy = spec.get("strategy", model.CARRIED)
        carried = None
        if strategy == model.CARRIED and column is not None and column.references is not None:
            found = self.workspace_column_of(column.references.table.name)
            carried = found[0] if found else None
            if self.workspace_nullable(column.references.table.name):
                self.problem(where, f"parent table '{column.references.table.name}' may have rows with no workspace "
                                    "(nullable), which a child cannot carry: say strategy: exists or parent_ids")
        return model.Tenancy(parent=spec[key], strategy=strategy, movable=movable, carried=carried, user=user,
                             nullable=nullable)

    def workspace_column_of(self, name: str, seen: frozenset = frozenset()) -> tuple[str, str] | None:
        """``(column, type)`` holding a spec'd table's workspace: its tenancy column, or the
        one it carries from its parent, at any depth (orders -> items -> events)."""
        doc = self.docs_by_table.get(name)
        if doc is None or name in seen:
            return None
        spec, columns = doc.data.get("tenancy") or {}, doc.data.get("columns") or {}
        if "column" in spec:  # (a column it lacks is reported at its spec: no type then)
            return spec["column"], str((columns.get(spec["column"]) or {}).get("type", ""))
        if "parent" in spec and spec.get("strategy", model.CARRIED) == model.CARRIED:
            reference = (columns.get(spec["parent"]) or {}).get("references") or {}
            target = str(reference.get("table", "")).split(".")[-1]
            return self.workspace_column_of(target, seen | {name}) if target else None
        return None

    def workspace_nullable(self, name: str, seen: frozenset = frozenset()) -> bool:
        """Whether a spec'd table's workspace may be null: its tenancy column says nullable, or
        the workspace it carries comes from such a table."""
        doc = self.docs_by_table.get(name)
        if doc is None or name in seen:
            return False
        spec, columns = doc.data.get("tenancy") or {}, doc.data.get("columns") or {}
        if "column" in spec or spec.get("nullable", False):
            return bool(spec.get("nullable", False))
        if "parent" in spec and spec.get("strategy", model.CARRIED) == model.CARRIED:
            reference = (columns.get(spec["parent"]) or {}).get("references") or {}
            target = str(reference.get("table", "")).split(".")[-1]
            return self.workspace_nullable(target, seen | {name}) if target else False
        return False

    def carried_column(self, doc: Document, columns: tuple[model.Column, ...],
                       tenancy: model.Tenancy) -> tuple[model.Column, ...]:
        """A carried child gets its parent's workspace column, right after the parent key."""
        if tenancy.carried is None:
            return columns
        where = doc.locate(("tenancy", "strategy") if "strategy" in doc.data["tenancy"] else ("tenancy",))
        if any(c.name == tenancy.carried for c in columns):
            self.problem(where, f"the carried strategy adds column '{tenancy.carried}', which the table already "
                                "has: remove it from columns (it is filled from the parent)")
            return columns
        parent = next(c for c in columns if c.name == tenancy.parent)
        found = self.workspace_column_of(parent.references.table.name)
        if found is None or not found[1]:
            return columns  # the parent's spec names a tenancy column it lacks: reported there
        carried = model.Column(
            name=tenancy.carried, type=found[1], not_null=True,
            primary_key=False, default=None, one_of=(),
            comment=f"The workspace of the {parent.references.table.name} row, kept equal to it by "
                    f"{doc.data['table']}_{tenancy.parent}_{tenancy.carried}_fkey and filled by a trigger.",
            references=None, location=where)
        at = columns.index(parent) + 1
        return columns[:at] + (carried,) + columns[at:]

    def tenancy_workspaces(self) -> model.Name:
        return self.name(self.doc.data["tenancy"]["workspaces"])

    def derived_indexes(self, doc: Document, table: str, tenancy: model.Tenancy, columns: dict,
                        keys: tuple, indexes: list[model.Index]) -> list[model.Index]:
        """The indexes the policies need, which the spec need not ask for: one leading with the
        column every policy filters on (the workspace, parent or user column); for a carried
        child also one covering the composite foreign key to its parent (Supabase's advisors
        flag a foreign key whose columns lead no index) and one leading with the carried column.
        Each only where no declared key or index already serves."""
        where = doc.locate(("tenancy",), key=True)
        keys = [*keys, *(i.columns for i in indexes if i.where is None)]  # the primary and unique keys first
        if tenancy.carried is None or tenancy.parent not in columns:
            key = tenancy.key
            if key not in columns or any(cols[:1] == (key,) for cols in keys):
                return []
            return [model.Index(f"{table}_{key}_idx", (key,), False, None, where,
                                derived=f"leads with {key}, which the policies filter on")]
        derived = []
        pair = {tenancy.parent, tenancy.carried}
        if not any(set(cols[:2]) == pair for cols in keys):
            cols = (tenancy.parent, tenancy.carried)
            derived.append(model.Index(f"{table}_{'_'.join(cols)}_idx", cols, False, None, where,
                                       derived=f"covers the foreign key {table}_{'_'.join(cols)}_fkey"))
            keys.append(cols)
        if not any(cols[:1] == (tenancy.carried,) for cols in keys):
            derived.append(model.Index(f"{table}_{tenancy.carried}_idx", (tenancy.carried,), False, None, where,
                                       derived=f"leads with {tenancy.carried}, which the policies filter on"))
        return derived

    def index_problems(self, doc: Document, table: model.Table) -> None:
        """Every foreign key and policy column leads an index; no index is a prefix of another."""
        indexes = [(table.primary_key, doc.locate(("columns",), key=True))]
        declared = [tuple(cols) for cols in doc.data.get("unique", [])]
        indexes += [(cols, doc.locate(("unique", declared.index(cols)))) for cols in table.unique]
        indexes += [(i.columns, i.location) for i in table.indexes if i.where is None]
        leading = {cols[0] for cols, _ in indexes if cols}  # (no primary key: reported already)
        needs = {c.name: f"foreign key '{c.name}'" for c in table.columns if c.references}
        needs[table.tenancy.key] = f"policy column '{table.tenancy.key}'"
        for column, what in needs.items():
            if column not in leading and table.column(column):
                self.problem(table.column(column).location,
                             f"{what} leads no index: add `indexes: [{{columns: [{column}]}}]` "
                             f"or put it first in an existing one")
        # A partial index serves only its own predicate, so it neither covers nor repeats a full one.
        derived = {i.columns: i.derived for i in table.indexes if i.derived}
        keys = 1 + len(table.unique)  # the primary key and unique keys hold uniqueness, not lookups
        for k, (cols, where) in enumerate(indexes):
            for other, _ in indexes:
                if len(other) > len(cols) and other[:len(cols)] == cols and k >= keys:
                    why = f" (which tenantspec adds: it {derived[other]})" if other in derived else ""
                    self.problem(where, f"index on ({', '.join(cols)}) repeats the leading columns of "
                                        f"({', '.join(other)}){why}; drop it")
            if cols in [earlier for earlier, _ in indexes[:k]]:
                self.problem(where, f"index on ({', '.join(cols)}) is declared twice")

    def expression(self, doc: Document, path: tuple, text: Any) -> None:
        if message := parse_expression(str(text)):
            self.problem(doc.locate(path), message)


def dependency_order(schema: str, tables: dict[str, model.Table], placed: set[str]) -> list[str]:
    """The tables not yet ``placed``, each after the spec'd tables it references, else by name."""
    ordered: list[str] = []
    done = set(placed)

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done or name in path:
            return
        for column in tables[name].columns:
            target = column.references.table if column.references else None
            if target and target.schema == schema and target.name in tables and target.name != name:
                visit(target.name, path + (name,))
        done.add(name)
        ordered.append(name)

    for name in sorted(tables):
        visit(name, ())
    return ordered
