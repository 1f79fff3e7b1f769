"""The conditions of hand-written policies the world never makes false are found and named."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tenantspec.spec import model
from tenantspec.spec.load import load_project
from tenantspec.testing.conditions import conditions_of, never_false

FORUM = Path(__file__).resolve().parents[2] / "examples" / "forum"


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
