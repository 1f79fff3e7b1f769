"""A local Supabase-shaped database without Docker: the stand-in on a fresh embedded server,
the database half of ``supabase start`` (``tenantspec db start``), and a migrations folder
applied to it as ``supabase db push`` applies it (``tenantspec db apply``)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

from tenantspec.standin.databases import install_standin
from tenantspec.standin.migrate import Migration, apply_file, apply_folder
from tenantspec.standin.server import RunningServer, ServerConfig, start_server
from tenantspec.standin.supabase import install_roles

DATABASE = "postgres"  # the database a Supabase project's migrations go to


@contextlib.contextmanager
def standin_server(regime: str, tcp_port: int | None = None,
                   baseline: Path | None = None) -> Iterator[RunningServer]:
    """A new embedded server (``TENANTSPEC_PG_BIN`` picks other binaries) whose ``postgres``
    database holds the stand-in for ``regime``, then ``baseline`` applied by the migrating
    role; removed on exit."""
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TENANTSPEC_DB")}
    config = dataclasses.replace(ServerConfig.from_env(environ), tcp_port=tcp_port)
    with start_server(config) as server:
        with server.connect_admin(DATABASE, autocommit=True) as conn:
            install_roles(conn)
        install_standin(server, DATABASE, regime)
        if baseline is not None:
            with server.connect_migrator(DATABASE, autocommit=True) as conn:
                apply_file(conn, baseline)
        yield server


def apply_to(server: RunningServer, folder: Path, *, include_all: bool = False,
             report: Callable[[str], None] | None = None) -> list[Migration]:
    """Apply ``folder``'s pending migrations to the server's ``postgres`` database as the
    migrating role, file by file as the Supabase CLI does."""
    with server.connect_migrator(DATABASE, autocommit=True) as conn:
        return apply_folder(conn, folder, include_all=include_all, report=report)


def database_url(server: RunningServer, superuser: bool = False) -> str:
    """The TCP URL of the ``postgres`` database for the migrating role (or the superuser), as
    psql, an app's dev server or ``supabase db push --db-url`` take it."""
    if server.tcp is None:
        raise ValueError("the server does not listen on TCP")
    host, port = server.tcp
    params = server.admin if superuser else {**server.admin, **server.migrator}
    user, password = quote(params["user"], safe=""), quote(params["password"], safe="")
    return f"postgresql://{user}:{password}@{host}:{port}/{DATABASE}?sslmode=disable"

