"""Choosing the test server, and failing clearly (never skipping) when it cannot be had."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tenantspec.standin.databases import MigrationError, apply_sql_file
from tenantspec.standin.server import ServerConfig, ServerError, start_server
from tenantspec.standin.supabase import StandinError, regimes_from_env
from tenantspec.testing.database import MigrationSource

SOURCE_CASES = [
    ({}, "embedded", None),
    ({"DATABASE_URL": "postgresql://u:p@db.example:5432/postgres"}, "url", None),
    ({"TENANTSPEC_DB": "container"}, "container", None),
    ({"TENANTSPEC_DB": "container", "DATABASE_URL": "postgresql://x/y"}, "container", None),
    ({"TENANTSPEC_DB": "embedded", "DATABASE_URL": "postgresql://x/y"}, "embedded", None),
    ({"TENANTSPEC_PG_BIN": "/usr/lib/postgresql/15/bin"}, "embedded", Path("/usr/lib/postgresql/15/bin")),
]


@pytest.mark.parametrize("environ,source,pg_bin", SOURCE_CASES)
def test_server_source_from_environment(environ, source, pg_bin):
    config = ServerConfig.from_env(environ)
    assert (config.source, config.pg_bin) == (source, pg_bin)


def test_unknown_server_source_is_an_error():
    with pytest.raises(ServerError, match="TENANTSPEC_DB"):
        ServerConfig.from_env({"TENANTSPEC_DB": "docker"})


def test_container_without_docker_fails_with_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with pytest.raises(ServerError, match="needs a reachable Docker engine"):
        with start_server(ServerConfig(source="container")):
            pass


def test_pg_bin_without_postgres_fails_with_a_clear_message(tmp_path):
    with pytest.raises(ServerError, match="TENANTSPEC_PG_BIN"):
        with start_server(ServerConfig(pg_bin=tmp_path)):
            pass


def test_unreachable_database_url_fails_with_a_clear_message(tmp_path):
    config = ServerConfig(source="url", database_url=f"host={tmp_path} port=1 user=x dbname=y")
    with pytest.raises(ServerError, match="DATABASE_URL"):
        with start_server(config):
            pass


@pytest.mark.parametrize(
    "value,regimes",
    [(None, ("legacy", "2026")), ("both", ("legacy", "2026")), ("legacy", ("legacy",)), ("2026", ("2026",))],
)
def test_privilege_regimes_from_environment(value, regimes):
    environ = {} if value is None else {"TENANTSPEC_PRIVILEGES": value}
    assert regimes_from_env(environ) == regimes


def test_unknown_privilege_regime_is_an_error():
    with pytest.raises(StandinError, match="legacy, 2026 or both"):
        regimes_from_env({"TENANTSPEC_PRIVILEGES": "2025"})


def test_missing_migrations_folder_is_an_error(tmp_path):
    with pytest.raises(MigrationError, match="MIGRATIONS_DIR"):
        MigrationSource(baseline=None, migrations_dir=tmp_path / "nowhere").files()


def test_migrations_apply_in_file_name_order(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name in ("20260102_b.sql", "20260101_a.sql", "20260110_c.sql", "notes.txt"):
        (folder / name).write_text("select 1;")
    baseline = tmp_path / "baseline.sql"
    baseline.write_text("select 1;")
    files = MigrationSource(baseline=baseline, migrations_dir=folder).files()
    assert [f.name for f in files] == ["baseline.sql", "20260101_a.sql", "20260102_b.sql", "20260110_c.sql"]


def test_a_failing_migration_names_its_file_and_line(database, tmp_path):
    path = tmp_path / "20260101_broken.sql"
    path.write_text("create table public.fine (id int);\n\ncreate table public.broken (id nosuchtype);\n")
    with database.connect_admin(autocommit=True) as conn:
        with pytest.raises(MigrationError, match=r"20260101_broken\.sql:3: 42704"):
            apply_sql_file(conn, path)
        assert conn.execute("select to_regclass('public.fine')").fetchone()[0] is None, "the file was not atomic"


def test_a_server_that_cannot_start_stops_the_session_with_one_message(tmp_path):
    """Not one error per test: the first test that needs the server ends the session."""
    (tmp_path / "test_three.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize('n', range(3))\n"
        "def test_needs_a_database(database, n):\n"
        "    pass\n"
    )
    env = {**os.environ, "TENANTSPEC_DB": "container", "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.INTERRUPTED, output
    # once in the report (the one-line summary may repeat it, as wide as the terminal allows)
    assert output.split("short test summary info")[0].count("needs a reachable Docker engine") == 1, output
    assert "Interrupted: tenantspec: stopped the session at the first error above" in output
    assert re.search(r"^1 error in", output, re.M) and "Traceback" not in output, output
    # the same under pytest-xdist: each worker stops at its first test, no INTERNALERROR
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--rootdir", str(tmp_path),
         str(tmp_path)], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "needs a reachable Docker engine" in output and "INTERNALERROR" not in output, output
    assert "Interrupted: tenantspec: stopped the session at the first error above" in output
