"""The conditions of hand-written policies: those the world never makes false are found and
named; those the intent names (``only_when``) the proof makes false itself, and a policy that
lost one fails the proof with no case file of the user's."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tenantspec.render.matrix import persona_kinds
from tenantspec.spec import model
from tenantspec.spec.load import load_project
from tenantspec.testing.conditions import conditions_of, make_false, never_false, shown
from tenantspec.testing.intent import IntentError, load_intent

ROOT = Path(__file__).resolve().parents[2]
FORUM = ROOT / "examples" / "forum"
FLAG = "public.feature_enabled('reactions')"


def test_a_check_keeps_the_conditions_no_new_row_can_vary():
    """A WITH CHECK's ties to the row's columns are the probes' to make false (they write other
    workspaces' ids); a flag is not, so it is the one to ask of the world."""
    reactions = next(t for t in load_project(FORUM).tables.values() if t.name.name == "reactions")
    assert [c.text for c in conditions_of(reactions)] == ["public.feature_enabled('reactions')"]


def test_a_condition_true_on_every_row_for_every_persona_is_reported(database, tenantspec_project, world):
    jobs = next(t for t in tenantspec_project.tables.values() if t.name.name == "robot_jobs")
    flagged = dataclasses.replace(jobs, policies=(
        model.Policy("jobs_when_enabled", "select", "public.jobs_enabled() and status is not null", None),))
    personas = list(world.personas.values())
    with database.connect_admin() as conn:
        conn.execute("create function public.jobs_enabled() returns boolean language sql as 'select true'")
        assert never_false(conn, [flagged], personas) == [
            "robot_jobs: policy jobs_when_enabled: public.jobs_enabled()",
            "robot_jobs: policy jobs_when_enabled: status IS NOT NULL"]
        # false for a token without a user: the world's anon makes it false
        conn.execute("create or replace function public.jobs_enabled() returns boolean language sql as "
                     "$$select current_setting('request.jwt.claims', true)::jsonb ? 'sub'$$")
        assert never_false(conn, [flagged], personas) == ["robot_jobs: policy jobs_when_enabled: status IS NOT NULL"]
        conn.rollback()


def test_a_condition_the_intent_names_is_not_reported_as_never_false(database, tenantspec_project, world):
    jobs = next(t for t in tenantspec_project.tables.values() if t.name.name == "robot_jobs")
    flagged = dataclasses.replace(jobs, policies=(
        model.Policy("jobs_when_enabled", "select", "public.jobs_enabled()", None),))
    with database.connect_admin() as conn:
        conn.execute("create function public.jobs_enabled() returns boolean language sql as 'select true'")
        assert never_false(conn, [flagged], list(world.personas.values()),
                           frozenset({("robot_jobs", shown("public.jobs_enabled ( )"))})) == []
        conn.rollback()


def test_a_condition_is_made_false_by_its_function_whatever_the_arguments_until_rollback(database):
    with database.connect_admin() as conn:
        conn.execute("create schema flags")
        conn.execute("create function flags.on(name text, team uuid default null) returns boolean "
                     "language plpgsql security definer set search_path = '' as $$begin return true; end$$")
        assert make_false(conn, "flags.on('a')") == 1
        assert conn.execute("select flags.on('a'), flags.on('b', null)").fetchone() == (False, False)
        assert make_false(conn, "not flags.on('a', null)") == 1, "a negated call: the function answers true"
        assert conn.execute("select flags.on('a')").fetchone() == (True,)
        assert make_false(conn, "flags.on('a', null, 3)") == 0, "no function of that many arguments"
        assert make_false(conn, "flags.off()") == 0
        conn.rollback()


@pytest.mark.parametrize("entry, message", [
    ("only_when: {\"team_id is not null\": [insert]}", "is not a call of a boolean function"),
    ("only_when: {\"public.flag(\": [insert]}", "not a SQL expression"),
    ("only_when: {\"public.flag()\": [upsert]}", "expected a list of commands"),
    ("only_when: [public.flag()]", "must map each condition"),
    ("inserts: {}", "expected one of select, insert, update, delete or only_when"),
])
def test_a_wrong_only_when_is_refused_at_its_line(tmp_path, entry, message):
    project = load_project(FORUM)
    text = (FORUM / "tests/access_intent.yaml").read_text()
    marker = "  # A notification"
    path = tmp_path / "access_intent.yaml"
    path.write_text(text.replace(f"    only_when:\n      {FLAG}: [insert]\n", "").replace(
        marker, f"    {entry}\n\n{marker}"))
    line = path.read_text().splitlines().index(f"    {entry}") + 1
    tables = {name: table.source for name, table in project.tables.items()}
    with pytest.raises(IntentError) as error:
        load_intent(path, "tests/access_intent.yaml", persona_kinds(project), tables)
    assert f"tests/access_intent.yaml:{line}" in str(error.value) and message in str(error.value), str(error.value)


def test_the_forum_intent_names_its_flag():
    project = load_project(FORUM)
    tables = {name: table.source for name, table in project.tables.items()}
    intent = load_intent(FORUM / "tests/access_intent.yaml", "tests/access_intent.yaml", persona_kinds(project),
                         tables)
    assert [(r.table, r.condition, r.commands) for r in intent.only_when] == [("reactions", FLAG, ("insert",))]


def test_a_flag_dropped_from_the_specs_fails_the_proof_with_no_case_file(tmp_path):
    """The forum with its flag-off case file removed and the flag dropped from the reactions
    policy (in the spec, then generated, so specs and migrations agree): the intent's
    ``only_when`` alone fails the proof."""
    project = tmp_path / "forum"
    shutil.copytree(FORUM, project)
    spec = project / "schema/reactions.yaml"
    spec.write_text(spec.read_text().replace(f"      {FLAG}\n      and user_id", "      user_id"))
    cases = project / "tests/cases/forum.yaml"
    text = cases.read_text()
    start, end = text.index("- case: with the reactions feature off"), text.index("- case: with the reactions feature on")
    cases.write_text(text[:start] + text[end:])
    env = {**os.environ, "PYTHONPATH": str(ROOT / "generator"), "TENANTSPEC_PRIVILEGES": "legacy"}

    def tenantspec(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tenantspec", *args], cwd=project, env=env,
                              capture_output=True, text=True, timeout=300)

    generated = tenantspec("generate", "--allow-narrowing")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    proved = tenantspec("prove", "--", "-q", "-k", "conditions_the_intent_names_decide or observed_access or case")
    assert proved.returncode == 1, proved.stdout[-3000:]
    assert "FAILED: the conditions the intent names decide" in proved.stdout, proved.stdout[-3000:]
    assert "observed access = intent" in proved.stdout.split("held: ")[1], "the seeded world alone sees no difference"
    assert "reactions: writer_A: insert a row in their own name: 1 row with " + FLAG + " false" in proved.stdout
