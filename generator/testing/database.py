"""Template database migrated once per session and per privilege regime, cloned per test.

The template gets, in order: the Supabase stand-in, the app's baseline SQL, the plugin's probe
schema (with a record of the catalog before the migrations, so checks can tell what the
migrations create), every ``*.sql`` file of the migrations folder in file-name order (one
transaction each), and the project's seed. Each test clones it with ``CREATE DATABASE …
TEMPLATE``.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from generator.testing.impersonate import Impersonator
from generator.testing.server import RunningServer
from generator.testing.structure import PREEXISTING_SQL
from generator.testing.supabase import ProbeLogin, install_database_standin

# Reads a table past RLS and grants, for checking that a denied request changed nothing.
PROBE_SCHEMA_SQL = """
create schema tenantspec_probe;
create function tenantspec_probe.snapshot(target regclass)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  result jsonb;
begin
  execute format(
    'select coalesce(jsonb_agg(to_jsonb(t) order by t::text), ''[]''::jsonb) from %s as t',
    target
  ) into result;
  return result;
end
$$;
revoke all on function tenantspec_probe.snapshot(regclass) from public;
"""


class MigrationError(RuntimeError):
    """A baseline or migration file failed to apply to the template database."""


@dataclass(frozen=True)
class MigrationSource:
    """What to apply on top of the Supabase stand-in."""

    baseline: Path | None
    migrations_dir: Path

    def files(self) -> list[Path]:
        """The baseline (when there is one), then every migration in file-name order."""
        return ([self.baseline] if self.baseline else []) + self.migration_files()

    def migration_files(self) -> list[Path]:
        if not self.migrations_dir.is_dir():
            raise MigrationError(
                f"Migrations folder {self.migrations_dir} does not exist. Set MIGRATIONS_DIR "
                "to a folder of *.sql files (default supabase/migrations)."
            )
        found = sorted(self.migrations_dir.glob("*.sql"), key=lambda p: p.name)
        if not found:
            raise MigrationError(f"No *.sql files in {self.migrations_dir} (MIGRATIONS_DIR).")
        if self.baseline is not None and not self.baseline.is_file():
            raise MigrationError(
                f"Baseline SQL {self.baseline} does not exist. Set TENANTSPEC_BASELINE (or the "
                "tenantspec_baseline ini option) to the SQL of the objects that predate the "
                "migrations, or to an empty string for none."
            )
        return found


@dataclass(frozen=True)
class TestDatabase:
    """A database on the session's server, and how to reach it as admin or as the API."""

    __test__ = False  # not a pytest test class

    server: RunningServer
    name: str
    regime: str
    probe: ProbeLogin

    def connect_admin(self, **kwargs) -> psycopg.Connection:
        """The migrating role (superuser on the embedded server): sees past RLS."""
        return self.server.connect_admin(self.name, **kwargs)

    def probe_conninfo(self) -> dict[str, str]:
        return self.server.conninfo(self.name, user=self.probe.role, password=self.probe.password)

    def connect_probe(self, **kwargs) -> psycopg.Connection:
        """A plain connection as the authenticator-shaped login."""
        return psycopg.connect(**self.probe_conninfo(), **kwargs)

    def impersonator(self) -> Impersonator:
        return Impersonator(self.probe_conninfo())


def apply_sql_file(conn: psycopg.Connection, path: Path) -> None:
    """Run one SQL file in its own transaction; on failure say which file and line."""
    text = path.read_text()
    try:
        with conn.transaction():
            conn.execute(text)
    except psycopg.Error as exc:
        position = exc.diag.statement_position
        where = str(path)
        if position:
            line = text.count("\n", 0, int(position) - 1) + 1
            where = f"{path}:{line}"
        message = f"{where}: {exc.diag.sqlstate or ''} {exc.diag.message_primary or exc}".strip()
        if exc.diag.sqlstate in ("42P01", "42883", "3F000"):
            message += (
                ". Every object must exist before the statement that uses it; note that a "
                "LANGUAGE sql function's body is checked when the function is created "
                "(check_function_bodies is on, as when `supabase db push` applies the file), "
                "so create such a function after the tables it reads."
            )
        raise MigrationError(message) from exc


