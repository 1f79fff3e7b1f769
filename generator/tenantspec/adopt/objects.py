"""What adopted tables need besides themselves: the helpers their policies call, SECURITY
DEFINER functions to pin, and the tables, functions and enums ``project.yaml`` must declare."""

from __future__ import annotations

import json
import re

from pglast import ast

from tenantspec.adopt.writing import spec_type
from tenantspec.catalog.bodies import function_query
from tenantspec.catalog.builtins import (
    AUTH_USERS,
    BUILTIN_FUNCTIONS,
    SERVICE_SCHEMAS,
    platform_call,
)
from tenantspec.catalog.expression import lower_bounds, value_list
from tenantspec.catalog.json_schema import document, schema_checks
from tenantspec.catalog.nodes import function_name, walk
from tenantspec.catalog.sql_values import auth_call
from tenantspec.errors import Problem
from tenantspec.lint.tenancy import signed_up_tables, users_tables
from tenantspec.spec import model
from tenantspec.spec.expressions import type_node


class ProjectObjects:
    """The ``Adopter``'s reading of the objects around the adopted tables."""

    @property
    def enum_values(self) -> dict[str, list[str]]:
        """The migrations' enum types' values, by the name a column's base type gives."""
        return enum_values(self.state)

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
                        if platform_call(schema, function) or (schema or "public", function) in known:
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
        return [f"{members.schema}.{members.name}"] if members else []

    def undeclared(self) -> tuple[dict[str, dict], list[str]]:
        """Tables the adopted ones reference and functions their triggers call that are neither
        spec'd nor declared external: ``project.yaml`` must name them."""
        tables, functions = {}, []
        declared = {(f.name.schema, f.name.name) for f in self.project.external_functions}
        for name in self.names:
            table = self.state.tables[(self.project.schema, name)]
            for fk in table.foreign_keys:
                target = fk.target
                spec_name = self.written_name(target)
                if (target[0] == self.project.schema and (target[1] in self.project.tables or target[1] in self.names)) \
                        or model.Name(*target) in self.project.external_tables or spec_name in tables:
                    continue
                referenced = self.state.tables.get(target)
                if referenced is not None and referenced.columns:
                    tables[spec_name] = self.external_entry(target, referenced)
                else:  # made by no migration here: the columns the foreign key names
                    tables[spec_name] = {"columns": {column: "uuid" for column in fk.target_columns}}
                    if (workspace := self.reader.workspace_column(target)) is not None:
                        tables[spec_name]["workspace_column"] = workspace
            for policy in self.kept.get(name, ()):
                self.policy_objects(policy, tables, functions, declared)
            for trigger in table.triggers.values():
                if trigger.function not in declared:
                    schema, function = trigger.function
                    signature = f"{function}()" if schema == self.project.schema else f"{schema}.{function}()"
                    if signature not in functions:
                        functions.append(signature)
        self.external_references(tables)
        return tables, functions

    def external_references(self, tables: dict[str, dict]) -> None:
        """The foreign keys a row of a table newly declared external cannot be written without
        (a NOT NULL column with no default), as its ``references``: the proof creates the rows
        they reference first. A table so referenced and not yet declared is declared too, unless
        it is specified (a published copy keyed by its spec'd draft)."""
        pending = list(tables)
        while pending:
            shown = pending.pop()
            key = tuple(shown.split(".", 1)) if "." in shown else (self.project.schema, shown)
            table = self.state.tables.get(key)
            if table is None:
                continue
            references = {}
            for fk in table.foreign_keys:
                column = table.columns.get(fk.columns[0]) if len(fk.columns) == 1 else None
                if column is None or not column.not_null or column.default is not None \
                        or column.name not in tables[shown]["columns"] or fk.target == AUTH_USERS:
                    continue
                target = self.written_name(fk.target)
                referenced = self.state.tables.get(fk.target)
                specified = fk.target[0] == self.project.schema and (
                    fk.target[1] in self.project.tables or fk.target[1] in self.names)  # seeded before it
                if not specified and target not in tables and model.Name(*fk.target) not in self.project.external_tables:
                    if referenced is None or not referenced.columns:
                        continue  # made by no migration
                    tables[target] = self.external_entry(fk.target, referenced)
                    pending.append(target)
                entry = {"table": target, "column": fk.target_columns[0]}
                if fk.on_delete != "no action":
                    entry["on_delete"] = fk.on_delete
                references[column.name] = entry
            if references:
                tables[shown]["references"] = references

    def external_entry(self, key: tuple[str, str], table) -> dict:
        """How ``project.yaml`` declares ``table`` external: its columns, its workspace column
        and the values the proof fills its required columns with."""
        entry: dict = {"columns": sayable_columns(table)}
        if (workspace := self.reader.workspace_column(key)) is not None:
            entry["workspace_column"] = workspace
        users = users_tables(self.state, frozenset({AUTH_USERS}) | signed_up_tables(self.state))
        if seed := derived_seed(table, workspace, self.enum_values, users):
            entry["seed"] = seed
        return entry

    def undeclared_enums(self, tables: dict[str, dict], domains: dict[str, str] | None = None) -> dict[str, list[str]]:
        """Enum types the migrations create that a column of an adopted table, or of a table
        declared external beside them, or a domain declared with them, is of, and
        ``project.yaml`` does not declare."""
        declared = {(e.name.schema, e.name.name) for e in self.project.enums.values()}
        found: dict[str, list[str]] = {}
        for key in self.column_type_keys(tables, extra=(domains or {}).values()):
            enum = self.state.enums.get(key)
            if enum is not None and key not in declared:
                found[self.written_name(key)] = list(enum.values)
        return found

    def undeclared_domains(self, tables: dict[str, dict]) -> dict[str, str]:
        """Domains the migrations create that a column of an adopted table, or of a table
        declared external beside them, is of, and ``project.yaml`` does not declare: each with
        its base type."""
        found: dict[str, str] = {}
        for key in self.column_type_keys(tables):
            while (base := self.state.domains.get(key)) is not None:  # a domain over a domain: both
                if model.Name(*key) in self.project.domains or self.written_name(key) in found:
                    break
                found[self.written_name(key)] = base
                if (inner := type_node(base)) is None:
                    break
                key = self.type_key(inner)
        return found

    def column_type_keys(self, tables: dict[str, dict], extra=()) -> list[tuple[str, str]]:
        """``(schema, name)`` of the types of the adopted tables' columns, of the columns of the
        tables declared external beside them, and of the types written in ``extra``."""
        nodes = [c.type for name in self.names for c in self.state.tables[(self.project.schema, name)].columns.values()]
        nodes += [type_node(t) for entry in tables.values() for t in entry["columns"].values()]
        nodes += [type_node(t) for t in extra]
        return [self.type_key(node) for node in nodes if node is not None]

    def type_key(self, node) -> tuple[str, str]:
        names = [n.sval for n in node.names]
        return (names[-2] if len(names) > 1 else self.project.schema, names[-1])

    def written_name(self, key: tuple[str, str]) -> str:
        """A table's, type's or function's name as project.yaml writes it: bare in the project's
        schema, else qualified."""
        return key[1] if key[0] == self.project.schema else ".".join(key)

    def policy_objects(self, policy, tables: dict[str, dict], functions: list[str], declared: set) -> None:
        """The tables a kept policy reads and the functions it calls, for ``external``."""
        for expression in (policy.using, policy.check):
            for node, _ in walk(expression) if expression is not None else ():
                if isinstance(node, ast.RangeVar):
                    target = (node.schemaname or self.project.schema, node.relname)
                    shown = self.written_name(target)
                    known = (target[0] == self.project.schema and (target[1] in self.project.tables
                                                                   or target[1] in self.names))
                    referenced = self.state.tables.get(target)
                    if known or model.Name(*target) in self.project.external_tables or shown in tables \
                            or referenced is None or not referenced.columns:
                        continue
                    tables[shown] = self.external_entry(target, referenced)
                elif isinstance(node, ast.FuncCall):
                    schema, function = function_name(node)
                    if schema is None and function in BUILTIN_FUNCTIONS:
                        continue
                    # the platform's own (auth.uid()) are made by no migration; an app's function in
                    # auth (auth.current_uid()) is, and is declared like any other
                    found = [f for f in self.state.functions.values()
                             if f.name == function and (schema is None or f.schema == schema)]
                    if not found or (found[0].schema, found[0].name) in declared:
                        continue
                    f = found[0]
                    args = ", ".join(f.arg_types)
                    signature = f"{f.name}({args})" if f.schema == self.project.schema else f"{f.schema}.{f.name}({args})"
                    if signature not in functions:
                        functions.append(signature)


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")  # as the specs name columns: quoted names keep their case


