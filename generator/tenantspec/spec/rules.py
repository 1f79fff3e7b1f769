"""The parts of a table spec that say who may do what and what runs on a write: access rules
(levels, rows a user owns), hand-written policies and triggers.

Each reader takes the document and the project builder (for names, levels, declared
functions and the one list of problems) and returns model values; a problem is recorded
with its location and never stops the others from being found.
"""

from __future__ import annotations

import difflib
from typing import Protocol

from pglast import ast

from tenantspec.catalog.nodes import walk
from tenantspec.errors import Location
from tenantspec.spec import model
from tenantspec.spec.documents import Document
from tenantspec.spec.expressions import (
    IDENTITY_TYPES,
    SERIAL_TYPES,
    base_type,
    expression_node,
    parse_expression,
    type_error,
)

POLICY_COMMANDS = (*model.COMMANDS, "all")


class ProjectBuilder(Protocol):
    """What the readers use of the loader's project builder (``tenantspec.spec.load``)."""

    doc: Document
    schema: str
    enums: dict
    domains: dict
    functions: dict
    levels: dict

    def problem(self, location: Location, message: str) -> None: ...

    def name(self, text: str) -> model.Name: ...


def _hint(word: str, known: list[str], what: str = "known") -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else f" ({what}: {', '.join(known)})"


def access_rules(builder: ProjectBuilder, doc: Document, tenancy: model.Tenancy,
                 columns: dict[str, model.Column]) -> tuple[dict[str, str], dict[str, str]]:
    """``(access, own_access)``: per command, the level that may act on every row of its
    workspace, and the level whose members may act on the rows naming them."""
    access: dict[str, str] = {}
    own: dict[str, str] = {}
    levels = sorted(builder.levels)
    for command in model.COMMANDS:
        value = doc.data["access"][command]
        where = doc.locate(("access", command))
        if isinstance(value, dict):
            every, mine = str(value.get("any", model.NOBODY)), str(value.get("own", model.NOBODY))
        elif str(value) == model.OWN:
            every, mine = model.NOBODY, model.OWN
        else:
            every, mine = str(value), model.NOBODY
        if tenancy.per_user:
            if every in model.OPEN_LEVELS and mine == model.NOBODY:
                access[command], own[command] = every, mine  # every user's row, to everyone signed in
                continue
            if every != model.NOBODY or mine not in (model.OWN, model.NOBODY):
                builder.problem(where, f"{doc.data['table']} belongs to users, not workspaces "
                                       f"(tenancy.user only): {command} is `own`, `nobody`, "
                                       f"`{model.SIGNED_IN}` or `{model.ANYONE}`")
            access[command], own[command] = model.NOBODY, mine
            continue
        for key, level in (("any", every), ("own", mine)):
            at = doc.locate(("access", command, key)) if isinstance(value, dict) else where
            if level == model.OWN:
                builder.problem(where, f"`own` alone is for tables of users (tenancy.user only); here say "
                                       f"which members may act on their own rows: {{own: {levels[0]}}}")
            elif level in model.OPEN_LEVELS and key == "own":
                builder.problem(at, f"`{level}` reaches every row, not only the user's own: say "
                                    f"{command}: {level}")
            elif level in model.OPEN_LEVELS and mine != model.NOBODY:
                builder.problem(at, f"`{level}` reaches every row already: an own level beside it says nothing")
            elif level not in model.BUILT_IN_LEVELS and level not in builder.levels:
                builder.problem(at, f"unknown access level '{level}'"
                                + _hint(level, levels + list(model.BUILT_IN_LEVELS), "levels"))
        if mine != model.NOBODY and tenancy.user is None:
            builder.problem(where, f"access.{command}.own needs tenancy.user: the column naming the user "
                                   "a row belongs to")
        access[command], own[command] = every, mine
    return access, own


