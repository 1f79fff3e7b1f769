"""Databases on a running stand-in server: created with Supabase's stand-in installed, copied
from a template, dropped, and SQL files applied to them as the migrating role."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

import psycopg
from psycopg import sql

from tenantspec.standin.migrate import MigrationError, apply_file
from tenantspec.standin.server import RunningServer
from tenantspec.standin.supabase import install_database_standin


def apply_sql_file(conn: psycopg.Connection, path: Path) -> None:
    """Run one SQL file in its own transaction, as the migrating role would; a failure says
    which file and line. Use `migrate.apply_migration` for a file with a history row."""
    with _autocommit(conn):
        apply_file(conn, path)


@contextlib.contextmanager
def _autocommit(conn: psycopg.Connection) -> Iterator[None]:
    was = conn.autocommit
    conn.autocommit = True
    try:
        yield
    finally:
        conn.autocommit = was


def copy_database(server: RunningServer, template: str, prefix: str = "tenantspec_t") -> str:
    """A new database copied from ``template``; returns its name."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with server.connect_admin(autocommit=True) as conn:
        # file_copy skips WAL-logging every block of a small database: faster clones.
        strategy = sql.SQL(" strategy file_copy" if conn.info.server_version >= 150000 else "")
        owner = conn.execute("select pg_get_userbyid(datdba) from pg_database where datname = %s",
                             (template,)).fetchone()[0]
        conn.execute(
            sql.SQL("create database {} template {}{} owner {}").format(
                sql.Identifier(name), sql.Identifier(template), strategy, sql.Identifier(owner)
            )
        )
        # A copy takes neither the template's owner nor its settings (the search_path with
        # extensions): both are given again.
        for (setting,) in conn.execute(
                "select unnest(s.setconfig) from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase"
                " where d.datname = %s and s.setrole = 0", (template,)).fetchall():
            key, _, value = setting.partition("=")
            conn.execute(sql.SQL("alter database {} set {} = {}").format(
                sql.Identifier(name), sql.Identifier(key), sql.SQL(value)))
    return name


@contextlib.contextmanager
def standin_database(server: RunningServer, regime: str, prefix: str, files: Iterable[Path] = ()) -> Iterator[str]:
    """A database holding Supabase's stand-in for ``regime`` and ``files``, applied in order:
    a template for ``copy_database``, dropped on exit."""
    name = f"{prefix}_{regime}_{secrets.token_hex(3)}"
    create_database(server, name)
    try:
        install_standin(server, name, regime)
        with server.connect_migrator(name, autocommit=True) as conn:
            for path in files:
                apply_file(conn, path)
        yield name
    finally:
        drop_database(server, name)


def install_standin(server: RunningServer, name: str, regime: str) -> None:
    """The Supabase stand-in in database ``name``, installed by the server's superuser."""
    with server.connect_admin(name, autocommit=True) as conn:
        try:
            install_database_standin(conn, regime, server.migrator_role)
        except psycopg.Error as exc:
            raise MigrationError(
                f"Installing the Supabase stand-in ({regime} privileges) as {conn.info.user!r} "
                f"failed: {exc}. It needs a superuser, or a Supabase database that has it already."
            ) from exc


def create_database(server: RunningServer, name: str) -> None:
    with server.connect_admin(autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def drop_database(server: RunningServer, name: str) -> None:
    with server.connect_admin(autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
