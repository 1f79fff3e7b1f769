"""The probes' requests: the rows they write, and the plan of every probe for every spec'd
table and persona, each with what the access model expects of it.

For each table and persona, on each workspace's rows: select; insert; update and delete
filtered by primary key (as PostgREST sends them); ``insert ... on conflict do update``;
moving the row to the other workspace (by update and by upsert); and for the parent and
every same-workspace reference, pointing it at the other workspace's row, on insert and on
update. On a table whose rows name a user: the same on the persona's own rows and on
another user's, inserting in their own name and in another's, and handing a row over. Then,
without a WHERE: select, update, delete, moves, re-pointing and handing over. And TRUNCATE.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from tenantspec.testing.expectations import AccessModel, Outcome, Request
from tenantspec.testing.personas import WORKSPACES, Persona
from tenantspec.testing.state import State
from tenantspec.testing.tables import USERS, Reference, TableFacts
from tenantspec.testing.values import other_than
from tenantspec.testing.world import World, row_values


class RequestMaker:
    """Builds requests from the current state: fresh rows, payload changes, moves."""

    def __init__(self, world: World):
        self.world = world
        self.counter = itertools.count(1)

    def new_row(self, state: State, facts: TableFacts, workspace: str,
                point: Mapping[str, str] | None = None) -> dict[str, str | None]:
        """A row for ``workspace`` whose references point into it (``point`` overrides a
        column with a given workspace's row) and whose unique keys are free."""
        if facts.per_user:
            return self.user_row(state, facts)
        n = next(self.counter)
        point = dict(point or {})
        options: dict[str, list] = {}
        for ref in facts.references:
            if ref.target == facts.name:
                continue
            options[ref.column] = self.targets(state, ref, point.get(ref.column, workspace)) or [None]
        fallback = None
        for choice in itertools.product(*(reversed(v) for v in options.values())):
            chosen = dict(zip(options, choice))
            values = row_values(facts, self.world.workspace_ids[workspace], 1000 + n, f"n{n}",
                                lambda ref: chosen.get(ref.column))
            fallback = fallback or values
            if not _conflicts(state, facts, values):
                return values
        return fallback

    def user_row(self, state: State, facts: TableFacts) -> dict[str, str | None]:
        """A new row of a per-user table (its user column is the caller's to set)."""
        n = next(self.counter)
        users = len(state.table(USERS)) or 1
        for c in range(users):
            values = row_values(facts, "", 1000 + n, f"n{n}", lambda ref, c=c: self.any_user(state, ref, c))
            if facts.user and facts.reference(facts.user) is None:
                values[facts.user] = self.any_user(state, Reference(facts.user, USERS, "id", False, None, True, False),
                                                   c)
            if not _conflicts(state, facts, values):
                return values
        return values

    def any_user(self, state: State, ref: Reference, n: int) -> str | None:
        """The ``n``-th row of what ``ref`` points at, from the last (spare users come last)."""
        rows = list(state.table(ref.target).values())[::-1]
        return rows[n % len(rows)].get(ref.target_column) if rows else None

    def targets(self, state: State, ref: Reference, workspace: str) -> list[str | None]:
        """Values ``ref`` may take to point at a row of ``workspace`` (any row when the
        target has no workspace)."""
        rows = state.table(ref.target).values()
        if state.facts[ref.target].workspace_column or state.facts[ref.target].parent:
            rows = [r for r in rows if state.workspace_of(ref.target, r) == workspace]
        elif ref.target == USERS:
            members = {str(p.user_id) for p in self.world.members(workspace)}
            rows = [r for r in rows if r.get("id") in members]
        return [r.get(ref.target_column) for r in rows]

    def relocate(self, state: State, facts: TableFacts, row: Mapping, workspace: str) -> dict[str, str | None]:
        """The columns that move ``row`` into ``workspace`` whole: its workspace column or
        parent, and every same-workspace reference, pointed at rows there (keys kept free)."""
        moved: dict[str, str | None] = {}
        if facts.workspace_column:
            moved[facts.workspace_column] = self.world.workspace_ids[workspace]
        options = {ref.column: self.targets(state, ref, workspace) for ref in facts.ties
                   if row.get(ref.column) is not None or ref.parent}
        options = {column: values for column, values in options.items() if values}
        fallback = None
        for choice in itertools.product(*(reversed(v) for v in options.values())):
            candidate = {**moved, **dict(zip(options, choice))}
            fallback = fallback or candidate
            if not _conflicts(state, facts, {**row, **candidate}, ignore=row):
                return candidate
        return fallback or moved

    def payload(self, facts: TableFacts, *current: str | None) -> dict[str, str | None]:
        """New content for the payload column, different from every ``current`` value when
        the type has values enough; nothing when the table has no such column."""
        n = next(self.counter)
        column = facts.payload
        if column is None:
            return {}
        if column in facts.one_of:
            allowed = facts.one_of[column]
            return {column: next((v for v in allowed if v not in current), allowed[-1])}
        value = other_than(facts.columns[column], current[0] if current else None, 1000 + n, f"p{n}",
                           f"{facts.name}.{column}")
        return {column: value}

    def payload_for_all(self, state: State, facts: TableFacts) -> dict[str, str | None]:
        """New content for the payload column of every row at once."""
        return self.payload(facts, *{v.get(facts.payload) for v in state.table(facts.name).values()})


def _conflicts(state: State, facts: TableFacts, values: Mapping, ignore: Mapping | None = None) -> bool:
    for unique in facts.unique_keys:
        key = tuple(values.get(c) for c in unique.columns)
        if any(v is None for v in key) or not unique.covers(values):
            continue
        if any(tuple(r.get(c) for c in unique.columns) == key and unique.covers(r)
               for r in state.table(facts.name).values() if r is not ignore and r != ignore):
            return True
    return False


@dataclass(frozen=True)
class Probe:
    """A request, the matrix cell it speaks for (table, command, persona kind, workspace) when
    it is one of the basic ones, and what the access model expects of it. ``mine``: on a
    table whose rows name a user, whether the basic probe acts on the persona's own rows."""

    request: Request
    expected: Outcome
    cell: tuple[str, str, str, str] | None = None
    mine: bool | None = None


def plan_probes(world: World, access: AccessModel) -> list[Probe]:
    """Every probe for every spec'd table and persona, each with its expected outcome."""
    planner = _Planner(world, access)
    truncators = _one_persona_per_database_role(world.personas.values())
    for facts in world.spec_tables:
        for persona in world.personas.values():
            if facts.per_user:
                planner.user_rows(facts, persona)
            else:
                for ws in WORKSPACES:
                    planner.workspace_rows(facts, persona, ws)
                    if facts.user:
                        planner.authored_rows(facts, persona, ws)
                if facts.personal:
                    planner.personal_rows(facts, persona)
            planner.every_row(facts, persona)
            if persona in truncators:
                planner.add(Request(persona, facts.name, "truncate", what="truncate the table"))
    return planner.probes


class _Planner:
    def __init__(self, world: World, access: AccessModel):
        self.world = world
        self.access = access
        self.state = State(world)
        self.make = RequestMaker(world)
        self.probes: list[Probe] = []

    def add(self, request: Request, cell=None, mine: bool | None = None) -> None:
        expected = self.access.predict(self.state, request)
        if expected.after is not None:  # the rows it writes are judged; the others keep the world's
            expected = replace(expected, after=expected.after.only({name for name, _ in expected.touched}))
        self.probes.append(Probe(request, expected, cell, mine))

    def workspace_rows(self, facts: TableFacts, persona: Persona, ws: str) -> None:
        """The basic commands on ``ws``'s first row, upserts, moves and re-pointing."""
        add, make, state, name = self.add, self.make, self.state, facts.name
        other = _other(ws)
        rows = self.world.rows_in(name, ws)
        first = rows[0].key(facts)
        kind = persona.kind_in(ws)
        basic = not facts.user  # a table of authored rows has its basic probes in authored_rows

        def cell(command):
            return (name.name, command, kind, ws) if basic else None

        add(Request(persona, name, "select", keys=tuple(r.key(facts) for r in rows),
                    what=f"select {ws}'s rows"), cell("select"))
        add(Request(persona, name, "insert", values=make.new_row(state, facts, ws),
                    what=f"insert a row into {ws}"), cell("insert"))
        # Without a column to change, an update sets the key to itself: PostgREST's PATCH of
        # nothing new, still subject to every check.
        change = make.payload(facts, rows[0].values.get(facts.payload)) or \
            {c: rows[0].values.get(c) for c in facts.key}
        add(Request(persona, name, "update", keys=(first,), values=change,
                    what=f"update {ws}'s row by id"), cell("update"))
        add(Request(persona, name, "delete", keys=(first,), what=f"delete {ws}'s row by id"), cell("delete"))
        changed = {**rows[0].values, **change}
        add(Request(persona, name, "upsert", values=changed, upsert_set=tuple(change),
                    what=f"upsert over {ws}'s row"))
        moved = make.relocate(state, facts, rows[0].values, other)
        if moved:
            add(Request(persona, name, "update", keys=(first,), values=moved,
                        what=f"move {ws}'s row to {other} by id"))
            add(Request(persona, name, "upsert", values={**changed, **moved},
                        upsert_set=tuple(dict.fromkeys((*moved, *change))),
                        what=f"move {ws}'s row to {other} by upsert"))
        for ref in facts.ties:
            elsewhere = make.targets(state, ref, other)
            if not elsewhere:
                continue
            add(Request(persona, name, "insert", values=make.new_row(state, facts, ws, point={ref.column: other}),
                        what=f"insert a row into {ws} with {ref.column} at {other}'s row"))
            add(Request(persona, name, "update", keys=(first,), values={ref.column: elsewhere[0]},
                        what=f"point {ws}'s row's {ref.column} at {other}'s row by id"))

    def authored_rows(self, facts: TableFacts, persona: Persona, ws: str) -> None:
        """The basic commands on a row of ``ws`` the persona wrote and on one another member
        wrote; inserting a row in their own name and in another's; handing a row over."""
        rows = self.world.rows_in(facts.name, ws)
        user = str(persona.user_id) if persona.user_id else None
        mine = [r for r in rows if r.values.get(facts.user) == user]
        theirs = [r for r in rows if r.values.get(facts.user) != user]
        someone = next(r.values.get(facts.user) for r in theirs)
        self.ownership(facts, persona, (persona.kind_in(ws), ws), ws, mine, theirs, user, someone)

    def owner(self, facts: TableFacts, values: Mapping) -> str | None:
        """The user a row belongs to (its own column, or its parent's)."""
        return self.state.user_of(facts.name, values)

    def naming(self, facts: TableFacts, user: str | None) -> dict[str, str | None]:
        """The columns that make a row ``user``'s: its user column, or its parent (one of theirs)."""
        if facts.user is not None:
            return {facts.user: user}
        parent = facts.parent
        rows = [r for r in self.state.table(parent.target).values() if self.state.user_of(parent.target, r) == user]
        return {parent.column: rows[0].get(parent.target_column)} if rows else {}

    def user_rows(self, facts: TableFacts, persona: Persona) -> None:
        """A per-user table: the persona's own row and another user's, as above."""
        rows = self.world.rows_in(facts.name, None)
        user = str(persona.user_id) if persona.user_id else None
        mine = [r for r in rows if self.owner(facts, r.values) == user]
        theirs = [r for r in rows if self.owner(facts, r.values) != user]
        someone = self.owner(facts, theirs[0].values)
        self.ownership(facts, persona, (persona.kind_in(WORKSPACES[0]), WORKSPACES[0]), None, mine, theirs,
                       user, someone)
        change = self.make.payload(facts, theirs[0].values.get(facts.payload)) or \
            {c: theirs[0].values.get(c) for c in facts.key}
        self.add(Request(persona, facts.name, "upsert", values={**theirs[0].values, **change},
                         upsert_set=tuple(change), what="upsert over another user's row"))

    def ownership(self, facts: TableFacts, persona: Persona, cell: tuple[str, str], ws: str | None,
                  mine: list, theirs: list, user: str | None, someone: str | None) -> None:
        add, name = self.add, facts.name
        kind, where = cell

        def at(command):
            return (name.name, command, kind, where)

        for rows, is_mine, whose in ((mine, True, "their own"), (theirs[:1], False, "another user's")):
            if not rows:
                continue
            key = rows[0].key(facts)
            add(Request(persona, name, "select", keys=tuple(r.key(facts) for r in rows),
                        what=f"select {whose} rows"), at("select"), is_mine)
            change = self.make.payload(facts, rows[0].values.get(facts.payload)) or \
                {c: rows[0].values.get(c) for c in facts.key}
            add(Request(persona, name, "update", keys=(key,), values=change, what=f"update {whose} row by id"),
                at("update"), is_mine)
            add(Request(persona, name, "delete", keys=(key,), what=f"delete {whose} row by id"),
                at("delete"), is_mine)
            if is_mine and someone is not None and (handed := self.naming(facts, someone)):
                add(Request(persona, name, "update", keys=(key,), values=handed,
                            what=f"hand their own row over to another user ({', '.join(handed)})"))
        for named, is_mine, whose in ((user, True, "their own"), (someone, False, "another user's")):
            values = self.make.new_row(self.state, facts, ws)
            if facts.user_parent and not self.naming(facts, named):
                continue  # a user with no parent row to put one under
            values.update(self.naming(facts, named))
            add(Request(persona, name, "insert", values=values, what=f"insert a row in {whose} name"),
                at("insert"), is_mine)

    def personal_rows(self, facts: TableFacts, persona: Persona) -> None:
        """Rows of no workspace, each its user's: the basic commands on the persona's own and
        on another user's, inserting one in their own name and in another's, and moving their
        own into a workspace."""
        add, name = self.add, facts.name
        rows = self.world.rows_in(name, None)
        user = str(persona.user_id) if persona.user_id else None
        mine = [r for r in rows if r.values.get(facts.user) == user]
        theirs = [r for r in rows if r.values.get(facts.user) != user]
        for picked, whose in ((mine[:1], "their own"), (theirs[:1], "another user's")):
            if not picked:
                continue
            key = picked[0].key(facts)
            add(Request(persona, name, "select", keys=(key,), what=f"select {whose} personal row"))
            change = self.make.payload(facts, picked[0].values.get(facts.payload)) or \
                {c: picked[0].values.get(c) for c in facts.key}
            add(Request(persona, name, "update", keys=(key,), values=change, what=f"update {whose} personal row"))
            add(Request(persona, name, "delete", keys=(key,), what=f"delete {whose} personal row"))
        if mine:
            add(Request(persona, name, "update", keys=(mine[0].key(facts),),
                        values={facts.workspace_column: self.world.workspace_ids[WORKSPACES[0]]},
                        what=f"move their own personal row into {WORKSPACES[0]}"))
        someone = theirs[0].values.get(facts.user) if theirs else None
        for named, whose in ((user, "their own"), (someone, "another user's")):
            values = self.make.new_row(self.state, facts, WORKSPACES[0])
            values |= {ref.column: None for ref in facts.ties if not ref.not_null}
            values |= {facts.workspace_column: None, facts.user: named}
            add(Request(persona, name, "insert", values=values, what=f"insert a personal row in {whose} name"))

    def every_row(self, facts: TableFacts, persona: Persona) -> None:
        """Select, update, delete, moves and re-pointing without a WHERE."""
        add, make, state, name = self.add, self.make, self.state, facts.name
        add(Request(persona, name, "select", what="select every row (no WHERE)"))
        if facts.payload:
            add(Request(persona, name, "update", values=make.payload_for_all(state, facts),
                        what="update every row (no WHERE)"))
        add(Request(persona, name, "delete", what="delete every row (no WHERE)"))
        if facts.user or facts.user_parent:
            # Without a WHERE the SELECT policy does not apply: only the check keeps a row its user's.
            me = str(persona.user_id) if persona.user_id else None
            someone = next((self.owner(facts, r.values) for r in self.world.rows[name]
                            if self.owner(facts, r.values) != me), None)
            handed = self.naming(facts, someone)
            if handed:
                add(Request(persona, name, "update", values=handed,
                            what=f"hand every row over to another user ({', '.join(handed)}, no WHERE)"))
        if facts.per_user:
            return
        for ws in WORKSPACES:
            moved = make.relocate(state, facts, self.world.rows_in(name, _other(ws))[0].values, ws)
            if moved:
                add(Request(persona, name, "update", values=moved, what=f"move every row to {ws} (no WHERE)"))
            for ref in facts.ties:
                into = make.targets(state, ref, ws)
                if into:
                    add(Request(persona, name, "update", values={ref.column: into[0]},
                                what=f"point every row's {ref.column} at {ws}'s row (no WHERE)"))


def _other(ws: str) -> str:
    return next(w for w in WORKSPACES if w != ws)


def _one_persona_per_database_role(personas: Iterable[Persona]) -> list[Persona]:
    chosen: dict[str, Persona] = {}
    for persona in personas:
        chosen.setdefault(persona.db_role, persona)
    return list(chosen.values())