def ownership_problems(builder: ProjectBuilder, doc: Document, tenancy: model.Tenancy,
                       columns: dict[str, model.Column]) -> None:
    """tenancy.user names a uuid column (nullable: a row of no user is service_role's alone);
    on a per-user table no reference can be tied to a workspace the row does not have."""
    if tenancy.per_user:
        for column in columns.values():
            if column.references is not None and column.references.same_workspace:
                builder.problem(column.locate("references"),
                                f"{doc.data['table']} belongs to users, not workspaces (tenancy.user only): "
                                f"same_workspace on {column.name} has no workspace to keep it in")
    if tenancy.user is None:
        return
    where = doc.locate(("tenancy", "user"))
    column = columns.get(tenancy.user)
    if column is None:
        builder.problem(where, f"unknown column '{tenancy.user}' in table '{doc.data['table']}'"
                               + _hint(tenancy.user, sorted(columns)))
        return
    if column.type != "uuid":
        builder.problem(where, f"tenancy.user column '{tenancy.user}' is {column.type}; it holds a user id "
                               "(auth.uid()), so it must be uuid")


def hand_written_policies(builder: ProjectBuilder, doc: Document, columns: dict[str, model.Column],
                          commands: set[str]) -> tuple[model.Policy, ...]:
    """``commands``: those the access rules generate a policy for (``<table>_<command>``)."""
    table = doc.data["table"]
    generated = {f"{table}_{command}" for command in commands}
    seen: set[str] = set()
    policies = []
    for i, spec in enumerate(doc.data.get("policies", [])):
        path = ("policies", i)
        name, command = spec["name"], spec["command"]
        if name in generated:
            builder.problem(doc.locate(path + ("name",)),
                            f"policy name '{name}' is the generated policy's for {name[len(table) + 1:]}: "
                            "name a hand-written policy after what it allows")
        if name in seen:
            builder.problem(doc.locate(path + ("name",)), f"policy '{name}' is declared twice")
        seen.add(name)
        using, check = spec.get("using"), spec.get("check")
        if command == "insert" and using is not None:
            builder.problem(doc.locate(path + ("using",), key=True),
                            "an insert policy has no using: the new row meets `check` only")
        if command in ("select", "delete") and check is not None:
            builder.problem(doc.locate(path + ("check",), key=True),
                            f"a {command} policy has no check: it filters the rows it reads with `using`")
        if using is None and check is None or (command == "insert" and check is None):
            builder.problem(doc.locate(path), f"policy '{name}' needs "
                            + ("check" if command == "insert" else "using") + ": the expression rows must pass")
        for key, text in (("using", using), ("check", check)):
            if text is not None:
                expression_problems(builder, doc, path + (key,), str(text), columns)
        policies.append(model.Policy(
            name=name, command=command,
            using=str(using).strip() if using is not None else None,
            check=str(check).strip() if check is not None else None,
            permissive=not spec.get("restrictive", False), location=doc.locate(path)))
    return tuple(policies)


def expression_problems(builder: ProjectBuilder, doc: Document, path: tuple, text: str,
                        columns: dict[str, model.Column]) -> None:
    """One SQL expression whose unqualified columns outside subqueries are the table's."""
    if message := parse_expression(text):
        builder.problem(doc.locate(path), message)
        return
    for name in row_columns(text):
        if name not in columns and name not in ("old", "new"):
            builder.problem(doc.locate(path), f"unknown column '{name}' in table '{doc.data['table']}'"
                                              + _hint(name, sorted(columns)))


def row_columns(text: str) -> list[str]:
    """The unqualified column names an expression reads from its own row (not in subqueries)."""
    target = expression_node(text)
    found = []
    for node, ancestors in walk(target):
        if isinstance(node, ast.ColumnRef) and not any(isinstance(a, ast.SelectStmt) for a in ancestors):
            fields = [f.sval for f in node.fields if isinstance(f, ast.String)]
            if len(fields) == 1 and fields[0] not in found:
                found.append(fields[0])
    return found


