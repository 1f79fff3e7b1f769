"""What the database must do with a request: the access model the probes and the property
test compare the database with.

The rights come from the hand-written intent (who may run which command on a workspace's
rows); the tables, their workspaces, references and keys from the project model. On top,
PostgreSQL's and Supabase's rules decide how a request surfaces:

- a command the role holds no privilege for fails with 42501 (``privilege``): anon holds
  none, ``authenticated`` the commands some member may run, ``service_role`` what the intent
  gives it; nobody holds TRUNCATE.
- UPDATE and DELETE silently skip the rows the USING clause hides (0 rows); when the statement
  reads a column (a WHERE, as PostgREST sends) the SELECT policy hides rows too and the new
  row must pass it. A new row that fails a WITH CHECK raises 42501 (``policy``).
- ``insert ... on conflict do update`` needs SELECT too; the proposed row must pass the INSERT
  check and the SELECT policy, the existing row the UPDATE USING and SELECT (as errors), the
  updated row the UPDATE check.
- service_role bypasses RLS, so only grants and constraints stop it.
- unique keys (23505), foreign keys (23503) and ON DELETE actions are enforced for everyone.

A user who belongs to two workspaces has, in each, exactly the rights of its role there: a
row moves (or a reference points) from one workspace to the other only when the user may
update it where it is and may write it where it lands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tenantspec.spec import model
from tenantspec.testing.intent import Intent
from tenantspec.testing.personas import WORKSPACES, Persona
from tenantspec.testing.state import Key, RowRef, State
from tenantspec.testing.tables import Reference, TableFacts
from tenantspec.testing.world import World

PRIVILEGE = "error 42501 privilege"  # permission denied for table
POLICY = "error 42501 policy"  # new row violates row-level security policy
UNIQUE = "error 23505"
FOREIGN_KEY = "error 23503"
RESTRICT = "error 23001"  # ON DELETE RESTRICT; NO ACTION reports 23503
NOT_NULL = "error 23502"
# The surface of changing a row's workspace where the tenancy does not allow moves: a BEFORE
# UPDATE trigger raises 42501 for the API roles, ahead of the WITH CHECK. Where moves are
# allowed, an AFTER UPDATE trigger raises the same when a same-workspace reference would
# point into the old workspace.
TENANT_MOVE_REFUSED = "error 42501"



@dataclass(frozen=True)
class Request:
    """One statement by one persona on a spec'd table.

    ``keys``: the rows a WHERE names by primary key (None: no WHERE). ``values``: the row an
    insert or upsert proposes, or the columns an update sets. ``upsert_set``: the columns an
    upsert takes from EXCLUDED when it conflicts."""

    persona: Persona
    table: model.Name
    command: str  # select | insert | update | delete | upsert | truncate
    keys: tuple[Key, ...] | None = None
    values: Mapping[str, str | None] = field(default_factory=dict, hash=False)
    upsert_set: tuple[str, ...] = ()
    what: str = ""

    @property
    def reads(self) -> bool:
        """Whether the statement reads a column of the table (and so needs SELECT)."""
        return self.command in ("select", "upsert") or self.keys is not None


@dataclass(frozen=True)
class Outcome:
    """The expected result: the possible error surfaces, or the rows affected / visible and
    the state afterwards."""

    errors: frozenset[str] = frozenset()
    rows: int = 0
    visible: frozenset[Key] | None = None
    touched: frozenset[RowRef] = frozenset()  # rows written: only these may change
    changed: frozenset[RowRef] = frozenset()  # rows whose known values change: these must
    after: State | None = None

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def describe(self) -> str:
        if self.errors:
            return " or ".join(sorted(self.errors))
        if self.visible is not None:
            return f"{self.rows} row{'s' if self.rows != 1 else ''} visible"
        return f"{self.rows} row{'s' if self.rows != 1 else ''}"


def tenant_change_error(facts: TableFacts) -> str | None:
    """What the database answers, before any policy, when an update changes the workspace of a
    row that holds it in a column of its own: a BEFORE UPDATE trigger refuses every API role,
    service_role included, ahead of the WITH CHECK, where the tenancy is not ``movable`` (a
    hand-written project: where its catalog shows the guard); elsewhere None.
    A row whose workspace comes only through its parent has no such trigger (None)."""
    if not facts.guarded:
        return None
    return TENANT_MOVE_REFUSED


def move_breaks(state: State, name: model.Name, old: Mapping, new: Mapping) -> bool:
    """Whether moving a movable row from ``old``'s workspace to ``new``'s leaves a same-workspace
    reference pointing into the old one: the row's own, its children's, or another row's to it.
    The AFTER UPDATE trigger of a movable tenancy checks this for every role."""
    after = state.copy()
    after.writable(name)[after.key_of(name, old)] = dict(new)
    workspace = after.workspace_of(name, new)
    for other_name, facts in after.facts.items():
        for ref in facts.references:
            if not ref.same_workspace:
                continue
            for row in after.table(other_name).values():
                if row.get(ref.column) is None:
                    continue
                related = other_name == name and row is after.table(name)[after.key_of(name, old)]
                related = related or (facts.parent is not None and facts.parent.target == name
                                      and row.get(facts.parent.column) == new.get(facts.parent.target_column))
                related = related or (ref.target == name and row.get(ref.column) == new.get(ref.target_column))
                if not related:
                    continue
                target = after.find(ref.target, ref.target_column, row.get(ref.column))
                if target is not None and after.workspace_of(other_name, row) == workspace \
                        and after.workspace_of(ref.target, target) != workspace:
                    return True
    return False


def tie_enforced_by_policy(ref: Reference) -> bool:
    """Whether the same-workspace tie of ``ref`` lives in the policies' WITH CHECK (so
    service_role, which bypasses RLS, is not held to it) rather than in a constraint: a
    table's references to its own rows are held by a composite foreign key, for everyone,
    and fail as foreign keys do (23503), after the policies."""
    return not ref.enforced


class AccessModel:
    """The intent's rights, applied to the world's tables with PostgreSQL's rules."""

    def __init__(self, world: World, intent: Intent):
        self.world = world
        self.intent = intent
        self.facts = world.facts
        self.member_kinds = frozenset(k for k in intent.kinds if k not in ("anon", "service_role"))

    # -- who may ------------------------------------------------------------------------------
    def allowed(self, table: model.Name, command: str) -> frozenset[str]:
        return self.intent.allowed(table.name, command)

    def granted(self, persona: Persona, table: model.Name, privilege: str) -> bool:
        """Whether the persona's database role holds ``privilege`` on the table."""
        if privilege == "truncate":
            return False
        allowed = self.allowed(table, privilege) | self.intent.owns(table.name, privilege)
        if persona.db_role == "authenticated":  # (a personal row's user is any signed-in user)
            return bool(allowed & self.member_kinds) or privilege in self.facts[table].personal
        return persona.db_role in allowed

    def passes(self, persona: Persona, table: model.Name, command: str, workspace: str | None,
               row: Mapping, state: State | None = None) -> bool:
        """Whether ``command``'s policy admits ``row`` (of ``workspace``) for this persona: its
        kind may act on every row there, or (``own``) on the rows naming its user."""
        if persona.db_role == "service_role":
            return True
        facts = self.facts[table]
        if facts.per_user:
            if persona.user_id is None:
                return False
            workspace = WORKSPACES[0]  # a user's rights on a per-user table do not depend on workspaces
        elif workspace is None:  # a personal row is its user's alone, for the commands the spec gives
            if self.open_to_all(persona, table, command):
                return True
            return command in facts.personal and persona.user_id is not None \
                and row.get(facts.user) == str(persona.user_id)
        kind = persona.kind_in(workspace)
        if kind in self.allowed(table, command):
            return True
        if kind not in self.intent.owns(table.name, command):
            return False
        user = row.get(facts.user) if facts.user is not None else state.user_of(table, row) if state else None
        return user is not None and user == str(persona.user_id)

    def open_to_all(self, persona: Persona, table: model.Name, command: str) -> bool:
        """Whether ``command`` is open to everyone of the persona's role, member or not (a
        `signed_in` or `anyone` level): then it reaches rows of no workspace too."""
        allowed = self.allowed(table, command)
        if persona.db_role == "anon":
            return "anon" in allowed
        return {"outsider", "other_member"} <= allowed

    def ties_hold(self, state: State, persona: Persona, name: model.Name, values: Mapping) -> bool:
        """Every same-workspace reference of the row points into the row's own workspace."""
        facts = self.facts[name]
        workspace = state.workspace_of(name, values)
        for ref in facts.references:
            if not ref.same_workspace:
                continue
            if not tie_enforced_by_policy(ref):
                continue  # a constraint: see _constraint_errors
            if persona.db_role == "service_role":
                continue
            if values.get(ref.column) is None:
                if ref.not_null:  # no `is null or` escape: the check meets NULL before NOT NULL does
                    return False
                continue
            target = state.find(ref.target, ref.target_column, values.get(ref.column))
            if target is None or state.workspace_of(ref.target, target) != workspace:
                return False
        return True

    def new_row_error(self, state: State, persona: Persona, name: model.Name, command: str,
                      values: Mapping, reads: bool) -> str | None:
        """The WITH CHECK of ``command`` (and the SELECT policy when the statement reads)."""
        workspace = state.workspace_of(name, values)
        if not self.passes(persona, name, command, workspace, values, state):
            return POLICY
        if reads and not self.passes(persona, name, "select", workspace, values, state):
            return POLICY
        if not self.ties_hold(state, persona, name, values):
            return POLICY
        return None

    def changed_row_error(self, state: State, persona: Persona, name: model.Name, old: Mapping, new: Mapping,
                          reads: bool) -> str | None:
        """Why one row's update from ``old`` to ``new`` fails: a change of workspace the guard
        refuses or the recheck finds breaking a tie, then the new row's policies."""
        facts = self.facts[name]
        if state.workspace_of(name, new) != state.workspace_of(name, old):
            if refused := tenant_change_error(facts):
                return refused
            if facts.rechecked and move_breaks(state, name, old, new):
                return TENANT_MOVE_REFUSED
        return self.new_row_error(state, persona, name, "update", new, reads)

    # -- what happens -------------------------------------------------------------------------
    def predict(self, state: State, request: Request) -> Outcome:
        handler = getattr(self, f"_{request.command}")
        return handler(state, request)

    def _privileges(self, request: Request) -> str | None:
        needed = {"select": ["select"], "insert": ["insert"], "update": ["update"],
                  "delete": ["delete"], "upsert": ["insert", "update", "select"],
                  "truncate": ["truncate"]}[request.command]
        if request.reads and "select" not in needed:
            needed.append("select")
        if not all(self.granted(request.persona, request.table, p) for p in needed):
            return PRIVILEGE
        return None

    def _candidates(self, state: State, request: Request) -> dict[Key, dict]:
        rows = state.table(request.table)
        if request.keys is None:
            return dict(rows)
        return {k: rows[k] for k in request.keys if k in rows}

    def _targets(self, state: State, request: Request) -> dict[Key, dict]:
        """The rows an UPDATE or DELETE acts on: its USING admits them, and SELECT's too when
        the statement reads a column. The others are filtered out, not refused."""
        persona, name = request.persona, request.table
        return {key: old for key, old in self._candidates(state, request).items()
                if self.passes(persona, name, request.command, state.workspace_of(name, old), old, state)
                and (not request.reads or self.passes(persona, name, "select", state.workspace_of(name, old), old,
                                                      state))}

    def _select(self, state: State, request: Request) -> Outcome:
        if error := self._privileges(request):
            return Outcome(frozenset({error}))
        visible = frozenset(k for k, v in self._candidates(state, request).items()
                            if self.passes(request.persona, request.table, "select",
                                           state.workspace_of(request.table, v), v, state))
        return Outcome(rows=len(visible), visible=visible)

    def _truncate(self, state: State, request: Request) -> Outcome:
        return Outcome(frozenset({PRIVILEGE}))

    def _insert(self, state: State, request: Request) -> Outcome:
        if error := self._privileges(request):
            return Outcome(frozenset({error}))
        values = state.derive(request.table, dict(request.values))
        if error := self.new_row_error(state, request.persona, request.table, "insert", values, reads=False):
            return Outcome(frozenset({error}))
        after = state.copy()
        key = after.key_of(request.table, values)
        errors = self._constraint_errors(after, request.table, {key: values}, inserted=True)
        if errors:
            return Outcome(frozenset(errors))
        after.writable(request.table)[key] = values
        written = frozenset({(request.table, key)})
        return Outcome(rows=1, touched=written, changed=written, after=after)

    def _update(self, state: State, request: Request) -> Outcome:
        if error := self._privileges(request):
            return Outcome(frozenset({error}))
        persona, name = request.persona, request.table
        errors = set()
        new_rows = {}
        for key, old in self._targets(state, request).items():
            new = state.derive(name, {**old, **request.values})
            if error := self.changed_row_error(state, persona, name, old, new, request.reads):
                errors.add(error)
                continue
            new_rows[key] = new
        if errors:
            # Rows are checked one by one in no promised order: a unique or foreign key
            # violation of a row that passes may come before another row's policy error.
            after = state.copy()
            for key in new_rows:
                del after.writable(name)[key]
            errors |= self._constraint_errors(after, name, {after.key_of(name, v): v for v in new_rows.values()},
                                              inserted=False)
            return Outcome(frozenset(errors))
        return self._apply_updates(state, name, new_rows)

    def _apply_updates(self, state: State, name: model.Name, new_rows: dict[Key, dict]) -> Outcome:
        after = state.copy()
        table = after.writable(name)
        changed = frozenset((name, after.key_of(name, new)) for key, new in new_rows.items() if new != table[key])
        for key in new_rows:
            del table[key]
        rekeyed = {after.key_of(name, new): new for new in new_rows.values()}
        if len(rekeyed) < len(new_rows):
            return Outcome(frozenset({UNIQUE}))  # two rows given one primary key
        errors = self._constraint_errors(after, name, rekeyed, inserted=False)
        if errors:
            return Outcome(frozenset(errors))
        table.update(rekeyed)
        touched = frozenset((name, k) for k in rekeyed)
        return Outcome(rows=len(new_rows), touched=touched, changed=changed, after=after)

    def _delete(self, state: State, request: Request) -> Outcome:
        if error := self._privileges(request):
            return Outcome(frozenset({error}))
        name = request.table
        targets = list(self._targets(state, request))
        after = state.copy()
        errors, touched = delete_rows(after, name, targets)
        if errors:
            return Outcome(frozenset(errors))
        return Outcome(rows=len(targets), touched=frozenset(touched), changed=frozenset(touched), after=after)

    def _upsert(self, state: State, request: Request) -> Outcome:
        if error := self._privileges(request):
            return Outcome(frozenset({error}))
        persona, name = request.persona, request.table
        proposed = state.derive(name, dict(request.values))
        if error := self.new_row_error(state, persona, name, "insert", proposed, reads=True):
            return Outcome(frozenset({error}))
        key = state.key_of(name, proposed)
        existing = state.table(name).get(key)
        if existing is None:
            return self._insert(state, Request(persona, name, "insert", values=proposed))
        workspace = state.workspace_of(name, existing)
        # The conflicting row must pass UPDATE USING and SELECT: as errors, not as filters.
        if not (self.passes(persona, name, "update", workspace, existing, state)
                and self.passes(persona, name, "select", workspace, existing, state)):
            return Outcome(frozenset({POLICY}))
        new = state.derive(name, {**existing, **{c: proposed.get(c) for c in request.upsert_set}})
        if error := self.changed_row_error(state, persona, name, existing, new, reads=True):
            return Outcome(frozenset({error}))
        return self._apply_updates(state, name, {key: new})

    # -- constraints --------------------------------------------------------------------------
    def _constraint_errors(self, after: State, name: model.Name, new_rows: dict[Key, dict],
                           inserted: bool) -> set[str]:
        """Unique keys and foreign keys of rows about to be written into ``after``."""
        facts = self.facts[name]
        errors = set()
        existing = list(after.table(name).values())
        written = list(new_rows.values())
        for unique in facts.unique_keys:
            seen = set()
            for row in existing + written:
                value = tuple(row.get(c) for c in unique.columns)
                if any(v is None for v in value) or not unique.covers(row):
                    continue  # (a partial unique index holds only where its predicate does)
                if value in seen:
                    errors.add(UNIQUE)
                seen.add(value)
        for row in written:
            if any(column in row and row[column] is None for column in facts.not_null) or (
                    inserted and any(column not in row for column in facts.required)):
                errors.add(NOT_NULL)
            for ref in facts.references:
                value = row.get(ref.column)
                if value is None:
                    continue
                if ref.target == name and value == row.get(ref.target_column):
                    continue
                target = after.find(ref.target, ref.target_column, value) or next(
                    (r for r in written if ref.target == name and r.get(ref.target_column) == value), None)
                if target is None:
                    errors.add(FOREIGN_KEY)
                elif ref.enforced and after.workspace_of(ref.target, target) != after.workspace_of(name, row):
                    errors.add(FOREIGN_KEY)  # the composite key through the workspace column
        return errors


