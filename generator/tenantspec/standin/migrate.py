"""Migration files applied the way ``supabase db push`` applies them.

Facts of the Supabase CLI (2.117.0, watched applying files with ``--db-url``): only files named
``<version>_<name>.sql`` are migrations (others are skipped, with a message), in version
order; each file is split into statements and sent as one transaction together with its row
in ``supabase_migrations.schema_migrations(version, statements, name)``, so a file applies
whole or not at all; ``RESET ALL`` runs between files; ``CREATE INDEX CONCURRENTLY`` cannot
run in a transaction, so it is sent on its own after committing what came before it; a
version already recorded is never run again, and a file older than the newest recorded one
is refused unless ``--include-all``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from pglast.parser import split

from tenantspec.render.migrations import (
    VERSION,  # <version>_<name>.sql, the names the CLI applies
)

CONCURRENTLY = re.compile(r"^\s*(create\s+(unique\s+)?index|drop\s+index|reindex)\s+(\S+\s+)*?concurrently\b",
                          re.IGNORECASE)
# `create role x` / `create user x`: roles belong to the cluster, not to one database
CREATE_ROLE = re.compile(r'^\s*create\s+(?:role|user)\s+("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)', re.IGNORECASE)
HISTORY_TABLE = """
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (version text not null primary key);
alter table supabase_migrations.schema_migrations add column if not exists statements text[];
alter table supabase_migrations.schema_migrations add column if not exists name text;
"""
# Objects a statement uses must exist when it runs; a SQL function's body is checked when the
# function is created, as `supabase db push` leaves check_function_bodies on.
MISSING_OBJECT_HINT = (
    "\n  hint: every object must exist before the statement that uses it; note that a LANGUAGE sql "
    "function's body is checked when the function is created (check_function_bodies is on, as "
    "when `supabase db push` applies the file), so create such a function after the tables it reads."
)


class MigrationError(RuntimeError):
    """A baseline or migration file failed to apply: ``file:line: SQLSTATE message``."""


@dataclass(frozen=True)
class Migration:
    path: Path
    version: str
    name: str


@dataclass(frozen=True)
class Folder:
    """A migrations folder as the CLI reads it."""

    migrations: tuple[Migration, ...]
    skipped: tuple[Path, ...]  # *.sql files whose names are not <version>_<name>.sql


def read_folder(folder: Path) -> Folder:
    """The folder's migrations in the CLI's order (their file names'), and the files it would skip."""
    migrations, skipped = [], []
    for path in sorted(p for p in folder.glob("*.sql") if p.is_file()):
        match = VERSION.match(path.name)
        if match:
            migrations.append(Migration(path, match["version"], match["name"]))
        else:
            skipped.append(path)
    # by file name, as the CLI lists them: `202603010930_x` (12 digits) after `20260228175840_y`
    return Folder(tuple(migrations), tuple(skipped))


def statements_of(text: str) -> list[tuple[int, str]]:
    """``(offset, statement)`` of each statement of a file, split by PostgreSQL's own scanner
    (so syntax the parser does not know still splits), comments kept with what follows."""
    return [(part.start, text[part]) for part in split(text, with_parser=False, only_slices=True)]


def applied_versions(conn: psycopg.Connection) -> set[str]:
    if conn.execute("select to_regclass('supabase_migrations.schema_migrations')").fetchone()[0] is None:
        return set()
    return {row[0] for row in conn.execute("select version from supabase_migrations.schema_migrations")}


def pending(conn: psycopg.Connection, folder: Folder, include_all: bool = False) -> list[Migration]:
    """The migrations not yet recorded; refuses one older than the newest recorded, as the
    CLI does, unless ``include_all``."""
    done = applied_versions(conn)
    todo = [m for m in folder.migrations if m.version not in done]
    newest = max(done, default=None)  # versions compare as the CLI compares them: as text
    late = [m for m in todo if newest is not None and m.version < newest]
    if late and not include_all:
        raise MigrationError(
            f"{late[0].path}: version {late[0].version} is older than the newest applied migration "
            f"({newest}); apply it with --include-all, or give it a newer version")
    return todo


def apply_migration(conn: psycopg.Connection, migration: Migration, *,
                    platform_roles: Collection[str] | None = None) -> int:
    """Apply one file as the CLI does, with its history row; returns its statement count."""
    return apply_file(conn, migration.path, history=(migration.version, migration.name),
                      platform_roles=platform_roles)


def apply_file(conn: psycopg.Connection, path: Path, history: tuple[str, str] | None = None, *,
               platform_roles: Collection[str] | None = None) -> int:
    """Run one file's statements in one transaction (``CREATE INDEX CONCURRENTLY`` on its
    own), then record ``history`` (version, name) in the same transaction when given. The
    connection must be in autocommit mode. A failure names the file and line.

    ``platform_roles``, when the same migrations run in several databases of one server (a
    template per privilege regime): roles are the server's, so a ``create role`` of a role
    that exists and is none of these was made by the same statement in another database, and
    is skipped (on the platform a project's database is the only one its migrations run in)."""
    text = path.read_text()
    statements = statements_of(text)
    if platform_roles is not None:
        statements = [(offset, s) for offset, s in statements if not _made_elsewhere(conn, s, platform_roles)]
    conn.execute("reset all")
    if history is not None:
        conn.execute(HISTORY_TABLE)
    in_transaction = False
    offset = 0
    try:
        for offset, statement in statements:
            if CONCURRENTLY.match(_without_comments(statement)):
                if in_transaction:
                    conn.execute("commit")
                    in_transaction = False
                conn.execute(statement)
                continue
            if not in_transaction:
                conn.execute("begin")
                in_transaction = True
            conn.execute(statement)
            # a file's own COMMIT ends the transaction: what follows starts another
            in_transaction = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
        offset = len(text)
        if history is not None:
            if not in_transaction:
                conn.execute("begin")
                in_transaction = True
            conn.execute(
                "insert into supabase_migrations.schema_migrations (version, name, statements)"
                " values (%s, %s, %s)", (history[0], history[1], [s for _, s in statements]))
        if in_transaction:
            conn.execute("commit")
    except psycopg.Error as exc:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("rollback")
        raise MigrationError(_failure(path, text, offset, exc)) from exc
    return len(statements)


def apply_folder(conn: psycopg.Connection, folder: Path, *, include_all: bool = False,
                 report: Callable[[str], None] | None = None) -> list[Migration]:
    """Apply every pending migration of ``folder`` in version order; ``report`` hears one
    line per file (and one per file skipped)."""
    read = read_folder(folder)
    for path in read.skipped:
        if report:
            report(f"skipping {path.name}: not named <timestamp>_name.sql, as `supabase db push` skips it")
    todo = pending(conn, read, include_all)
    for migration in todo:
        count = apply_migration(conn, migration)
        if report:
            report(f"applied {migration.path.name} ({count} statement{'s' if count != 1 else ''})")
    return todo


def apply_files(conn: psycopg.Connection, paths: Iterable[Path]) -> None:
    """Files that are not migrations (a baseline), each in its own transaction, no history."""
    for path in paths:
        apply_file(conn, path)


def _made_elsewhere(conn: psycopg.Connection, statement: str, platform_roles: Collection[str]) -> bool:
    """Whether ``statement`` creates a role that exists already and is not the platform's."""
    match = CREATE_ROLE.match(_without_comments(statement))
    if match is None:
        return False
    name = match.group(1)
    name = name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()
    if name in platform_roles or name.startswith("pg_"):
        return False
    return conn.execute("select 1 from pg_roles where rolname = %s", (name,)).fetchone() is not None


def _without_comments(statement: str) -> str:
    return re.sub(r"^(\s*(--[^\n]*\n|/\*.*?\*/))*", "", statement, flags=re.DOTALL)


def _failure(path: Path, text: str, offset: int, exc: psycopg.Error) -> str:
    position = exc.diag.statement_position
    at = offset + (int(position) - 1 if position else 0)
    if not position:  # the statement's first line of SQL, past its leading comments
        statement = text[offset:]
        at = offset + len(statement) - len(_without_comments(statement).lstrip())
    line = text.count("\n", 0, at) + 1
    message = f"{path}:{line}: {exc.diag.sqlstate or ''} {exc.diag.message_primary or exc}".strip()
    if exc.diag.sqlstate in ("42P01", "42883", "3F000"):
        message += MISSING_OBJECT_HINT
    return message