def triggers(builder: ProjectBuilder, doc: Document, columns: dict[str, model.Column]) -> tuple[model.Trigger, ...]:
    table = doc.data["table"]
    found = []
    for i, spec in enumerate(doc.data.get("triggers", [])):
        path = ("triggers", i)
        function = builder.name(spec["function"])
        declared = [f for f in builder.functions.values() if not f.arg_types]
        if function not in {f.name for f in declared}:
            known = sorted(str(f.name) for f in declared)
            builder.problem(doc.locate(path + ("function",)),
                            f"trigger function {function}() is not declared under external.functions"
                            + (_hint(str(function), known).replace("'", "") if known else ""))
        for_each = spec.get("for_each", "row")
        events = tuple(spec["events"])
        update_of = tuple(spec.get("columns", ()))
        for j, column in enumerate(update_of):
            if column not in columns:
                builder.problem(doc.locate(path + ("columns", j)),
                                f"unknown column '{column}' in table '{table}'" + _hint(column, sorted(columns)))
        if update_of and "update" not in events:
            builder.problem(doc.locate(path + ("columns",), key=True), "columns apply to an update trigger: "
                                                                      "add update to events")
        if "truncate" in events and for_each == "row":
            builder.problem(doc.locate(path + ("events",)), "truncate triggers run for each statement: "
                                                            "add `for_each: statement`")
        when = spec.get("when")
        if when is not None:
            when = str(when).strip()
            _trigger_condition(builder, doc.locate(path + ("when",)), when, for_each, events)
        found.append(model.Trigger(f"{table}_{spec['name']}", spec["timing"], events, function,
                                   when=when, arguments=tuple(str(a) for a in spec.get("arguments", ())),
                                   columns=update_of, for_each=for_each))
    return tuple(found)


def _trigger_condition(builder: ProjectBuilder, where: Location, when: str, for_each: str,
                       events: tuple[str, ...]) -> None:
    if message := parse_expression(when):
        builder.problem(where, message)
        return
    target = expression_node(when)
    rows = {f.sval for node, _ in walk(target) if isinstance(node, ast.ColumnRef)
            for f in node.fields[:1] if isinstance(f, ast.String) and len(node.fields) > 1} & {"old", "new"}
    if for_each == "statement" and rows:
        builder.problem(where, "a statement trigger's when cannot read old or new rows")
    if "old" in rows and "insert" in events:
        builder.problem(where, "an insert has no old row: the condition cannot read old")
    if "new" in rows and "delete" in events:
        builder.problem(where, "a delete has no new row: the condition cannot read new")


def domains(builder: ProjectBuilder) -> dict[model.Name, str]:
    """The app's domains (``external.domains``): each name with the base type it stands for,
    which must be a type tenantspec knows."""
    declared = builder.doc.data.get("external", {}).get("domains", {})
    found: dict[model.Name, str] = {builder.name(key): str(base) for key, base in declared.items()}
    builder.domains = found  # a domain may stand for another, or for an enum
    for key, base in declared.items():
        if message := unknown_type(builder, str(base)):
            builder.problem(builder.doc.locate(("external", "domains", key)), f"domain {key}: {message}")
    return found


def unknown_type(builder: ProjectBuilder, text: str) -> str | None:
    """Why ``text`` names no type a column may have (a known type, a declared enum or domain,
    or an array of one); None when it does."""
    if column_type(builder, text)[1] is not None or domain_of(builder, text) is not None:
        return None
    return type_error(text)


def domain_of(builder: ProjectBuilder, text: str) -> model.Name | None:
    """The declared domain a column type names (or an array of), if any."""
    return model.domain_named(builder.domains, builder.schema, text)[0]


def enums(builder: ProjectBuilder) -> dict[model.Name, model.Enum]:
    """The project's enum types (``enums``) and the app's (``external.enums``)."""
    doc = builder.doc
    found: dict[model.Name, model.Enum] = {}
    declared = [(key, values, False) for key, values in doc.data.get("enums", {}).items()]
    declared += [(key, values, True) for key, values in doc.data.get("external", {}).get("enums", {}).items()]
    for key, values, external in declared:
        name = builder.name(key)
        path = ("external", "enums", key) if external else ("enums", key)
        if name in found:
            builder.problem(doc.locate(path, key=True), f"enum {name} is declared twice")
        labels, renamed = [], []
        for i, value in enumerate(values):
            label = str(value["value"]) if isinstance(value, dict) else str(value)
            if label in labels:
                builder.problem(doc.locate(path + (i,)), f"value '{label}' of enum {name} is listed twice")
            if len(label.encode()) > 63:
                builder.problem(doc.locate(path + (i,)), f"value '{label}' is longer than PostgreSQL's 63 bytes")
            labels.append(label)
            if isinstance(value, dict):
                renamed.append((label, str(value["renamed_from"])))
        for new, old in renamed:
            if old in labels:
                builder.problem(doc.locate(path, key=True),
                                f"enum {name}: '{new}' is renamed from '{old}', which is still listed")
        found[name] = model.Enum(name, tuple(labels), external, tuple(renamed), doc.locate(path, key=True))
    return found


