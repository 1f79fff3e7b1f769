"""Random sequences of requests over every spec'd table and every persona (two-workspace
users included), each checked against the access model as it goes.

Each example is one transaction on the probe connection, the identity switched per request
as PostgREST does, rolled back at the end. A request's outcome must match the model's
(error surface, rows affected, rows visible); at the end, the rows of every spec'd table
must be the rows the model holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantspec.testing.expectations import AccessModel, Request
from tenantspec.testing.impersonate import (
    Impersonator,
    attempt_as,
    counts_writes,
    settle_write_counts,
)
from tenantspec.testing.personas import WORKSPACES
from tenantspec.testing.probes import spec_rows, statement_for
from tenantspec.testing.requests import RequestMaker
from tenantspec.testing.state import State
from tenantspec.testing.values import COMPARABLE, canonical, family
from tenantspec.testing.world import World

KINDS = ("select", "select_workspace", "insert", "insert_elsewhere", "update", "update_all", "delete",
         "delete_all", "upsert", "move", "move_all", "repoint", "repoint_all")


@dataclass(frozen=True)
class Op:
    """One drawn request: ``a`` and ``b`` pick rows, workspaces and references."""

    kind: str
    persona: str
    table: str
    a: int = 0
    b: int = 0

    def __repr__(self) -> str:
        return f"Op({self.kind} {self.table} by {self.persona}, a={self.a}, b={self.b})"


def build_request(world: World, make: RequestMaker, state: State, op: Op) -> Request | None:
    """The request ``op`` stands for in ``state``; None when it has nothing to act on."""
    facts = next(f for f in world.spec_tables if f.label == op.table)
    persona = world.persona(op.persona)
    name = facts.name
    rows = sorted(state.table(name).items(), key=lambda kv: str(kv[0]))
    ws, other = WORKSPACES[op.a % 2], WORKSPACES[op.b % 2]
    row = rows[op.a % len(rows)] if rows else None
    ties = facts.ties
    tie = ties[op.b % len(ties)] if ties else None
    if op.kind == "select":
        return Request(persona, name, "select", what="select every row")
    if op.kind == "select_workspace":
        keys = tuple(k for k, v in rows if state.workspace_of(name, v) == ws)
        return Request(persona, name, "select", keys=keys, what=f"select {ws}'s rows")
    if op.kind == "insert":
        return Request(persona, name, "insert", values=make.new_row(state, facts, ws), what=f"insert into {ws}")
    if op.kind == "insert_elsewhere":
        if tie is None or not make.targets(state, tie, other):
            return None
        return Request(persona, name, "insert", values=make.new_row(state, facts, ws, point={tie.column: other}),
                       what=f"insert into {ws} with {tie.column} at {other}")
    if op.kind == "update_all":
        if not facts.payload:
            return None
        return Request(persona, name, "update", values=make.payload_for_all(state, facts), what="update every row")
    if op.kind == "delete_all":
        return Request(persona, name, "delete", what="delete every row")
    if op.kind == "move_all":
        moved = make.relocate(state, facts, row[1], other) if row else {}
        if not moved:
            return None
        return Request(persona, name, "update", values=moved, what=f"move every row to {other}")
    if op.kind == "repoint_all":
        targets = make.targets(state, tie, other) if tie else []
        if not targets:
            return None
        return Request(persona, name, "update", values={tie.column: targets[op.a % len(targets)]},
                       what=f"point every row's {tie.column} at {other}")
    if row is None:
        return None
    key, values = row
    change = make.payload(facts, values.get(facts.payload)) or {c: values.get(c) for c in facts.key}
    if op.kind == "update":
        return Request(persona, name, "update", keys=(key,), values=change, what="update a row by id")
    if op.kind == "delete":
        return Request(persona, name, "delete", keys=(key,), what="delete a row by id")
    if op.kind == "upsert":
        return Request(persona, name, "upsert", values={**values, **change}, upsert_set=tuple(change),
                       what="upsert a row")
    if op.kind == "move":
        moved = make.relocate(state, facts, values, other)
        if not moved:
            return None
        return Request(persona, name, "update", keys=(key,), values=moved, what=f"move a row to {other}")
    if op.kind == "repoint":
        targets = make.targets(state, tie, other) if tie else []
        if not targets:
            return None
        return Request(persona, name, "update", keys=(key,), values={tie.column: targets[op.a % len(targets)]},
                       what=f"point a row's {tie.column} at {other}")
    raise ValueError(op.kind)


def check_random_requests(impersonate: Impersonator, world: World, access: AccessModel, examples: int) -> None:
    conn = impersonate.conn
    make = RequestMaker(world)
    tables = [f.label for f in world.spec_tables]
    executed = {"examples": 0, "requests": 0}
    # What the database holds before each sequence (each is rolled back): a table the sequence
    # did not write still holds it at the end.
    seeded = spec_rows(conn, world)
    written_only = counts_writes(conn)
    conn.rollback()
    ops = st.builds(Op, kind=st.sampled_from(KINDS), persona=st.sampled_from(sorted(world.personas)),
                    table=st.sampled_from(tables), a=st.integers(0, 40), b=st.integers(0, 40))

    @settings(max_examples=examples, deadline=None, database=None, report_multiple_bugs=False,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(sequence=st.lists(ops, min_size=2, max_size=25))
    def run(sequence: list[Op]) -> None:
        state = State(world)
        executed["examples"] += 1
        conn.rollback()
        log: list[str] = []
        try:
            _run_sequence(sequence, state, log)
        except AssertionError as error:
            steps = "\n".join(f"  {line}" for line in log)
            raise AssertionError(f"{error}\n\nThe sequence, request by request (persona, table, request -> "
                                 f"what the database answered):\n{steps}") from None
        finally:
            if written_only:
                settle_write_counts(conn)  # the next sequence's counts are its own
            else:
                conn.rollback()

    def _run_sequence(sequence: list[Op], state: State, log: list[str]) -> None:
        for step, op in enumerate(sequence, start=1):
            request = build_request(world, make, state, op)
            if request is None:
                continue
            expected = access.predict(state, request)
            facts = world.facts[request.table]
            statement, params = statement_for(facts, request)
            result = attempt_as(conn, request.persona.db_role, request.persona.claims(), statement, params)
            executed["requests"] += 1
            log.append(f"{step}. {request.persona.name} on {op.table}: {request.what} -> {result.describe()}"
                       + (f" {result.message}" if result.failed else ""))
            where = f"step {step}, {op!r} ({request.what})"
            if expected.failed or result.failed:
                if result.surface not in expected.errors:
                    raise AssertionError(f"{where}: the database answered {result.describe()} {result.message}, "
                                         f"the access model expects {expected.describe()}")
                continue
            if result.rowcount != expected.rows:
                raise AssertionError(f"{where}: {result.rowcount} rows, the access model expects {expected.rows}")
            if expected.visible is not None:
                seen = frozenset(tuple(canonical(v) for v in r) for r in result.rows)
                if seen != expected.visible:
                    raise AssertionError(f"{where}: the database shows {len(seen)} rows, "
                                         f"the model {len(expected.visible)}")
            if expected.after is not None:
                state = expected.after
        _assert_same_rows(conn, world, state, seeded, written_only)

    failure = None
    try:
        run()
    except AssertionError as error:  # the shrunk sequence, told as requests, not as a traceback
        failure = str(error)
    if failure is not None:
        import pytest

        pytest.fail(f"a random sequence of requests differs from the access model: {failure}", pytrace=False)
    assert executed["examples"] >= examples and executed["requests"] > examples


def _assert_same_rows(conn, world: World, state: State, seeded: Mapping, written_only: bool) -> None:
    """The database holds the rows ``state`` predicts, in every table. Only the tables the
    transaction wrote are read again (all of them where the server does not count writes): the
    others hold what they held before the sequence."""
    rows = {**seeded, **spec_rows(conn, world, written_only)}
    for facts in world.spec_tables:
        actual = rows[facts.name]
        expected = state.table(facts.name)
        if set(actual) != set(expected):
            raise AssertionError(
                f"at the end, {facts.name}: the database holds {len(actual)} rows, the model {len(expected)}; "
                f"extra {sorted(map(str, set(actual) - set(expected)))}, "
                f"missing {sorted(map(str, set(expected) - set(actual)))}")
        for key, values in expected.items():
            for column, value in values.items():
                if family(facts.columns[column]) in COMPARABLE:
                    got = canonical(actual[key].get(column))
                    if got != value:
                        raise AssertionError(f"at the end, {facts.name} {key}: {column} is {got!r}, "
                                             f"the model says {value!r}")
