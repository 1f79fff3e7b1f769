"""Each change case yields exactly its expected migration (or refusal) and review.

Set TENANTSPEC_UPDATE_GOLDEN=1 to rewrite the expected files after a deliberate change,
then read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from change_cases import Case, build_base, case_names, plan_after, prepared, refusal
from tenantspec.plan.pipeline import write_outputs
from tenantspec.plan.review import review

UPDATE = os.environ.get("TENANTSPEC_UPDATE_GOLDEN") == "1"


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "supabase").rglob("*")) if p.is_file()}


def golden(path: Path, text: str) -> None:
    if UPDATE:
        path.write_text(text)
    assert path.is_file(), f"{path} is missing (TENANTSPEC_UPDATE_GOLDEN=1 writes it)"
    assert text == path.read_text(), f"{path.parent.name}: {path.name} differs"


@pytest.mark.parametrize("name", case_names())
def test_change_case(name, tmp_path):
    case = Case.load(name)
    ready = prepared(name)
    before = snapshot(ready.before)
    ready.copy_after(tmp_path)
    generation = ready.generation
    refused = refusal(generation)
    said = review(generation).split("\nSQL (")[0]
    golden(case.folder / "review.txt", said)
    if case.refused:
        assert refused, f"{name}: expected the change to be refused"
        golden(case.folder / "expected.txt", refused)
        assert snapshot(ready.after) == before, "a refused change writes nothing"
        return
    assert refused is None or case.allow_destructive, refused
    # One file, or two when enum values come first (they must be committed before use).
    paths = list(generation.migrations)
    assert paths[-1].name.endswith(f"_{name}.sql") and paths[0].name.startswith("20260401090000_")
    assert len(paths) == 1 or paths[0].name == f"20260401090000_{name}_enum_values.sql", paths
    golden(case.folder / "expected.sql", migrations_text(generation))
    write_outputs(tmp_path, generation.outputs)
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k in before and k.endswith(".sql")} == \
        {k: v for k, v in before.items() if k.endswith(".sql")}, "an existing migration was rewritten"
    again = plan_after(case, tmp_path)
    assert again.plan.empty and not again.migrations, [s.summary for s in again.plan.steps]


def migrations_text(generation) -> str:
    """The new migration's text; several files each under a ``-- <file name>`` line."""
    if len(generation.migrations) == 1:
        return next(iter(generation.migrations.values()))
    return "\n".join(f"-- {path.name}\n{text}" for path, text in generation.migrations.items())


def test_the_base_project_starts_with_one_migration(tmp_path):
    first = build_base(tmp_path)
    (path, text), = first.migrations.items()
    assert path.name == "20260301090000_base.sql"
    golden(Path(__file__).parent / "cases" / "_base" / "expected.sql", text)


SQUAWK_CONFIG = Path(__file__).resolve().parents[2] / ".squawk.toml"  # make lint's settings
# Changes that open a hole on purpose, so the linter must say so.
LINT_EXPECTED = {"references": {"cross-tenant-reference"}}


@pytest.mark.parametrize("name", [n for n in case_names() if not Case.load(n).refused])
def test_change_migration_passes_make_lint(name, tmp_path):
    """Our tenancy rules over the whole chain, and squawk with make lint's settings."""
    import shutil
    import subprocess
    import sys

    from tenantspec.lint import Severity, lint_paths
    from tenantspec.lint.config import project_config

    ready = prepared(name)
    ready.copy_after(tmp_path)
    generation = ready.generation
    write_outputs(tmp_path, generation.outputs)
    migrations = tmp_path / "supabase" / "migrations"
    findings = [f for f in lint_paths([migrations], project_config(tmp_path))
                if f.severity >= Severity.WARNING]
    assert {f.rule_id for f in findings} == LINT_EXPECTED.get(name, set()), [str(f) for f in findings]
    squawk = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")
    assert squawk, "squawk-cli is part of the test extra"
    new = migrations / next(iter(generation.migrations)).name
    result = subprocess.run([squawk, "--config", str(SQUAWK_CONFIG), str(new)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_bucket_command_taken_from_members_is_refused_unless_allowed():
    """Owners and admins deleted guides; the spec now lets nobody: the review says who loses
    it, and generate refuses at the bucket's access unless --allow-narrowing."""
    from tenantspec.plan.pipeline import DestructiveChange
    from tenantspec.plan.review import narrowings, refuse_narrowing

    generation = prepared("bucket_narrowed").generation
    assert [(c.table, c.command, c.personas) for c in narrowings(generation)] == [
        ("bucket shipping-guides", "delete", ("owner", "admin"))]
    with pytest.raises(DestructiveChange) as refused:
        refuse_narrowing(generation)
    first = str(refused.value.problems[0])
    assert first.startswith("schema/project.yaml:") and "bucket shipping-guides delete: owner, admin would lose it" in first
    widened = prepared("bucket_changed").generation
    assert narrowings(widened) == [], "members gaining select and insert takes nothing away"
