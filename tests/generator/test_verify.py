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