def build_template(
    server: RunningServer,
    regime: str,
    source: MigrationSource,
    probe: ProbeLogin,
    seed: Callable[[psycopg.Connection], None] | None,
) -> TestDatabase:
    """Create and migrate the template database for one privilege regime."""
    source.files()  # fail before creating anything when a file is missing
    name = f"tenantspec_tpl_{regime}_{secrets.token_hex(3)}"
    create_database(server, name)
    try:
        with server.connect_admin(name, autocommit=True) as conn:
            try:
                install_database_standin(conn, regime)
            except psycopg.Error as exc:
                raise MigrationError(
                    f"Installing the Supabase stand-in ({regime} privileges) as "
                    f"{conn.info.user!r} failed: {exc}. The migrating role needs to create "
                    "schemas, functions and publications in a database it owns."
                ) from exc
            if source.baseline:
                apply_sql_file(conn, source.baseline)
            _install_probe_schema(conn, probe)
            for path in source.migration_files():
                apply_sql_file(conn, path)
            if seed is not None:
                try:
                    with conn.transaction():
                        seed(conn)
                except (psycopg.Error, ValueError) as exc:
                    raise MigrationError(
                        f"Seeding the template after {source.migrations_dir} failed: {exc}. The "
                        "seed writes the rows every test starts from; the migrations must create "
                        "the tables and columns the project defines."
                    ) from exc
    except BaseException:
        drop_database(server, name)  # never leave a half-built database behind
        raise
    return TestDatabase(server=server, name=name, regime=regime, probe=probe)


def _install_probe_schema(conn: psycopg.Connection, probe: ProbeLogin) -> None:
    with conn.transaction():
        conn.execute(PROBE_SCHEMA_SQL)
        conn.execute(PREEXISTING_SQL)
        ident = sql.Identifier(probe.role)
        conn.execute(sql.SQL("grant usage on schema tenantspec_probe to {}").format(ident))
        conn.execute(
            sql.SQL("grant execute on function tenantspec_probe.snapshot(regclass) to {}").format(
                ident
            )
        )


def clone_database(template: TestDatabase, prefix: str = "tenantspec_t") -> TestDatabase:
    """A fresh copy of the template for one test."""
    name = copy_database(template.server, template.name, prefix)
    return TestDatabase(
        server=template.server, name=name, regime=template.regime, probe=template.probe
    )


def copy_database(server: RunningServer, template: str, prefix: str = "tenantspec_t") -> str:
    """A new database copied from ``template``; returns its name."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with server.connect_admin(autocommit=True) as conn:
        # file_copy skips WAL-logging every block of a small database: faster clones.
        strategy = sql.SQL(" strategy file_copy" if conn.info.server_version >= 150000 else "")
        conn.execute(
            sql.SQL("create database {} template {}{}").format(
                sql.Identifier(name), sql.Identifier(template), strategy
            )
        )
    return name


@contextlib.contextmanager
def standin_database(server: RunningServer, regime: str, prefix: str, files: Iterable[Path] = ()) -> Iterator[str]:
    """A database holding Supabase's stand-in for ``regime`` and ``files``, applied in order:
    a template for ``copy_database``, dropped on exit."""
    name = f"{prefix}_{regime}_{secrets.token_hex(3)}"
    create_database(server, name)
    try:
        with server.connect_admin(name, autocommit=True) as conn:
            install_database_standin(conn, regime)
            for path in files:
                apply_sql_file(conn, path)
        yield name
    finally:
        drop_database(server, name)


def create_database(server: RunningServer, name: str) -> None:
    with server.connect_admin(autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def drop_database(server: RunningServer, name: str) -> None:
    with server.connect_admin(autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
