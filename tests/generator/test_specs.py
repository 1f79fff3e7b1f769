"""Spec loading: every bad-input case folder yields exactly its expected messages."""

import shutil
from pathlib import Path

import pytest

from tenantspec.cli import main

CASES = Path(__file__).parent / "cases" / "specs"
BAD_CASES = sorted(p.name for p in CASES.iterdir() if not p.name.startswith("_"))


def make_project(tmp_path: Path, case: str | None) -> Path:
    shutil.copytree(CASES / "_base", tmp_path, dirs_exist_ok=True)
    if case:
        shutil.copytree(CASES / case / "schema", tmp_path / "schema", dirs_exist_ok=True)
    return tmp_path


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_base_project_generates(tmp_path, capsys):
    root = make_project(tmp_path, None)
    assert main(["generate", "--root", str(root)]) == 0
    assert (root / "supabase/migrations/20260101000000_notes.sql").is_file()
    assert (root / "schema/ACCESS.md").is_file()


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_spec_is_reported_with_location(case, tmp_path, capsys):
    root = make_project(tmp_path, case)
    before = snapshot(root)
    assert main(["generate", "--root", str(root)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (CASES / case / "expected.txt").read_text()
    assert "Traceback" not in captured.err
    assert snapshot(root) == before, "a failed generation must leave every file as it was"


def test_traceback_flag_shows_one(tmp_path, capsys):
    root = make_project(tmp_path, "unknown_key")
    assert main(["generate", "--root", str(root), "--traceback"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_missing_project_file_is_a_clear_error(tmp_path, capsys):
    assert main(["generate", "--root", str(tmp_path)]) == 2
    assert "no project file; tenantspec looks for schema/project.yaml" in capsys.readouterr().err


def test_a_key_may_lead_a_longer_index_and_policies_may_call_auth(tmp_path, capsys):
    """The primary key holds uniqueness, so a longer index beginning with it (an ordered page)
    is no repetition; a hand-written policy may call auth.role() and auth.jwt(), which Supabase
    provides, without declaring them."""
    root = make_project(tmp_path, None)
    spec = root / "schema" / "notes.yaml"
    spec.write_text(spec.read_text().replace(
        "  - columns: [workspace_id]\n",
        "  - columns: [workspace_id]\n  - columns: [id, body]\n") + (
        "policies:\n"
        "  - name: signed_in_read\n"
        "    command: select\n"
        "    using: \"auth.role() = 'authenticated' and (auth.jwt() ->> 'aal') = 'aal2'\"\n"))
    assert main(["generate", "--root", str(root)]) == 0, capsys.readouterr().err
    (migration,) = (root / "supabase/migrations").glob("*.sql")
    assert "create policy signed_in_read on public.notes" in migration.read_text()


def test_the_index_the_policies_need_is_derived_when_the_spec_has_none(tmp_path):
    """Never demanded of one table and refused on another: with no index leading with the
    column the policies filter on, tenantspec adds it; a declared one serves instead."""
    from tenantspec.spec.load import load_project

    root = make_project(tmp_path, None)
    spec = root / "schema" / "notes.yaml"
    spec.write_text(spec.read_text().replace("indexes:\n  - columns: [workspace_id]\n", ""))
    table = next(t for t in load_project(root).tables.values() if t.name.name == "notes")
    derived = [i for i in table.indexes if i.derived]
    assert [i.columns for i in derived] == [("workspace_id",)], table.indexes
    assert "policies filter on" in derived[0].derived
    spec.write_text(spec.read_text() + "indexes:\n  - columns: [workspace_id, body]\n")
    table = next(t for t in load_project(root).tables.values() if t.name.name == "notes")
    assert not [i for i in table.indexes if i.derived], "a declared index leading with the column serves"


def test_an_empty_string_is_an_enum_value_as_in_postgresql(tmp_path):
    """`create type s as enum ('', 'open')` is valid PostgreSQL (real apps keep such types):
    the spec can say it, and the migration spells it back."""
    from tenantspec.plan.pipeline import plan_project

    root = make_project(tmp_path, None)
    (root / "schema" / "project.yaml").write_text((root / "schema" / "project.yaml").read_text()
                                                  + "enums:\n  note_state: ['', open]\n")
    spec = root / "schema" / "notes.yaml"
    spec.write_text(spec.read_text().replace("  body: {type: text}\n",
                                             "  body: {type: text}\n  state: {type: note_state}\n"))
    text = "".join(plan_project(root, "notes").migrations.values())
    assert "create type public.note_state as enum ('', 'open');" in text
