"""pglast verification: each hand-broken migration is caught, with file, statement and line."""

from pathlib import Path

import pytest
from ruamel.yaml import YAML
from tenantspec.render.migrations import render_migrations
from tenantspec.render.verify import verify_sql
from tenantspec.spec.load import load_project

# A frozen copy of the first specs: the cases pin lines of what it renders, not of the
# committed migrations, which change whenever the specs do.
PROJECT = Path(__file__).parent / "cases" / "verify"
CASES = YAML(typ="safe").load((PROJECT / "cases.yaml").read_text())


@pytest.fixture(scope="module")
def project():
    return load_project(PROJECT)


def test_generated_migrations_verify_clean(project):
    assert verify_sql(project, render_migrations(project)) == []


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_broken_sql_is_caught(project, case):
    files = render_migrations(project)
    path = Path("supabase/migrations") / case["file"]
    assert case["replace"] in files[path], "the case no longer matches the generated SQL"
    files[path] = files[path].replace(case["replace"], case["with"], 1)
    messages = [str(p) for p in verify_sql(project, files)]
    assert any(case["expect"] in m for m in messages), messages


def test_a_policy_may_pass_the_whole_row(project):
    """`can_edit(uid, study)` and `study.*` name the row itself, not a column."""
    files = render_migrations(project)
    path = Path("supabase/migrations/20260222000003_robot_jobs.sql")
    assert "for select to authenticated\n  using (" in files[path]
    files[path] = files[path].replace("for select to authenticated\n  using (",
                                      "for select to authenticated\n  using (robot_jobs is not null and ", 1)
    assert verify_sql(project, files) == []
    files[path] = files[path].replace("using (robot_jobs is not null", "using (robot_job is not null", 1)
    assert any("refers to unknown column robot_job" in str(p) for p in verify_sql(project, files))
