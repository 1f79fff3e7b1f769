"""Probes: every spec'd table x request kind x persona (planned in ``requests``), run as
PostgREST would run them and compared with what the access model expects, surface included.
Every probe is one rolled-back request on one clone of the template database.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from tenantspec.spec import model
from tenantspec.testing.expectations import Request
from tenantspec.testing.impersonate import (
    Attempt,
    Impersonator,
    attempt,
    counts_writes,
    tables_snapshot,
)
from tenantspec.testing.requests import Probe
from tenantspec.testing.seeding import insert_statement, typed_placeholder
from tenantspec.testing.state import RowRef
from tenantspec.testing.tables import TableFacts
from tenantspec.testing.values import COMPARABLE, canonical, family
from tenantspec.testing.world import World

# -- statements --------------------------------------------------------------------------------

def _where(facts: TableFacts, keys: tuple[tuple, ...]) -> tuple[sql.Composable, list]:
    """``where (k1, k2) in ((..), (..))`` naming rows by primary key."""
    columns = sql.SQL(", ").join(map(sql.Identifier, facts.key))
    row = sql.SQL("({})").format(sql.SQL(", ").join(typed_placeholder(facts, c) for c in facts.key))
    if not keys:
        return sql.SQL(" where false"), []
    listed = sql.SQL(", ").join([row] * len(keys))
    return sql.SQL(" where ({}) in ({})").format(columns, listed), [v for key in keys for v in key]


def statement_for(facts: TableFacts, request: Request) -> tuple[sql.Composable, list]:
    """The SQL a request runs, with its parameters (values as text, cast to their types)."""
    table = sql.Identifier(facts.name.schema, facts.name.name)
    where, where_params = (sql.SQL(""), []) if request.keys is None else _where(facts, request.keys)
    if request.command == "select":
        columns = sql.SQL(", ").join(map(sql.Identifier, facts.key))
        return sql.SQL("select {} from {}").format(columns, table) + where, where_params
    if request.command == "truncate":
        return sql.SQL("truncate table {}").format(table), []
    if request.command == "delete":
        return sql.SQL("delete from {}").format(table) + where, where_params
    if request.command == "update":
        sets = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), typed_placeholder(facts, c))
                                  for c in request.values)
        return sql.SQL("update {} set {}").format(table, sets) + where, list(request.values.values()) + where_params
    statement, params = insert_statement(facts, request.values)
    if request.command == "upsert":
        statement += sql.SQL(" on conflict ({}) do update set {}").format(
            sql.SQL(", ").join(map(sql.Identifier, facts.key)),
            sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in request.upsert_set))
    return statement, params


# -- running and judging -----------------------------------------------------------------------

@dataclass(frozen=True)
class Observation:
    """What one probe did on the database."""

    attempt: Attempt
    visible: frozenset | None = None
    touched: frozenset[RowRef] = frozenset()
    wrong_values: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.attempt.failed:
            return self.attempt.surface
        if self.visible is not None:
            n = len(self.visible)
            return f"{n} row{'s' if n != 1 else ''} visible"
        return self.attempt.describe()


@dataclass
class ProbeRun:
    """Every probe of one regime, what it did, and how long it took."""

    regime: str
    results: list[tuple[Probe, Observation]] = field(default_factory=list)
    seconds: float = 0.0
    access: str = ""  # the database's access fingerprint
    same_as: str | None = None  # the regime whose run, on a database of equal access, stands for this one

    def mismatches(self) -> list[tuple[Probe, Observation, str]]:
        found = []
        for probe, observed in self.results:
            if problem := judge(probe, observed):
                found.append((probe, observed, problem))
        return found


def run_probes(impersonate: Impersonator, world: World, probes: list[Probe], regime: str) -> ProbeRun:
    """Run every probe as its persona, each in its own rolled-back request. After a write, only
    the tables it wrote are read again (all of them where the server does not count writes)."""
    started = time.perf_counter()
    with impersonate.as_service_role() as conn:
        before = spec_rows(conn, world)
        written_only = counts_writes(conn)
    run = ProbeRun(regime)
    wrote = False  # whether the previous request wrote (or tried to): its counts settle first
    with impersonate.requests() as request_as:
        for probe in probes:
            request = probe.request
            facts = world.facts[request.table]
            statement, params = statement_for(facts, request)
            conn = request_as(request.persona, settle=wrote and written_only)
            wrote = request.command != "select"
            result = attempt(conn, statement, params, savepoint=False)
            after = None
            if not result.failed and request.command != "select" and result.rowcount:
                after = {**before, **spec_rows(conn, world, written_only)}
            run.results.append((probe, _observe(world, probe, result, before, after)))
    run.seconds = time.perf_counter() - started
    return run


def spec_rows(conn: psycopg.Connection, world: World,
              written_only: bool = False) -> dict[model.Name, dict[tuple, dict]]:
    """The spec'd tables' rows as the transaction sees them, by primary key (`rows_by_key`);
    with ``written_only``, those of the tables it wrote (`tables_snapshot`)."""
    return rows_by_key(world, tables_snapshot(conn, list(world.spec_table_named), written_only))


def rows_by_key(world: World, snapshot: Mapping[str, list]) -> dict[model.Name, dict[tuple, dict]]:
    """The snapshot's rows of each spec'd table it holds, by primary key (canonical values)."""
    rows = {}
    for name, table in snapshot.items():
        facts = world.spec_table_named[name]
        rows[facts.name] = {tuple(canonical(r.get(c)) for c in facts.key): r for r in table}
    return rows


def _observe(world: World, probe: Probe, result: Attempt, before, after) -> Observation:
    request = probe.request
    if result.failed:
        return Observation(result)
    if request.command == "select":
        return Observation(result, visible=frozenset(tuple(canonical(v) for v in row) for row in result.rows))
    if after is None:
        return Observation(result)
    touched = set()
    for name, rows in after.items():
        old = before[name]
        if rows is old:
            continue
        touched |= {(name, k) for k in rows.keys() ^ old.keys()}
        touched |= {(name, k) for k in rows.keys() & old.keys() if rows[k] != old[k]}
    spec = world.facts[request.table].spec
    if spec is not None and spec.triggers:
        # The table's own triggers may write other tables (a counter, a feed): what the access
        # model cannot know is not judged; the request's table and what it predicts are.
        judged = {request.table} | {name for name, _ in probe.expected.touched}
        touched = {(name, key) for name, key in touched if name in judged}
    wrong = []
    expected_after = probe.expected.after
    if expected_after is not None:
        for name, key in sorted(touched & set(probe.expected.touched), key=str):
            want = expected_after.table(name).get(key)
            got = after[name].get(key)
            if want is None or got is None:
                continue
            for column, value in want.items():
                if family(world.facts[name].columns.get(column, "")) in COMPARABLE and canonical(got.get(column)) != value:
                    wrong.append(f"{name.name}.{column} of {key[0]}: {canonical(got.get(column))!r}, expected {value!r}")
    return Observation(result, touched=frozenset(touched), wrong_values=tuple(wrong))


def judge(probe: Probe, observed: Observation) -> str | None:
    """Why the observation differs from the expectation, or None."""
    expected = probe.expected
    result = observed.attempt
    if expected.failed or result.failed:
        if result.surface in expected.errors:
            return None
        return f"expected {expected.describe()}, got {observed.describe()}"
    if expected.visible is not None:
        if observed.visible != expected.visible:
            return f"expected {expected.describe()}, got {observed.describe()}"
        return None
    if result.rowcount != expected.rows:
        return f"expected {expected.describe()}, got {observed.describe()}"
    if not expected.changed <= observed.touched <= expected.touched:
        extra = sorted(str(k[1][0]) for k in observed.touched - expected.touched)
        missing = sorted(str(k[1][0]) for k in expected.changed - observed.touched)
        return (f"{observed.describe()} as expected, but the rows changed differ"
                + (f"; changed unexpectedly: {', '.join(extra)}" if extra else "")
                + (f"; left unchanged: {', '.join(missing)}" if missing else ""))
    if observed.wrong_values:
        return "; ".join(observed.wrong_values)
    return None


def verdict(probe: Probe, observed: Observation) -> str:
    """allowed / denied / partial, for the access matrix. A constraint's refusal (class 23: a
    unique key, a RESTRICT) comes after every privilege and policy check passed: access
    allowed. Any other error denies."""
    result = observed.attempt
    if result.failed:
        return "allowed" if _constraint_refusal(result) else "denied"
    if probe.request.command == "select":
        total = len(probe.request.keys or ())
        seen = len(observed.visible or ())
        return "allowed" if seen == total else "denied" if seen == 0 else "partial"
    return "allowed" if result.rowcount else "denied"


def _constraint_refusal(result: Attempt) -> bool:
    return (result.sqlstate or "").startswith("23")


def denial_surface(probe: Probe, observed: Observation) -> str | None:
    """How a denied basic probe showed: error code, 0 rows, or rows hidden."""
    result = observed.attempt
    command = probe.request.command
    side = "read" if command == "select" else "write"
    if result.failed:
        return None if _constraint_refusal(result) else f"{side} {result.surface}"
    if command == "select":
        return f"{side} rows hidden" if not observed.visible else None
    return f"{side} 0 rows" if not result.rowcount else None


def summarise_denials(runs: Iterable[ProbeRun]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for run in runs:
        for probe, observed in run.results:
            if probe.cell and (how := denial_surface(probe, observed)):
                counts[how] = counts.get(how, 0) + 1
    return dict(sorted(counts.items()))


def describe_probe(probe: Probe) -> str:
    request = probe.request
    return f"{request.table.name}: {request.persona.name}: {request.what}"


# Every ProbeRun of the session, for the terminal summary.
RUNS: list[ProbeRun] = []


def observed_matrix(run: ProbeRun, world: World) -> dict[tuple[str, str, str, str], tuple[str, str]]:
    """``(table, command, kind, workspace) -> (verdict, how)``, merging the personas of a kind.
    Where the basic probes act on rows of their own and of others', allowed on their own and
    denied on the others' is ``own``."""
    seen: dict[tuple, list[tuple[str, str, str, bool | None]]] = {}
    for probe, observed in run.results:
        if probe.cell:
            seen.setdefault(probe.cell, []).append((probe.request.persona.name, verdict(probe, observed),
                                                    observed.describe(), probe.mine))
    cells = {}
    for cell, entries in seen.items():
        verdicts = {v for _, v, _, _ in entries}
        mine = {v for _, v, _, m in entries if m is True}
        theirs = {v for _, v, _, m in entries if m is False}
        if len(verdicts) == 1:
            merged = verdicts.pop()
        elif mine == {"allowed"} and theirs == {"denied"}:
            merged = "own"
        else:
            merged = "partial"
        hows = sorted({how for _, _, how, _ in entries})
        how = hows[0] if len(hows) == 1 else "; ".join(
            f"{n}{'' if m is None else ' (own row)' if m else ' (other row)'}: {h}" for n, _, h, m in entries)
        cells[cell] = (merged, how)
    return cells