def delete_rows(state: State, name: model.Name, keys: list[Key]) -> tuple[set[str], set[RowRef]]:
    """Delete rows and carry out every ON DELETE action of the spec'd tables' references;
    return the errors (restrict, no action, set null on a not-null column) and what changed."""
    touched: set[RowRef] = set()
    queue = [(name, key) for key in keys]
    deleted: list[tuple[model.Name, dict]] = []
    while queue:
        table, key = queue.pop()
        row = state.writable(table).pop(key, None)
        if row is None:
            continue
        touched.add((table, key))
        deleted.append((table, row))
        for child in state.facts.values():
            for ref in child.references:
                if ref.target != table or (ref.on_delete or "no action") not in ("cascade", "set null"):
                    continue
                for child_key, child_row in list(state.table(child.name).items()):
                    if child_row.get(ref.column) != row.get(ref.target_column) or child_row.get(ref.column) is None:
                        continue
                    if ref.on_delete == "cascade":
                        queue.append((child.name, child_key))
                    else:
                        if ref.not_null:
                            return {NOT_NULL}, touched
                        state.writable(child.name)[child_key][ref.column] = None
                        touched.add((child.name, child_key))
    for table, row in deleted:
        for child in state.facts.values():
            for ref in child.references:
                if ref.target == table and (ref.on_delete or "no action") in ("restrict", "no action"):
                    if state.find(child.name, ref.column, row.get(ref.target_column)) is not None:
                        return {RESTRICT if ref.on_delete == "restrict" else FOREIGN_KEY}, touched
    return set(), touched
