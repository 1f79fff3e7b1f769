"""Timing one request the way PostgREST runs it, and summarising repeated timings.

A request is one transaction, as the test suite's Impersonator makes it: set the role and the
JWT claims with set_config(..., true), run the statement, roll back (so writes can repeat on
the same rows). The server time is EXPLAIN (ANALYZE)'s Execution Time, taken with per-node
timing off so clock calls do not inflate the row-heavy plans; the client wall time is a
separate request running the plain statement, from sending it to having fetched every row.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg

from tenantspec.testing.impersonate import Impersonator


@dataclass(frozen=True)
class Outcome:
    """What a plain request returned: a row count and a digest of the rows (or of the
    affected-row count for writes), compared across variants."""

    rows: int
    digest: str


class TimedOut(RuntimeError):
    """A request ran past the bench's statement timeout."""


@dataclass(frozen=True)
class Explained:
    execution_ms: float
    planning_ms: float
    plan: dict

    @property
    def top_rows(self) -> float:
        return self.plan["Plan"]["Actual Rows"]


def run_plain(
    api: Impersonator, role: str, claims: Mapping, statement: str
) -> tuple[float, Outcome]:
    """Run the statement as one request; return client wall milliseconds and the outcome."""
    with api.as_claims(role, claims) as conn:
        cur = conn.cursor()
        started = time.perf_counter()
        try:
            cur.execute(statement)
        except psycopg.errors.QueryCanceled as exc:
            raise TimedOut(str(exc)) from exc
        rows = cur.fetchall() if cur.description else None
        wall_ms = (time.perf_counter() - started) * 1000
    if rows is None:
        return wall_ms, Outcome(cur.rowcount, f"affected:{cur.rowcount}")
    digest = hashlib.sha256("\n".join(sorted(map(repr, rows))).encode()).hexdigest()
    return wall_ms, Outcome(len(rows), digest[:16])


def run_explain(api: Impersonator, role: str, claims: Mapping, statement: str) -> Explained:
    """EXPLAIN (ANALYZE) the statement as one request (rolled back, so writes repeat)."""
    with api.as_claims(role, claims) as conn:
        try:
            (document,) = conn.execute(
                f"explain (analyze, timing off, summary on, format json) {statement}"
            ).fetchone()
        except psycopg.errors.QueryCanceled as exc:
            raise TimedOut(str(exc)) from exc
    top = document[0]
    return Explained(top["Execution Time"], top["Planning Time"], top)


def explain_text(
    api: Impersonator, role: str, claims: Mapping, statement: str, *, analyze: bool = True
) -> str:
    """A readable plan with per-node timing and buffers, for the report (not timed); the
    plan alone (no ANALYZE) for a request that runs past the statement timeout."""
    options = "analyze, buffers, summary on" if analyze else "summary on"
    with api.as_claims(role, claims) as conn:
        try:
            lines = conn.execute(f"explain ({options}) {statement}").fetchall()
        except psycopg.errors.QueryCanceled as exc:
            raise TimedOut(str(exc)) from exc
    return "\n".join(line for (line,) in lines)


@dataclass(frozen=True)
class Spread:
    """Median and spread of a list of milliseconds."""

    median: float
    p25: float
    p75: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, samples: list[float]) -> "Spread":
        ordered = sorted(samples)
        if len(ordered) >= 2:
            p25, _, p75 = statistics.quantiles(ordered, n=4, method="inclusive")
        else:
            p25 = p75 = ordered[0]
        return cls(statistics.median(ordered), p25, p75, ordered[0], ordered[-1], len(ordered))

    @property
    def iqr(self) -> float:
        return self.p75 - self.p25


@dataclass
class Cell:
    """Every sample of one query under one variant."""

    query: str
    variant: str
    execution_ms: list[float] = field(default_factory=list)
    planning_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    outcome: Outcome | None = None
    statement: str = ""
    plan_text: str = ""
    timed_out: bool = False  # ran past the statement timeout: not timed further

    @property
    def planned_and_executed_ms(self) -> list[float]:
        """Planning plus execution time of each EXPLAIN sample."""
        return [p + e for p, e in zip(self.planning_ms, self.execution_ms)]

    @property
    def spent_ms(self) -> float:
        return sum(self.execution_ms) + sum(self.planning_ms) + sum(self.wall_ms)
