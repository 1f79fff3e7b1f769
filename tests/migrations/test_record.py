"""A `generate` or `check` that found a project up to date answers the next run with the same
inputs from its record; any change to the inputs plans again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from change_cases import build_base
from tenantspec import cli
from tenantspec.cli import main


@pytest.fixture
def root(tmp_path: Path) -> Path:
    build_base(tmp_path)
    return tmp_path


@pytest.fixture
def plans(monkeypatch) -> list[str]:
    """The commands that planned (rather than answering from a record)."""
    planned: list[str] = []
    real_plan, real_check = cli.plan_project, cli.check_project
    monkeypatch.setattr(cli, "plan_project", lambda *a, **k: planned.append("generate") or real_plan(*a, **k))
    monkeypatch.setattr(cli, "check_project", lambda *a, **k: planned.append("check") or real_check(*a, **k))
    return planned


def add_column(root: Path, column: str = "notes") -> None:
    spec = root / "schema/projects.yaml"
    spec.write_text(spec.read_text().replace("  summary: {type: text}\n",
                                             f"  summary: {{type: text}}\n  {column}: {{type: text}}\n"))


def test_an_unchanged_project_is_answered_from_the_record(root, plans, capsys):
    assert main(["generate", "--root", str(root)]) == 0
    assert main(["generate", "--root", str(root)]) == 0
    assert main(["check", "--root", str(root)]) == 0
    assert main(["check", "--root", str(root)]) == 0
    assert plans == ["generate", "check"]
    out = capsys.readouterr().out
    assert out.count("up to date") == 2 and out.count("migrations match their record") == 2


def test_a_changed_spec_plans_again_and_the_migration_it_writes_is_up_to_date(root, plans, capsys):
    assert main(["generate", "--root", str(root)]) == 0
    add_column(root)
    assert main(["generate", "--root", str(root)]) == 0
    assert "wrote supabase/migrations/" in capsys.readouterr().out
    assert main(["generate", "--root", str(root)]) == 0
    assert capsys.readouterr().out == "up to date\n"
    assert plans == ["generate", "generate"], "the run that wrote the migration recorded the result"


@pytest.mark.parametrize("change", ["edit a migration", "delete ACCESS.md", "edit the sum file", "add a spec"])
def test_any_changed_input_plans_again(root, plans, change):
    assert main(["generate", "--root", str(root)]) == 0
    migration = sorted((root / "supabase/migrations").glob("*.sql"))[0]
    if change == "edit a migration":
        migration.write_text(migration.read_text() + "\n-- edited\n")
    elif change == "delete ACCESS.md":
        (root / "schema/ACCESS.md").unlink()
    elif change == "edit the sum file":
        (root / "supabase/tenantspec.sum").write_text("")
    else:
        (root / "schema/ledgers.yaml").write_text(
            (root / "schema/projects.yaml").read_text().replace("table: projects", "table: ledgers", 1))
    main(["generate", "--root", str(root)])
    assert plans == ["generate", "generate"]


def test_the_notes_of_the_run_that_recorded_come_back(root, plans, capsys):
    (root / "supabase/migrations/20260315000000_hotfix.sql").write_text(
        "alter table public.projects add column hotfix text;\n")
    add_column(root, "hotfix")
    assert main(["generate", "--root", str(root)]) == 0
    first = capsys.readouterr().err
    assert "a hand-written migration changes public.projects" in first
    assert main(["generate", "--root", str(root)]) == 0
    assert capsys.readouterr().err == first
    assert plans == ["generate"]


def test_a_failing_check_records_nothing(root, plans, capsys):
    assert main(["generate", "--root", str(root)]) == 0
    add_column(root)
    assert main(["check", "--root", str(root)]) == 1
    assert main(["check", "--root", str(root)]) == 1
    assert plans == ["generate", "check", "check"]
    assert capsys.readouterr().err.count("the specs have changes no migration holds yet") == 2


def test_records_can_be_turned_off(root, plans, monkeypatch):
    monkeypatch.setenv("TENANTSPEC_CACHE_DIR", "off")
    for _ in range(2):
        assert main(["generate", "--root", str(root)]) == 0
    assert plans == ["generate", "generate"]


def test_an_unreadable_record_is_no_record(root, plans):
    assert main(["generate", "--root", str(root)]) == 0
    records = list(Path(os.environ["TENANTSPEC_CACHE_DIR"]).rglob("*.json"))
    assert records
    for record in records:
        record.write_text("{not json")
    assert main(["generate", "--root", str(root)]) == 0
    assert plans == ["generate", "generate"]