def enum_values(state) -> dict[str, list[str]]:
    """The enum types' values, by the name a column's base type gives (``org_role``)."""
    return {name: list(enum.values) for (_, name), enum in state.enums.items()}


TEXT_TYPES = frozenset({"text", "varchar", "bpchar", "citext"})
FIXED_UUID = "00000000-0000-4000-8000-000000000001"
NUMBERS = ("int2", "int4", "int8", "numeric", "float4", "float8")
PLAIN_SEEDS = {"bool": "false", "int2": "0", "int4": "0", "int8": "0", "numeric": "0", "float4": "0",
               "float8": "0", "date": "2026-01-01", "timestamp": "2026-01-01 00:00:00",
               "timestamptz": "2026-01-01 00:00:00+00", "json": "{}", "jsonb": "{}"}


def derived_seed(table, workspace_column: str | None, enums: dict,
                 users_keys: set | frozenset = frozenset({AUTH_USERS})) -> dict[str, str]:
    """Values the proof can write into an external table's required columns (NOT NULL, no
    default, not filled by the database), derived so that nobody is asked for them: a user
    reference is a user (``{user}``, also into a table keyed by the user's id, ``users_keys``;
    a table with no workspace then gets a row per user), an enum its first
    value, a text a label unique to the row, other plain types a constant (an array an empty
    one), a column a CHECK lists the values of its first one. A column none fits is left to
    the project file."""
    users = {fk.columns[0] for fk in table.foreign_keys if fk.target in users_keys and len(fk.columns) == 1}
    referencing = {column for fk in table.foreign_keys for column in fk.columns}
    key = set(table.primary_key)
    # a CHECK listing the column's values (status in ('open', 'closed')): the first is one it takes
    listed = {found[0]: found[1] for check in table.checks
              if (found := value_list(check.expression)) is not None and found[1]}
    # a CHECK holding a JSON column to a JSON Schema (pg_jsonschema): a small document it accepts
    documents = {column: schema for check in table.checks for column, schema in schema_checks(check.expression).items()}
    # a CHECK bounding a number column from below (total > 0): its least value
    least = {column: bound for check in table.checks for column, bound in lower_bounds(check.expression).items()}
    values = {}
    for column in table.columns.values():
        # a default of auth.uid() is null where the proof writes rows (as no user): a value is needed
        defaulted = column.default is not None and auth_call(column.default) != "uid"
        if not column.not_null or defaulted or column.identity or column.generated is not None \
                or column.name == workspace_column or not IDENTIFIER.match(column.name):
            continue
        if column.name in users:  # (with no workspace column: a row per user)
            values[column.name] = "{user}"
        elif column.name in key:
            continue  # the proof draws keys itself
        elif (enum := enums.get(column.type_name)) is not None and enum:
            values[column.name] = enum[0]
        elif column.name in listed:
            values[column.name] = listed[column.name][0]
        elif column.name in documents:
            values[column.name] = json.dumps(document(documents[column.name]))
        elif column.type_name in TEXT_TYPES:
            values[column.name] = f"{table.name} {column.name} {{label}}"
        elif column.name in least and column.type_name in NUMBERS:
            values[column.name] = str(max(least[column.name], 0))
        elif column.type_name == "uuid" and column.name not in referencing \
                and not any(ix.unique and ix.columns == (column.name,) for ix in table.indexes):
            values[column.name] = FIXED_UUID  # an id of something no migration ties it to
        elif column.type_name in PLAIN_SEEDS:
            values[column.name] = PLAIN_SEEDS[column.type_name]
        elif column.type_name.endswith("[]"):
            values[column.name] = "{}"  # an empty array
    return values


def sayable_columns(table) -> dict[str, str]:
    """An external table's columns as project.yaml declares them: those named by plain
    identifiers (a quoted ``"unitId"`` as its name, ``unitId``)."""
    return {c.name: spec_type(c.type) for c in table.columns.values() if IDENTIFIER.match(c.name)}
