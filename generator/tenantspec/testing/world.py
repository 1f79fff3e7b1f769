"""The rows the policy tests act on, derived from the project model.

Users for the personas, workspaces A and B, the memberships, rows of every external table a
spec references (per workspace when it has a workspace column; the last one of each
workspace is referenced by no seeded row) and ``ROWS_PER_WORKSPACE`` rows of every spec'd
table in each workspace: values valid for the column's type and ``one_of``, every required
and unique column filled, parents and references in the row's own workspace.
`testing.seeding.seed_world` writes them as the migrating role before the template database is
cloned for each test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial

from tenantspec.render.matrix import member_roles
from tenantspec.spec import model
from tenantspec.spec.expressions import condition_values
from tenantspec.testing.personas import (
    WORKSPACES,
    Persona,
    build_personas,
    most_privileged,
)
from tenantspec.testing.tables import USERS, Reference, TableFacts, facts_of
from tenantspec.testing.values import checked_text, family, sample

ROWS_PER_WORKSPACE = 2
EXTERNAL_ROWS_PER_WORKSPACE = ROWS_PER_WORKSPACE + 1
SPARE_USERS = 3
SEED_PLACEHOLDERS = ("workspace", "user", "label")


class WorldError(ValueError):
    """The model does not say enough to create a row the tests need."""


@dataclass(frozen=True)
class Row:
    """One row the tests know: the values they wrote (absent columns took their defaults)."""

    table: model.Name
    values: Mapping[str, str | None] = field(hash=False)
    workspace: str | None = None
    tag: str = ""  # parameter name of the row in case files, e.g. robot_jobs_A_1

    def key(self, facts: TableFacts) -> tuple[str | None, ...]:
        return tuple(self.values.get(c) for c in facts.key)


@dataclass(frozen=True)
class World:
    """Everything seeded: personas by name, workspace ids, and rows by table."""

    project: model.Project
    facts: dict[model.Name, TableFacts] = field(hash=False)
    workspace_ids: dict[str, str] = field(hash=False)
    personas: dict[str, Persona] = field(hash=False)
    rows: dict[model.Name, tuple[Row, ...]] = field(hash=False)

    def persona(self, name: str) -> Persona:
        try:
            return self.personas[name]
        except KeyError:
            raise KeyError(f"No persona {name!r}; known: {', '.join(sorted(self.personas))}") from None

    def members(self, workspace: str) -> list[Persona]:
        """Personas holding a role in ``workspace``."""
        return [p for p in self.personas.values() if p.role_in(workspace) and not p.claimed_role]

    def rows_in(self, table: model.Name | str, workspace: str | None) -> tuple[Row, ...]:
        """The rows of ``table`` (a Name, or a table name in the project's schema) seeded in
        ``workspace`` (None: rows of no workspace)."""
        if isinstance(table, str):
            table = model.Name(self.project.schema, table) if "." not in table else model.Name(*table.split(".", 1))
        return tuple(r for r in self.rows.get(table, ()) if r.workspace == workspace)

    @cached_property
    def spec_tables(self) -> tuple[TableFacts, ...]:
        return tuple(f for f in self.facts.values() if f.spec is not None)

    @cached_property
    def spec_table_named(self) -> dict[str, TableFacts]:
        """The spec'd tables by their qualified name (``schema.table``) as the snapshots name them."""
        return {str(f.name): f for f in self.spec_tables}

    def workspace_label(self, workspace_id: str | None) -> str | None:
        return next((ws for ws, wid in self.workspace_ids.items() if wid == workspace_id), None)

    def fresh_row(self, name: model.Name, workspace: str | None, n: int) -> dict[str, str | None]:
        """A new row of an external table or of ``auth.users`` (its key, its workspace and
        the project file's seed values), referenced by nothing yet."""
        facts = self.facts[name]
        tag = f"f{n}"
        if name == USERS:
            return {"id": sample("uuid", n, tag, "fresh-user"), "email": f"fresh{n}@example.test"}
        values = {}
        if facts.workspace_column:
            values[facts.workspace_column] = self.workspace_ids[workspace]
        for column in facts.key:
            if column not in values or name == self.project.tenancy.workspaces:
                values[column] = sample(facts.columns[column], 10_000 + n, tag, f"fresh:{name}.{column}")
        if name == self.project.tenancy.workspaces and facts.workspace_column:
            values[facts.workspace_column] = values[facts.key[0]]
        user = self.members(workspace)[0] if workspace else None
        return values | seed_values(self.project, self.workspace_ids, facts, workspace, tag, user)

    def parameters(self) -> dict[str, str]:
        """Named values for case files: ``workspace_A``, ``user_<persona>``, and each row's tag
        (``<table>_<workspace>_<n>``) naming the value of its key."""
        params = {f"workspace_{ws}": wid for ws, wid in self.workspace_ids.items()}
        params |= {f"user_{p.name}": str(p.user_id) for p in self.personas.values() if p.user_id}
        for name, rows in self.rows.items():
            facts = self.facts[name]
            if len(facts.key) == 1:
                params |= {row.tag: row.values.get(facts.key[0]) for row in rows if row.tag}
        return params


def build_world(project: model.Project) -> World:
    """Personas and rows for ``project``; raises WorldError when a row cannot be made."""
    return _WorldBuilder(project).build()


class _WorldBuilder:
    def __init__(self, project: model.Project):
        self.project = project
        self.facts = facts_of(project)
        self.roles = member_roles(project)
        self.rows: dict[model.Name, list[Row]] = {}
        workspaces = self.facts[project.tenancy.workspaces]
        key_type = workspaces.columns[workspaces.key[0]]
        self.workspace_ids = {ws: sample(key_type, i, ws, "workspace") for i, ws in enumerate(WORKSPACES, 1)}
        members = project.tenancy.members
        self.personas = build_personas(self.roles, project.tenancy.levels, members.one_per_user,
                                       self.token_claims if members.in_token else None,
                                       sole={project.tenancy.owner_role, members.sole_role} - {None})
        principal = most_privileged(self.roles, project.tenancy.levels)
        self.principals = {ws: self.personas[f"{principal}_{ws}"] for ws in WORKSPACES}

    def token_claims(self, memberships: tuple[tuple[str, str], ...]) -> tuple[tuple[str, object], ...]:
        """What an access token hook writes for a member of one workspace: its id, and its role."""
        (workspace, role), = memberships
        members = self.project.tenancy.members
        claims: tuple[tuple[str, object], ...] = ((members.claim_workspace, str(self.workspace_ids[workspace])),)
        return claims + (((members.claim_role, role),) if members.claim_role else ())

    def build(self) -> World:
        project = self.project
        self.rows[USERS] = [self.user_row(f"user_{p.name}", str(p.user_id), p.email, p.name.lower(), p)
                            for p in self.users]
        if any(t.tenancy.per_user for t in project.tables.values()):
            # users no persona signs in as: a new row of a per-user table keyed by its user
            # (profiles.id) names one of them
            self.rows[USERS] += [self.user_row(f"user_spare_{n}", sample("uuid", n, f"spare{n}", "spare-user"),
                                               f"spare{n}@example.test", f"spare{n}", None)
                                 for n in range(1, SPARE_USERS + 1)]
        workspaces = self.facts[project.tenancy.workspaces]
        for ws in WORKSPACES:
            values = {workspaces.key[0]: self.workspace_ids[ws]}
            if workspaces.workspace_column:
                values[workspaces.workspace_column] = self.workspace_ids[ws]
            owner = {}
            if project.tenancy.owner_column:  # its owner holds the owner's role there, whatever the seed says
                owner = {project.tenancy.owner_column: str(self.personas[f"{project.tenancy.owner_role}_{ws}"].user_id)}
            self.add(workspaces, ws, 1, values, user=self.principals[ws], fixed=owner)
        self.add_user_through_rows()
        self.add_memberships()
        for name in self.seeding_order():
            if self.facts[name].spec is None:
                self.add_external_rows(self.facts[name])
            else:
                self.add_table_rows(self.facts[name])
        return World(project=project, facts=self.facts, workspace_ids=self.workspace_ids,
                     personas=self.personas, rows={k: tuple(v) for k, v in self.rows.items()})

    def seeding_order(self) -> list[model.Name]:
        """The external tables spec'd tables reference (`referenced_externals`) and the spec'd
        tables, each after the tables it references (an external table may reference a spec'd
        one: a published copy keyed by its draft); otherwise externals first, specs in order."""
        listed = self.referenced_externals() + [table.name for table in self.project.tables.values()]
        wanted = set(listed)
        found: list[model.Name] = []

        def visit(name: model.Name, path: tuple) -> None:
            if name in found or name in path:  # a cycle: its order is the path's
                return
            for ref in self.facts[name].references:
                if ref.target in wanted and ref.target != name:
                    visit(ref.target, path + (name,))
            found.append(name)

        for name in listed:
            visit(name, ())
        return found

    def add_external_rows(self, facts: TableFacts) -> None:
        """Rows of an external table: for each workspace (or with none), its key drawn or taken
        from the row it references, the rows it references seeded before it."""
        name = facts.name
        if not facts.workspace_column and any("{user}" in str(v) for v in facts.seed.values()):
            self.add_rows_per_user(facts)  # profiles: a row per user, `seed: {id: '{user}'}`
            return
        for ws in (WORKSPACES if facts.workspace_column else (None,)):
            keys = set()
            for n in range(1, EXTERNAL_ROWS_PER_WORKSPACE + 1):
                values = {}
                if facts.workspace_column:
                    values[facts.workspace_column] = self.workspace_ids[ws]
                for ref in facts.references:  # the rows it references: seeded before it
                    if ref.column not in values and ref.column not in facts.seed:
                        values[ref.column] = self.pick(ref, ws, n, anywhere=ws is None)
                for column in facts.key:
                    if column not in values:
                        serial = self.serial(name)
                        enum = self.project.enum_of(facts.columns[column])  # a lookup table keyed by an enum
                        values[column] = enum.values[(serial - 1) % len(enum.values)] if enum and enum.values else \
                            sample(facts.columns[column], serial, _tag(ws, n), f"{name}.{column}")
                key = tuple(values.get(column) for column in facts.key)
                if key in keys:
                    break  # keyed by the rows it references, and as many as they are
                keys.add(key)
                self.add(facts, ws, n, values, user=self.principals.get(ws))

    def add_table_rows(self, facts: TableFacts) -> None:
        """Rows of a spec'd table: in each workspace, by each role's member where rows name
        their user; per user, or personal, as its tenancy says."""
        table = facts.spec
        if facts.per_user:
            self.add_user_rows(facts)
            return
        for ws in WORKSPACES:
            # A table whose rows name a user gets a row by each role's member, and one by a
            # user who has left the workspace (a member of the other one only): the tests
            # act on their own rows and on the others'.
            authors = [self.personas[f"{role}_{ws}"] for role in self.roles]
            if facts.user:
                authors.append(self.personas[f"{self.roles[0]}_{next(w for w in WORKSPACES if w != ws)}"])
            count = max(ROWS_PER_WORKSPACE, len(authors)) if facts.user else ROWS_PER_WORKSPACE
            if any(key.where is None and set(key.columns) <= {facts.workspace_column} for key in facts.unique_keys):
                count = 1  # one row a workspace (`unique (project_id)`, the tenancy column)
            for n in range(1, count + 1):
                serial = self.serial(table.name)
                values = row_values(facts, self.workspace_ids[ws], n, _tag(ws, n),
                                    partial(self.pick_keyed, facts, ws=ws, n=n, serial=serial), serial=serial)
                if facts.user:
                    values[facts.user] = str(authors[(n - 1) % len(authors)].user_id)
                self.rows.setdefault(table.name, []).append(
                    Row(table.name, values, ws, f"{facts.label}_{ws}_{n}"))
        if facts.personal:
            self.add_personal_rows(facts)

    @property
    def users(self) -> list[Persona]:
        """The personas who sign in as a user of their own (not those who only claim a role)."""
        return [p for p in self.personas.values() if p.user_id and not p.claimed_role]

    def add_user_rows(self, facts: TableFacts) -> None:
        """A row of a per-user table for every signed-in persona, in no workspace; a row of a
        per-user table's child for every row of its parent."""
        if facts.user_parent:
            for n in range(1, len(self.rows.get(facts.parent.target, ())) + 1):
                values = row_values(facts, "", n, f"u{n}", lambda ref, n=n: self.pick(ref, None, n))
                self.rows.setdefault(facts.name, []).append(Row(facts.name, values, None, f"{facts.label}_{n}"))
            return
        for n, persona in enumerate(self.users, 1):
            values = row_values(facts, "", n, f"u{n}", lambda ref, n=n: self.pick(ref, None, n))
            values[facts.user] = str(persona.user_id)
            self.rows.setdefault(facts.name, []).append(Row(facts.name, values, None, f"{facts.label}_{persona.name}"))

    def add_personal_rows(self, facts: TableFacts) -> None:
        """A personal row (no workspace, its user's) for every signed-in persona; its other
        same-workspace references left empty where they may be."""
        for n, persona in enumerate(self.users, 1):
            values = row_values(facts, self.workspace_ids[WORKSPACES[0]], 500 + n, f"p{n}",
                                lambda ref, n=n: self.pick(ref, WORKSPACES[0], n), serial=self.serial(facts.name))
            values |= {ref.column: None for ref in facts.ties if not ref.not_null}
            values |= {facts.workspace_column: None, facts.user: str(persona.user_id)}
            self.rows.setdefault(facts.name, []).append(Row(facts.name, values, None, f"{facts.label}_personal_{n}"))

    def add_rows_per_user(self, facts: TableFacts) -> None:
        """A row of an external table with no workspace for every signed-in persona's user, its
        seed's ``{user}`` that user: a table keyed by the user (``profiles.id`` references
        ``auth.users``) has one row per user and no other."""
        for n, persona in enumerate(self.users, 1):
            values = {ref.column: self.pick(ref, None, n, anywhere=True) for ref in facts.references
                      if ref.column not in facts.seed}  # the rows it references: seeded before it
            values |= {column: sample(facts.columns[column], self.serial(facts.name), f"u{n}", f"{facts.name}.{column}")
                       for column in facts.key if column not in values}
            self.add(facts, None, n, values, user=persona)

    def add_user_through_rows(self) -> None:
        """Where the membership names the user through a row of another table (an account, an
        identity), that row for every signed-in persona, holding the persona's user id."""
        through = self.project.tenancy.members.user_through
        self.user_keys: dict[str, str] = {}
        if through is None:
            return
        facts = self.facts[through.table]
        for n, persona in enumerate(self.users, 1):
            values = {column: sample(facts.columns[column], self.serial(facts.name), f"u{n}", f"{facts.name}.{column}")
                      for column in dict.fromkeys((*facts.key, through.key))}
            self.add(facts, None, n, values, user=persona, fixed={through.user_column: str(persona.user_id)})
            self.user_keys[persona.name] = self.rows[facts.name][-1].values[through.key]

    def add_memberships(self) -> None:
        members = self.project.tenancy.members
        if members.table is None:
            return  # the token's claims alone carry the membership
        facts = self.facts[members.table]
        counts = dict.fromkeys(WORKSPACES, 0)
        for persona in self.personas.values():
            if persona.claimed_role:
                continue
            for ws, role in persona.memberships:
                if role == self.project.tenancy.owner_role:
                    continue  # the workspace's owner column says it
                counts[ws] += 1
                values = {members.workspace_column: self.workspace_ids[ws],
                          members.user_column: self.user_keys.get(persona.name, str(persona.user_id))}
                if members.role_column is not None:  # else every member is alike
                    stored = members.stored(role)
                    values[members.role_column] = [stored] if members.role_array else \
                        json_document(members.role_field, stored) if members.role_field else stored
                if members.active:  # a membership that counts: is_active, deleted_at is null
                    values.update(condition_values(members.active))
                for column in facts.key:
                    if column not in values:
                        values[column] = sample(facts.columns[column], self.serial(members.table),
                                                f"{persona.name}.{ws}", f"{members.table}.{column}")
                self.add(facts, ws, counts[ws], values, user=persona)

    def user_row(self, label: str, user_id: str, email: str, tag: str, persona: Persona | None) -> Row:
        """A user: its id and email, and the project file's seed of auth.users (the sign-up
        metadata the app's triggers read)."""
        values = seed_values(self.project, self.workspace_ids, self.facts[USERS], None, tag, persona)
        return Row(USERS, values | {"id": user_id, "email": email}, None, label)

    def serial(self, name: model.Name) -> int:
        """The number of the next row of ``name`` across both workspaces: an integer key
        (``id bigint generated by default as identity``) drawn from it is unique in the table."""
        return len(self.rows.get(name, ())) + 1

    def add(self, facts: TableFacts, ws: str | None, n: int, values: dict, user: Persona | None,
            fixed: dict | None = None) -> None:
        """An external row: its key and workspace, plus the project file's seed values (which
        ``fixed`` values override)."""
        values |= seed_values(self.project, self.workspace_ids, facts, ws, _tag(ws, n), user) | (fixed or {})
        self.rows.setdefault(facts.name, []).append(
            Row(facts.name, values, ws, f"{facts.label}_{ws}_{n}" if ws else f"{facts.label}_{n}"))

    def referenced_externals(self) -> list[model.Name]:
        """External tables a spec'd table references, and those they reference in turn, apart
        from users, workspaces and members (seeded before): each after the ones it references."""
        members = self.project.tenancy.members
        skip = {USERS, self.project.tenancy.workspaces, members.table} | (
            {members.user_through.table} if members.user_through else set())

        def targets(facts: TableFacts) -> list[model.Name]:
            return [ref.target for ref in facts.references
                    if ref.target in self.facts and self.facts[ref.target].spec is None and ref.target not in skip]

        found: list[model.Name] = []

        def visit(name: model.Name, path: tuple) -> None:
            if name in found or name in path:  # a cycle of external references: its order is the path's
                return
            for target in targets(self.facts[name]):
                visit(target, path + (name,))
            found.append(name)

        for facts in self.facts.values():
            if facts.spec is not None:
                for target in targets(facts):
                    visit(target, ())
        return found

    def pick_keyed(self, facts: TableFacts, ref: Reference, ws: str, n: int, serial: int) -> str | None:
        """`pick`, but a reference into a table every workspace shares, in a unique key without
        the workspace column (`unique (sdk_id, service_id)`), counts the rows across the table:
        no two rows pick the same referenced rows. The key's references count in mixed radix,
        the first fastest."""
        target = self.facts[ref.target]
        key = next((u.columns for u in facts.unique_keys
                    if ref.column in u.columns and facts.workspace_column not in u.columns), None)
        if key is None or ref.target == USERS or target.workspace_column or target.parent:
            return self.pick(ref, ws, n)
        step = 1
        for column in key[:key.index(ref.column)]:
            earlier = facts.reference(column)
            if earlier is not None and earlier.target != USERS and not self.facts[earlier.target].workspace_column:
                step *= max(len(self.rows.get(earlier.target, ())), 1)
        return self.pick(ref, ws, (serial - 1) // step + 1, anywhere=True)

    def pick(self, ref: Reference, ws: str | None, n: int, anywhere: bool = False) -> str | None:
        """The referenced row for the ``n``-th row of ``ws``: the ``n``-th of that workspace (of
        any, ``anywhere``)."""
        target = self.facts[ref.target]
        # a workspace's row names a member of it, one with a membership row where there are such
        # (the owner column's user has none, and an app's trigger may ask for one)
        owner = self.project.tenancy.owner_role
        if ref.target == USERS:
            in_ws = [p for p in self.users if ws is None or p.role_in(ws)]
            candidates = [{"id": str(p.user_id)} for p in
                          ([p for p in in_ws if ws is None or p.role_in(ws) != owner] or in_ws)]
        elif target.per_user and target.key == (target.user,) and ws is not None and not anywhere:
            # a table keyed by its user (profiles) stands for the users
            members = {str(p.user_id) for p in self.users if p.role_in(ws) and p.role_in(ws) != owner}
            rows = [r.values for r in self.rows.get(ref.target, [])]
            candidates = [v for v in rows if v.get(target.user) in members] or rows
        else:
            rows = self.rows.get(ref.target, [])
            in_ws = [r.values for r in rows if r.workspace == ws] if (target.workspace_column or target.parent) \
                and not anywhere else [r.values for r in rows]
            candidates = in_ws
        if not candidates:
            if not ref.not_null:
                return None
            raise WorldError(f"no row of {ref.target} to reference from {ref.column}: declare "
                             f"{ref.target} under external.tables with its columns")
        return candidates[(n - 1) % len(candidates)].get(ref.target_column)


def json_document(path: str, value) -> str:
    """A JSON document holding ``value`` at the dotted ``path``: ``{"role": "admin"}``."""
    for key in reversed(path.split(".")):
        value = {key: value}
    return json.dumps(value)


def _tag(ws: str | None, n: int) -> str:
    return f"{(ws or 'g').lower()}{n}"


def seed_values(project: model.Project, workspace_ids: Mapping[str, str], facts: TableFacts, ws: str | None,
                tag: str, user: Persona | None) -> dict[str, str | None]:
    """The project file's ``seed`` values of an external table, placeholders filled in."""
    values = {}
    for column, template in facts.seed.items():
        if not isinstance(template, str):
            values[column] = None if template is None else str(template).lower() if isinstance(template, bool) \
                else str(template)
            continue
        where = f"{project.source}: external.tables.{facts.name}.seed.{column}"
        for name in PLACEHOLDER.findall(template):
            if name not in SEED_PLACEHOLDERS:
                raise WorldError(f"{where}: unknown placeholder {{{name}}} (known: "
                                 + ", ".join(f"{{{p}}}" for p in SEED_PLACEHOLDERS) + ")")
        if ws is None and "{workspace}" in template:
            raise WorldError(f"{where}: {facts.name} has no workspace_column, so its rows have no {{workspace}}")
        if user is None and "{user}" in template:
            raise WorldError(f"{where}: {facts.name}'s rows have no {{user}} here")
        filled = {"workspace": workspace_ids.get(ws, ""), "user": str(user.user_id) if user else "", "label": tag}
        values[column] = PLACEHOLDER.sub(lambda match: filled[match[1]], template)
    return values


# {workspace}, {user}, {label}: a name in braces; other braces (a JSON '{}') are the value's own
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def row_values(facts: TableFacts, workspace_id: str, n: int, tag: str,
               pick: Callable[[Reference], str | None], serial: int | None = None) -> dict[str, str | None]:
    """A new row of a spec'd table in the workspace ``workspace_id``: its key, workspace,
    references (from ``pick``), every required or unique column and the payload column.
    ``serial`` numbers the row across the table (``n`` may count within its workspace): the
    columns of unique keys take it, so an integer key is unique in the table."""
    keyed = {c for key in facts.unique_keys for c in key.columns}
    values: dict[str, str | None] = {}
    for position, (column, type_text) in enumerate(facts.columns.items()):
        ref = facts.reference(column)
        if column == facts.carried or column in facts.computed:
            continue  # the database fills it (from the parent row; from its expression)
        if column == facts.workspace_column:
            values[column] = workspace_id
        elif ref and ref.target == facts.name:
            continue  # a self-reference: filled below, once the row's own key is known
        elif ref:
            values[column] = pick(ref)
        elif column in keyed or column in facts.required or column == facts.payload:
            if column in facts.documents:
                values[column] = facts.documents[column]  # what the CHECK's JSON Schema accepts
            elif column in facts.one_of:
                allowed = facts.one_of[column]
                values[column] = allowed[0] if column == facts.payload else allowed[(n - 1) % len(allowed)]
            else:
                # Later columns get larger numbers and times: checks like `ends_at > starts_at`
                # between two required columns hold.
                number = (serial or n) if column in keyed else n
                values[column] = sample(type_text, 0 if column == facts.payload else number + 100 * position, tag,
                                        f"{facts.name}.{column}")
                if column in facts.text_rules and family(type_text) == "text" and values[column] is not None:
                    values[column] = checked_text(values[column], facts.text_rules[column])
                if values[column] is None:
                    raise WorldError(
                        f"{facts.spec.source if facts.spec else facts.name}: the policy tests cannot make a "
                        f"value of type {type_text} for {facts.name.name}.{column}; give the column a default")
    for ref in facts.references:
        if ref.target == facts.name:
            values[ref.column] = values.get(ref.target_column) if ref.not_null else None
    return values
