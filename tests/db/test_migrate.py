"""The applier does what `supabase db push` does with a folder, and `tenantspec db apply` and
`tenantspec db start` report it as a user reads it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from tenantspec.standin.databases import standin_database
from tenantspec.standin.migrate import MigrationError, apply_folder, statements_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh(tenantspec_server):
    server = tenantspec_server.server
    with standin_database(server, "2026", "tenantspec_migrate") as name:
        with server.connect_migrator(name, autocommit=True) as conn:
            yield conn


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def test_a_failing_file_leaves_nothing_of_itself_and_no_history_row(fresh, tmp_path):
    folder = tmp_path / "migrations"
    write(folder, "20240101000000_ok.sql", "create table public.a (id int primary key);\n")
    write(folder, "20240102000000_bad.sql", "create table public.b (id int);\n\ninsert into public.nope values (1);\n")
    with pytest.raises(MigrationError, match=r"20240102000000_bad\.sql:3: 42P01 relation \"public.nope\""):
        apply_folder(fresh, folder)
    assert fresh.execute("select to_regclass('public.a') is not null, to_regclass('public.b') is null").fetchone() \
        == (True, True)
    assert fresh.execute("select version from supabase_migrations.schema_migrations").fetchall() == [("20240101000000",)]


def test_concurrently_commits_what_came_before_it(fresh, tmp_path):
    """As the CLI sends it: outside the file's transaction, after committing the statements before."""
    folder = tmp_path / "migrations"
    write(folder, "20240101000000_mixed.sql",
          "create table public.a (id int primary key, v text);\n"
          "create index concurrently a_v_idx on public.a (v);\n"
          "select 1 / 0;\n")
    with pytest.raises(MigrationError, match=r":3: 22012 division by zero"):
        apply_folder(fresh, folder)
    assert fresh.execute("select to_regclass('public.a_v_idx') is not null").fetchone() == (True,)
    assert fresh.execute("select count(*) from supabase_migrations.schema_migrations").fetchone() == (0,)


def test_applied_versions_are_not_run_again_and_an_older_one_is_refused(fresh, tmp_path):
    folder = tmp_path / "migrations"
    write(folder, "20240105000000_first.sql", "create table public.a (id int);\n")
    assert [m.version for m in apply_folder(fresh, folder)] == ["20240105000000"]
    assert apply_folder(fresh, folder) == []
    write(folder, "20240101000000_older.sql", "create table public.b (id int);\n")
    with pytest.raises(MigrationError, match="older than the newest applied migration .*--include-all"):
        apply_folder(fresh, folder)
    assert [m.version for m in apply_folder(fresh, folder, include_all=True)] == ["20240101000000"]


def test_settings_do_not_leak_from_one_file_into_the_next(fresh, tmp_path):
    folder = tmp_path / "migrations"
    write(folder, "20240101000000_set.sql", "set search_path = nowhere;\n")
    write(folder, "20240102000000_use.sql", "create table a (id int);\n")  # public again: RESET ALL
    apply_folder(fresh, folder)
    assert fresh.execute("select to_regclass('public.a') is not null").fetchone() == (True,)


def test_statements_split_as_the_scanner_splits_them():
    text = "-- café\nselect 'é;';\ncreate function f() returns int language sql as $$ select 1; $$;\nselect 2"
    assert [s for _, s in statements_of(text)] == [
        "-- café\nselect 'é;'", "create function f() returns int language sql as $$ select 1; $$", "select 2"]
    assert [text[o:o + 6] for o, _ in statements_of(text)] == ["-- caf", "create", "select"]


def tenantspec(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tenantspec", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_db_apply_reports_each_file_and_fails_with_file_and_line(tmp_path):
    folder = tmp_path / "supabase" / "migrations"
    folder.mkdir(parents=True)
    write(folder, "20240101000000_notes.sql", "create table public.notes (id int primary key);\n")
    write(folder, "notes.sql", "select 1;\n")
    result = tenantspec("db", "apply", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "skipping notes.sql: not named <timestamp>_name.sql, as `supabase db push` skips it",
        "applied 20240101000000_notes.sql (1 statement)",
        f"1 migration(s) of {Path('supabase/migrations')} applied"]
    write(folder, "20240102000000_bad.sql", "\n-- a policy on a table that is not there\n"
                                            "create policy p on public.missing for select using (true);\n")
    result = tenantspec("db", "apply", "--privileges", "legacy", str(folder), cwd=tmp_path)
    assert result.returncode == 1
    assert f"{folder}/20240102000000_bad.sql:3: 42P01 relation \"public.missing\" does not exist" \
        in result.stderr.splitlines()
    assert "Traceback" not in result.stderr


def test_db_apply_names_a_missing_folder(tmp_path):
    result = tenantspec("db", "apply", "nowhere", cwd=tmp_path)
    assert result.returncode == 2
    assert "nowhere: no such folder" in result.stderr and "Traceback" not in result.stderr


def test_db_start_serves_the_migrated_database_until_interrupted(tmp_path):
    folder = tmp_path / "migrations"
    write(folder, "20240101000000_notes.sql", "create table public.notes (id int primary key);\n")
    process = subprocess.Popen([sys.executable, "-m", "tenantspec", "db", "start", str(folder)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = process.stdout.readline()
        assert line.startswith("DATABASE_URL=postgresql://postgres:"), process.stderr.read()
        url = line.strip().split("=", 1)[1]
        assert "@127.0.0.1:" in url and url.endswith("/postgres?sslmode=disable")
        with psycopg.connect(url) as conn:
            assert conn.execute("select current_user, (select rolsuper from pg_roles where rolname = current_user),"
                                " (select array_agg(version) from supabase_migrations.schema_migrations)").fetchone() \
                == ("postgres", False, ["20240101000000"])
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=3)
