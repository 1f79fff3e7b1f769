"""The migrations folder as history: versions, names, two branches, hand-written migrations,
the review command and a fresh render."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest
from change_cases import build_base
from tenantspec.cli import main
from tenantspec.errors import TenantspecError
from tenantspec.plan.history import next_version, read_history
from tenantspec.plan.pipeline import plan_project

UTC = datetime.timezone.utc


def project(tmp_path: Path) -> Path:
    build_base(tmp_path)
    return tmp_path


def edit(root: Path, spec: str, old: str, new: str) -> None:
    path = root / "schema" / spec
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def add_summary_column(root: Path, column: str = "notes") -> None:
    edit(root, "projects.yaml", "  summary: {type: text}\n", f"  summary: {{type: text}}\n  {column}: {{type: text}}\n")


@pytest.mark.parametrize(("now", "existing", "expected"), [
    ("2026-11-28T10:00:00", ["20260301090000"], "20261128100000"),
    ("2026-11-28T10:00:00", ["20261128100000"], "20261128100001"),
    ("2026-11-28T10:00:00", ["20261231235959"], "20270101000000"),
    ("2026-11-28T10:00:00", ["0042"], "20261128100000"),
    ("2026-11-28T11:00:00+01:00", [], "20261128100000"),
])
def test_version_is_utc_now_and_after_every_existing_one(now, existing, expected):
    moment = datetime.datetime.fromisoformat(now)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    assert next_version(existing, moment) == expected


def test_the_name_comes_from_the_change_or_the_caller(tmp_path):
    root = project(tmp_path)
    add_summary_column(root)
    generation = plan_project(root, None, datetime.datetime(2026, 4, 1, tzinfo=UTC))
    assert [p.name for p in generation.migrations] == ["20260401000000_add_projects_notes.sql"]
    with pytest.raises(TenantspecError, match="use snake_case"):
        plan_project(root, "Add Notes", datetime.datetime(2026, 4, 1, tzinfo=UTC))


def test_a_name_listing_some_of_many_tables_says_how_many_more(tmp_path):
    root = project(tmp_path)
    spec = (root / "schema/projects.yaml").read_text()
    for table in ("ledgers", "invoices", "payments", "refunds", "credits"):
        (root / f"schema/{table}.yaml").write_text(spec.replace("table: projects", f"table: {table}", 1))
    generation = plan_project(root, None, datetime.datetime(2026, 4, 1, tzinfo=UTC))
    assert [p.name for p in generation.migrations] == ["20260401000000_create_credits_invoices_ledgers_and_2_more.sql"]


def test_two_branches_that_add_the_same_column_are_caught(tmp_path, capsys):
    root = project(tmp_path)
    add_summary_column(root)
    # each branch generated its own migration for the same change from the same history
    branches = [plan_project(root, f"branch_{day}", datetime.datetime(2026, 4, day, tzinfo=UTC)) for day in (1, 2)]
    for generation in branches:
        for path, text in generation.migrations.items():
            (root / path).write_text(text)
    assert main(["hash", "--root", str(root)]) == 0
    capsys.readouterr()
    assert main(["check", "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "20260402000000_branch_2.sql" in err and "adds column notes to public.projects" in err
    assert "delete the later one and run `tenantspec generate`" in err


def test_two_branches_with_different_changes_merge_cleanly(tmp_path, capsys):
    root = project(tmp_path)
    add_summary_column(root, "notes")
    first = plan_project(root, "notes", datetime.datetime(2026, 4, 1, tzinfo=UTC))
    add_summary_column(root, "remarks")
    edit(root, "projects.yaml", "  notes: {type: text}\n", "")
    second = plan_project(root, "remarks", datetime.datetime(2026, 4, 2, tzinfo=UTC))
    for generation in (first, second):
        for path, text in generation.migrations.items():
            (root / path).write_text(text)
    add_summary_column(root, "notes")  # the merged specs hold both columns
    capsys.readouterr()
    assert main(["check", "--root", str(root)]) == 1  # the record misses the other branch's file
    assert "carries tenantspec's header but is not recorded" in capsys.readouterr().err
    assert main(["hash", "--root", str(root)]) == 0
    assert main(["check", "--root", str(root)]) == 0


def test_a_hand_written_change_to_a_managed_table_is_named_and_undone(tmp_path, capsys):
    root = project(tmp_path)
    (root / "supabase/migrations/20260315000000_hotfix.sql").write_text(
        "alter table public.projects add column hotfix text;\n")
    generation = plan_project(root, None, datetime.datetime(2026, 4, 1, tzinfo=UTC))
    assert any("20260315000000_hotfix.sql:1:1: a hand-written migration changes public.projects" in note
               for note in generation.plan.notes)
    assert [s.summary for s in generation.plan.steps] == ["projects: drop column hotfix"]
    assert generation.plan.destructive, "dropping what the hand-written migration added is refused by default"
    assert main(["generate", "--root", str(root)]) == 2
    assert "drops column projects.hotfix" in capsys.readouterr().err


def test_a_hand_written_table_beside_the_specs_is_left_alone(tmp_path):
    root = project(tmp_path)
    (root / "supabase/migrations/20260315000000_audit.sql").write_text(
        "create table public.audit_log (id bigint primary key);\n")
    generation = plan_project(root, None, datetime.datetime(2026, 4, 1, tzinfo=UTC))
    assert generation.plan.empty and not generation.plan.notes


def test_diff_exits_1_with_pending_changes_and_speaks_markdown(tmp_path, capsys):
    root = project(tmp_path)
    assert main(["diff", "--root", str(root)]) == 0
    assert "No changes pending" in capsys.readouterr().out
    edit(root, "projects.yaml", "access: {select: member, insert: member,", "access: {select: member, insert: admin,")
    assert main(["diff", "--root", str(root), "--format", "markdown"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("### tenantspec: 2 schema change(s)")
    assert "| projects | insert | agent | allowed | denied |" in out
    assert "```sql" in out and "create policy projects_insert on public.projects" in out
    assert read_history(root).files[-1].name == "20260301090000_base.sql", "diff writes nothing"


def test_fresh_writes_the_specs_as_new_migrations(tmp_path, capsys):
    root = project(tmp_path)
    add_summary_column(root)
    out = tmp_path / "fresh"
    assert main(["generate", "--root", str(root), "--fresh", str(out), "--name", "squash"]) == 0
    (only,) = sorted(out.iterdir())
    assert only.name.endswith("_squash.sql")
    text = only.read_text()
    assert "create table public.projects" in text and "  notes text," in text
    assert "alter table" in text and "add column" not in text


APP = Path(__file__).resolve().parents[2] / "tests" / "cases" / "app"  # a frozen copy of the app


def test_a_change_that_takes_access_from_members_is_refused_unless_allowed(tmp_path, capsys):
    shutil.copytree(APP / "schema", tmp_path / "schema")
    shutil.copytree(APP / "supabase", tmp_path / "supabase")
    before = sorted(p.name for p in (tmp_path / "supabase/migrations").iterdir())
    spec = tmp_path / "schema/robot_jobs.yaml"
    spec.write_text(spec.read_text().replace("  update: member\n", "  update: admin\n"))
    assert main(["generate", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "schema/robot_jobs.yaml:38:1: robot_jobs update: agent would lose it (allowed -> denied)" in err
    assert "--allow-narrowing" in err
    assert sorted(p.name for p in (tmp_path / "supabase/migrations").iterdir()) == before
    assert main(["generate", "--root", str(tmp_path), "--allow-narrowing"]) == 0
    assert len(list((tmp_path / "supabase/migrations").iterdir())) == len(before) + 1


def test_closing_a_hole_or_widening_needs_no_flag(tmp_path, capsys):
    shutil.copytree(APP / "schema", tmp_path / "schema")
    shutil.copytree(APP / "supabase", tmp_path / "supabase")
    spec = tmp_path / "schema/robot_jobs.yaml"
    spec.write_text(spec.read_text().replace("  delete: nobody\n", "  delete: admin\n"))
    assert main(["generate", "--root", str(tmp_path)]) == 0


def test_written_files_take_the_mode_the_umask_gives_and_keep_the_one_they_had(tmp_path):
    """Files are staged with mkstemp (0600) and renamed into place: a new file gets the mode
    the user's umask gives new files, an existing one keeps its own."""
    import os
    import stat

    from tenantspec.plan.pipeline import write_outputs

    old = os.umask(0o022)
    try:
        write_outputs(tmp_path, {Path("schema/a.yaml"): "a: 1\n"})
        assert stat.S_IMODE((tmp_path / "schema/a.yaml").stat().st_mode) == 0o644
        os.chmod(tmp_path / "schema/a.yaml", 0o664)
        write_outputs(tmp_path, {Path("schema/a.yaml"): "a: 2\n"})
        assert stat.S_IMODE((tmp_path / "schema/a.yaml").stat().st_mode) == 0o664
        os.umask(0o077)
        write_outputs(tmp_path, {Path("schema/b.yaml"): "b: 1\n"})
        assert stat.S_IMODE((tmp_path / "schema/b.yaml").stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_check_names_the_hand_written_migration_behind_a_drift(tmp_path, capsys):
    """A policy widened by hand: check (and so the proof) names the file and line, not only
    the specs' side of the difference."""
    root = project(tmp_path)
    (root / "supabase/migrations/20260315000000_open.sql").write_text(
        "drop policy projects_delete on public.projects;\n"
        "create policy projects_delete on public.projects for delete to authenticated using (true);\n")
    assert main(["check", "--root", str(root)]) == 1
    out = capsys.readouterr().err
    assert "hand-written migrations change tables tenantspec manages" in out, out
    assert "20260315000000_open.sql:1:1: a hand-written migration changes public.projects" in out, out


def test_check_refuses_sql_built_at_run_time_on_a_managed_table(tmp_path, capsys):
    """``do $$ ... execute '...' $$`` on a managed table: replay cannot see what it does."""
    root = project(tmp_path)
    (root / "supabase/migrations/20260315000000_loop.sql").write_text(
        "do $$ begin\n"
        "  execute format('create policy open_up on public.projects for select to authenticated using (%s)',\n"
        "                 current_setting('app.rule'));\n"
        "end $$;\n")
    assert main(["check", "--root", str(root)]) == 1
    out = capsys.readouterr().err
    assert "20260315000000_loop.sql:1:1: a DO block that runs SQL built at run time (execute) names projects: " \
           "replay cannot tell what it does" in out, out
