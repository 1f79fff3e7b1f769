"""Rendering: golden case folders, determinism, the record of generated migrations, and
writing all files or none."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tenantspec.cli import main
from tenantspec.plan.pipeline import fresh_migrations
from tenantspec.render.matrix import render_access
from tenantspec.spec.load import load_project

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "tests" / "cases" / "app"  # a frozen copy of the app: see its README
RENDER_CASES = Path(__file__).parent / "cases" / "render"


def fresh_files(root: Path) -> dict[Path, str]:
    project = load_project(root)
    return {**fresh_migrations(project), **render_access(project)}


@pytest.mark.parametrize("case", sorted(p.name for p in RENDER_CASES.iterdir()))
def test_render_case_matches_expected(case):
    case_dir = RENDER_CASES / case
    outputs = fresh_files(case_dir)
    expected = {p.relative_to(case_dir / "expected") for p in (case_dir / "expected").rglob("*") if p.is_file()}
    assert set(outputs) == expected
    for path, text in outputs.items():
        assert text == (case_dir / "expected" / path).read_text(), f"{case}: {path} differs"


def test_the_committed_migrations_hold_the_specs(capsys):
    """Nothing is pending, no generated migration was edited, schema/ACCESS.md is current."""
    assert main(["check", "--root", str(APP)]) == 0, capsys.readouterr()


def test_two_generations_are_byte_identical_across_processes():
    """Set and dict order must not leak into the output: render under two hash seeds."""
    script = ("import sys; from pathlib import Path; from tenantspec.spec.load import load_project\n"
              "from tenantspec.plan.pipeline import fresh_migrations\n"
              "out = fresh_migrations(load_project(Path(sys.argv[1])))\n"
              "sys.stdout.write(''.join(f'== {p}\\n{t}' for p, t in sorted(out.items())))\n")
    runs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        runs.append(subprocess.run([sys.executable, "-c", script, str(APP)], env=env, check=True,
                                   capture_output=True, text=True).stdout)
    assert runs[0] == runs[1]
    assert "create table public.robot_job_items" in runs[0]


def test_model_loads_equal_twice():
    assert load_project(APP) == load_project(APP)


def copy_project(tmp_path: Path) -> Path:
    shutil.copytree(APP / "schema", tmp_path / "schema")
    shutil.copytree(APP / "supabase", tmp_path / "supabase")
    return tmp_path


def test_check_names_a_generated_migration_edited_by_hand(tmp_path, capsys):
    root = copy_project(tmp_path)
    assert main(["check", "--root", str(root)]) == 0
    migration = root / "supabase/migrations/20260222000003_robot_jobs.sql"
    migration.write_text(migration.read_text().replace("on delete cascade", "on delete set null", 1))
    capsys.readouterr()
    assert main(["check", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "supabase/migrations/20260222000003_robot_jobs.sql: edited after it was generated" in err
    assert "(recorded in supabase/tenantspec.sum:4)" in err


def test_check_names_a_missing_and_a_left_over_migration(tmp_path, capsys):
    root = copy_project(tmp_path)
    old = root / "supabase/migrations/20260222000002_carrier_configs.sql"
    old.rename(old.with_name("20260222000002_carriers.sql"))
    assert main(["check", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "supabase/migrations/20260222000002_carrier_configs.sql: generated migration is missing" in err
    assert "supabase/migrations/20260222000002_carriers.sql: carries tenantspec's header but is not recorded" in err


def test_check_fails_on_an_edited_record(tmp_path, capsys):
    root = copy_project(tmp_path)
    record = root / "supabase/tenantspec.sum"
    record.write_text(record.read_text().replace("20260222000003_robot_jobs.sql h1:I", "20260222000003_robot_jobs.sql h1:J"))
    assert main(["check", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "supabase/tenantspec.sum:1:1: the record's total does not match its lines" in err
    assert "supabase/migrations/20260222000003_robot_jobs.sql: edited after it was generated" in err


def test_check_fails_when_a_spec_changed_without_a_migration(tmp_path, capsys):
    root = copy_project(tmp_path)
    spec = root / "schema/robot_jobs.yaml"
    spec.write_text(spec.read_text().replace("  idempotency_key: {type: text}\n",
                                             "  idempotency_key: {type: text}\n  notes: {type: text}\n"))
    assert main(["check", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "the specs have changes no migration holds yet: run `tenantspec generate`" in err
    assert "robot_jobs: add column notes (text)" in err


def test_generate_never_rewrites_a_migration_and_writes_one_new_file(tmp_path, capsys):
    root = copy_project(tmp_path)
    before = {p.name: p.read_bytes() for p in (root / "supabase/migrations").iterdir()}
    spec = root / "schema/robot_jobs.yaml"
    spec.write_text(spec.read_text().replace("  idempotency_key: {type: text}\n",
                                             "  idempotency_key: {type: text}\n  notes: {type: text}\n"))
    assert main(["generate", "--root", str(root), "--name", "job_notes"]) == 0
    after = {p.name: p.read_bytes() for p in (root / "supabase/migrations").iterdir()}
    new = sorted(set(after) - set(before))
    assert len(new) == 1 and new[0].endswith("_job_notes.sql")
    assert {name: after[name] for name in before} == before
    assert "alter table public.robot_jobs add column notes text;" in after[new[0]].decode()
    capsys.readouterr()
    assert main(["generate", "--root", str(root)]) == 0
    assert capsys.readouterr().out == "up to date\n"
    assert main(["check", "--root", str(root)]) == 0


def test_generate_writes_all_files_or_none(tmp_path, monkeypatch, capsys):
    """A failure while staging the last file leaves no file changed and no temporary file behind."""
    shutil.copytree(APP / "schema", tmp_path / "schema")
    (tmp_path / "schema/ACCESS.md").unlink()
    import tenantspec.plan.pipeline as pipeline
    real_mkstemp, calls = pipeline.tempfile.mkstemp, []

    def failing_mkstemp(*args, **kwargs):
        calls.append(kwargs.get("prefix"))
        if len(calls) == 3:
            raise OSError(28, "No space left on device", "schema/ACCESS.md")
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(pipeline.tempfile, "mkstemp", failing_mkstemp)
    assert main(["generate", "--root", str(tmp_path)]) == 2
    assert "nothing was changed" in capsys.readouterr().err
    assert len(calls) == 3
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.parent.name != "schema"]
    assert leftovers == []
    assert not (tmp_path / "schema/ACCESS.md").exists()


def test_generated_helpers_are_safe_by_construction():
    """Every function the specs generate pins an empty search_path, and none that runs as its
    owner is executable by PUBLIC or anon; no timezone() default and no grant to anon anywhere."""
    from tenantspec.plan.pipeline import replay_texts

    files = fresh_migrations(load_project(APP))
    text = "".join(files[p] for p in sorted(files))
    assert "timezone(" not in text
    assert " to anon" not in text
    for state in replay_texts([(str(path), sql) for path, sql in files.items()]).values():
        helpers = [f for f in state.functions.values() if f.schema == "private"]
        assert len(helpers) >= 3
        for function in helpers:
            assert function.search_path == "''", f"{function.signature}: search_path {function.search_path}"
            for role in ("public", "anon") if function.security_definer else ():
                assert "execute" not in function.privileges.get(role, {}), f"{role} may execute {function.signature}"
