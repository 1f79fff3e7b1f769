"""The rows the access model knows: the world's seeded rows by table and key, as a request's
expected outcome leaves them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from tenantspec.spec import model
from tenantspec.testing.world import World

Key = tuple
RowRef = tuple[model.Name, Key]
_NO_ROWS: Mapping[Key, dict] = MappingProxyType({})


class State:
    """The rows the tests know, by table and primary key, with the values they wrote.

    A copy shares every table with the state it came from until one of them writes it: the
    access model predicts each write on a copy, so a copy costs what the write changes, not
    what the world holds."""

    def __init__(self, world: World, rows: dict[model.Name, dict[Key, dict]] | None = None):
        self.world = world
        self.facts = world.facts
        self.shared: set[model.Name] = set()  # tables another state also holds: copied before a write
        derive = rows is None
        if rows is None:
            rows = {name: {row.key(world.facts[name]): dict(row.values) for row in table_rows}
                    for name, table_rows in world.rows.items()}
        self.rows = rows
        if derive:
            for name, table in rows.items():
                for values in table.values():
                    self.derive(name, values)

    def copy(self) -> State:
        twin = State(self.world, dict(self.rows))
        self.shared = set(self.rows)
        twin.shared = set(self.rows)
        return twin

    def only(self, names: set[model.Name]) -> State:
        """A state holding only the tables ``names`` (shared with this one): what a probe keeps
        of its expected state, the rest being the world it started from."""
        return State(self.world, {name: table for name, table in self.rows.items() if name in names})

    def table(self, name: model.Name) -> Mapping[Key, dict]:
        """The rows of ``name``, to read: another state may hold the same ones."""
        return self.rows.get(name, _NO_ROWS)

    def writable(self, name: model.Name) -> dict[Key, dict]:
        """The rows of ``name``, to change: this state's own (rows are changed by replacing
        their values, never inside them, so copying each row's dict suffices)."""
        if name in self.shared:
            self.shared.discard(name)
            self.rows[name] = {key: dict(row) for key, row in self.rows[name].items()}
        return self.rows.setdefault(name, {})

    def find(self, name: model.Name, column: str, value) -> dict | None:
        if value is None:
            return None
        return next((v for v in self.table(name).values() if v.get(column) == value), None)

    def derive(self, name: model.Name, values: dict) -> dict:
        """``values`` as the database stores them: a carried workspace column holds the
        parent row's workspace, whatever the write sent (a trigger fills it)."""
        facts = self.facts[name]
        if facts.carried and facts.parent is not None:
            parent = self.find(facts.parent.target, facts.parent.target_column, values.get(facts.parent.column))
            if parent is not None:
                values[facts.carried] = parent.get(self.facts[facts.parent.target].workspace_column)
        return values

    def workspace_of(self, name: model.Name, values: Mapping) -> str | None:
        """The workspace (A or B) a row belongs to: its column's, or its parent row's."""
        facts = self.facts[name]
        if facts.workspace_column and (values.get(facts.workspace_column) is not None or not facts.carried):
            return self.world.workspace_label(values.get(facts.workspace_column))
        if facts.parent:  # a carried column not filled yet follows the parent too
            parent = self.find(facts.parent.target, facts.parent.target_column, values.get(facts.parent.column))
            return self.workspace_of(facts.parent.target, parent) if parent is not None else None
        return None

    def user_of(self, name: model.Name, values: Mapping) -> str | None:
        """The user a row belongs to: its own user column's, or its parent row's."""
        facts = self.facts[name]
        if facts.user is not None:
            return values.get(facts.user)
        if facts.user_parent:
            parent = self.find(facts.parent.target, facts.parent.target_column, values.get(facts.parent.column))
            return self.user_of(facts.parent.target, parent) if parent is not None else None
        return None

    def key_of(self, name: model.Name, values: Mapping) -> Key:
        return tuple(values.get(c) for c in self.facts[name].key)
