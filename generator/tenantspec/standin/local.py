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



def seed_files(supabase_dir: Path) -> list[Path]:
    """The seed files `supabase start` and `supabase db reset` run after the migrations:
    ``[db.seed] sql_paths`` of ``supabase/config.toml`` (globs relative to it; none when
    ``enabled = false``), else ``supabase/seed.sql`` when it exists."""
    import tomllib

    config = supabase_dir / "config.toml"
    patterns = ["./seed.sql"]
    if config.is_file():
        try:
            seed = tomllib.loads(config.read_text(encoding="utf-8")).get("db", {}).get("seed", {})
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{config}: {error}") from None
        if seed.get("enabled") is False:
            return []
        patterns = list(seed.get("sql_paths", patterns))
    found: list[Path] = []
    for pattern in patterns:
        matched = sorted(supabase_dir.glob(pattern.removeprefix("./")))
        found += [path for path in matched if path.is_file() and path not in found]
    return found


def apply_seeds(server: RunningServer, paths: list[Path], report: Callable[[str], None] | None = None) -> None:
    """Each seed file in one transaction as the migrating role, as the CLI runs them."""
    with server.connect_migrator(DATABASE, autocommit=True) as conn:
        for path in paths:
            count = apply_file(conn, path)
            if report:
                report(f"seeded {path.name} ({count} statement{'s' if count != 1 else ''})")


def run_pgtap(server: RunningServer, files: list[Path], shown: Callable[[Path], str]) -> list:
    """Every test file on its own connection as the migrating role, with pgTAP enabled in
    ``extensions`` first, as `supabase test db` does (it leaves an installed pgTAP alone)."""
    from tenantspec.standin.pgtap import ENABLE, run_file

    with server.connect_migrator(DATABASE, autocommit=True) as conn:
        conn.execute(ENABLE)
    runs = []
    for path in files:
        with server.connect_migrator(DATABASE, autocommit=True) as conn:
            runs.append(run_file(conn, path, shown(path)))
    return runs