def column_type(builder: ProjectBuilder, text: str) -> tuple[str, model.Enum | None]:
    """A column's type as the migrations write it: a declared enum qualified (``public.status``,
    ``public.status[]``), any other type as written."""
    schema, name, dims = model.type_parts(text)
    enum = builder.enums.get(model.Name(schema or builder.schema, name))
    if enum is None and not schema:
        enum = next((e for e in builder.enums.values() if e.name.name == name and e.external), None)
    if enum is None:
        domain = domain_of(builder, text)
        return (text if domain is None else domain.sql + "[]" * dims), None
    return enum.name.sql + "[]" * dims, enum


def enum_default_error(enum: model.Enum, type_text: str, default: str) -> str | None:
    """An enum column's default is one of its values, quoted (``'pending'``)."""
    if type_text.endswith("[]"):
        return None if default.startswith(("'{", "array[", "ARRAY[")) else \
            f"default {default} is not an array of {enum.name}"
    value = default.split("::")[0].strip()
    if not (value.startswith("'") and value.endswith("'")):
        return None  # an expression: PostgreSQL checks it when the migration runs
    label = value[1:-1].replace("''", "'")
    if label not in enum.values:
        return f"default {default} is not a value of {enum.name}" + _hint(label, list(enum.values), "values")
    return None


def enum_hint(builder: ProjectBuilder, text: str, message: str) -> str:
    """An unknown type's message, with the declared enum it is closest to."""
    if "did you mean" in message or not builder.enums:
        return message
    base = text.strip().removesuffix("[]").strip().rpartition(".")[2]
    names = {enum.name.name: str(enum.name) for enum in builder.enums.values()}
    close = difflib.get_close_matches(base, list(names), n=1)
    return message + (f" (did you mean the enum {names[close[0]]}?)" if close else "")


def column_shape_problems(builder: ProjectBuilder, doc: Document, path: tuple, spec: dict, type_text: str) -> None:
    """serial, identity and generated columns take their values from the database."""
    base = base_type(type_text)
    made = [key for key in ("identity", "generated") if spec.get(key) is not None]
    if base in SERIAL_TYPES:
        made.insert(0, f"type {type_text}")
    if len(made) > 1:
        builder.problem(doc.locate(path + ("type" if base in SERIAL_TYPES else made[-1],)),
                        f"{path[-1]}: {' and '.join(made)} each give the column its values: choose one")
    if made and spec.get("default") is not None:
        builder.problem(doc.locate(path + ("default",)), f"{path[-1]}: {made[0]} gives the column its values; "
                                                         "drop the default")
    if spec.get("identity") is not None and base not in IDENTITY_TYPES:
        builder.problem(doc.locate(path + ("identity",)), f"{path[-1]}: an identity column is smallint, integer or "
                                                          f"bigint, not {type_text}")
    if spec.get("generated") is not None:
        where = doc.locate(path + ("generated",))
        if spec.get("primary_key"):
            builder.problem(where, f"{path[-1]}: a generated column cannot be the primary key")
        elif message := parse_expression(str(spec["generated"])):
            builder.problem(where, message)
        else:
            columns = set(doc.data["columns"])
            for name in row_columns(str(spec["generated"])):
                if name not in columns:
                    builder.problem(where, f"unknown column '{name}' in table '{doc.data['table']}'"
                                           + _hint(name, sorted(columns)))
