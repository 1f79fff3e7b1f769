"""Rendering: golden case folders, the committed migrations, determinism."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli import main
from generator.load import load_project
from generator.pipeline import build_outputs

ROOT = Path(__file__).resolve().parents[2]
RENDER_CASES = Path(__file__).parent / "cases" / "render"


@pytest.mark.parametrize("case", sorted(p.name for p in RENDER_CASES.iterdir()))
def test_render_case_matches_expected(case):
    case_dir = RENDER_CASES / case
    outputs = build_outputs(case_dir)
    expected = {p.relative_to(case_dir / "expected") for p in (case_dir / "expected").rglob("*") if p.is_file()}
    assert set(outputs) == expected
    for path, text in outputs.items():
        assert text == (case_dir / "expected" / path).read_text(), f"{case}: {path} differs"


def test_committed_migrations_are_what_the_specs_generate():
    for path, text in build_outputs(ROOT).items():
        assert (ROOT / path).read_text() == text, f"{path} is stale: run `make generate`"


def test_two_generations_are_byte_identical_across_processes(tmp_path):
    """Set and dict order must not leak into the output: render under two hash seeds."""
    script = ("import sys; from pathlib import Path; from generator.pipeline import build_outputs\n"
              "out = build_outputs(Path(sys.argv[1]))\n"
              "sys.stdout.write(''.join(f'== {p}\\n{t}' for p, t in sorted(out.items())))\n")
    runs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        runs.append(subprocess.run([sys.executable, "-c", script, str(ROOT)], env=env, check=True,
                                   capture_output=True, text=True).stdout)
    assert runs[0] == runs[1]
    assert "create table public.robot_job_items" in runs[0]


def test_model_loads_equal_twice():
    assert load_project(ROOT) == load_project(ROOT)


def test_check_fails_with_a_diff_on_a_hand_edit(tmp_path, capsys):
    shutil.copytree(ROOT / "schema", tmp_path / "schema")
    shutil.copytree(ROOT / "supabase", tmp_path / "supabase")
    assert main(["check", "--root", str(tmp_path)]) == 0
    migration = tmp_path / "supabase/migrations/20260222000003_robot_jobs.sql"
    migration.write_text(migration.read_text().replace("on delete cascade", "on delete set null", 1))
    capsys.readouterr()
    assert main(["check", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "-  constraint robot_jobs_workspace_id_fkey foreign key (workspace_id) references public.workspaces (id) on delete set null," in out
    assert "+  constraint robot_jobs_workspace_id_fkey foreign key (workspace_id) references public.workspaces (id) on delete cascade," in out


def test_check_reports_a_missing_file(tmp_path, capsys):
    shutil.copytree(ROOT / "schema", tmp_path / "schema")
    assert main(["check", "--root", str(tmp_path)]) == 1
    assert "supabase/migrations/20260222000002_carrier_configs.sql (generated)" in capsys.readouterr().out


def test_generate_writes_all_files_or_none(tmp_path, monkeypatch, capsys):
    """A failure while staging the last file leaves no file changed and no temporary file behind."""
    shutil.copytree(ROOT / "schema", tmp_path / "schema")
    (tmp_path / "schema/ACCESS.md").unlink()
    import generator.pipeline as pipeline
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
    text = "".join(build_outputs(ROOT)[p] for p in sorted(build_outputs(ROOT)) if p.suffix == ".sql")
    assert "timezone(" not in text
    assert text.count("security definer") == text.count("set search_path = ''") == 3
    assert text.count("from public, anon;") == 3
    assert " to anon" not in text
