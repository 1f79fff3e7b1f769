"""Run one statement inside a request and record what happened, without ending the request."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from generator.testing.impersonate import table_snapshot

TABLES = ("carrier_configs", "robot_jobs", "robot_job_items")


@dataclass(frozen=True)
class Attempt:
    """Outcome of one statement: the SQLSTATE if it failed, else rows affected/returned."""

    sqlstate: str | None
    rowcount: int
    rows: tuple = ()
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.sqlstate is not None

    def describe(self) -> str:
        if self.failed:
            return f"error {self.sqlstate}"
        return f"{self.rowcount} row{'s' if self.rowcount != 1 else ''}"


def attempt(conn: psycopg.Connection, statement, params=None) -> Attempt:
    """Run `statement` in a savepoint; an error rolls back to it and is recorded, not raised."""
    try:
        with conn.transaction():
            cur = conn.execute(statement, params)
            rows = tuple(cur.fetchall()) if cur.description else ()
            return Attempt(None, cur.rowcount, rows)
    except psycopg.Error as exc:
        return Attempt(exc.sqlstate or "?", 0, (), exc.diag.message_primary or str(exc))


def all_tables_snapshot(conn: psycopg.Connection) -> dict[str, list]:
    return {table: table_snapshot(conn, table) for table in TABLES + ("orders", "workspaces")}


def assert_denied(conn: psycopg.Connection, statement, params=None, *, why: str) -> Attempt:
    """The statement must fail or affect no row, and leave every table as it was."""
    before = all_tables_snapshot(conn)
    result = attempt(conn, statement, params)
    after = all_tables_snapshot(conn)
    changed = [t for t in before if before[t] != after[t]]
    assert (result.failed or result.rowcount == 0) and not changed, (
        f"{why}: expected a denial, got {result.describe()}"
        + (f"; tables changed: {', '.join(changed)}" if changed else "")
    )
    return result


def assert_allowed(conn: psycopg.Connection, statement, params=None, *, why: str, rows: int = 1) -> Attempt:
    result = attempt(conn, statement, params)
    assert not result.failed and result.rowcount == rows, (
        f"{why}: expected {rows} row(s) affected, got {result.describe()} {result.message}"
    )
    return result
