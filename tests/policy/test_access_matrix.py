"""Deliverable: observed access (probed on the database) against the hand-written intent and
against the matrix the generator declares from the specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from access_matrix import COMMANDS, PERSONA_KINDS, format_table, load_intent, observe
from generator.testing.database import clone_database, drop_database
from generator.testing.personas import WORKSPACES

HEADER = ("cell (table, command, persona, on rows of)", "intended", "declared", "observed")

def declared_matrix_or_fail(root: Path) -> dict:
    """The generator's declared matrix; a clear failure (never a skip) when it is missing."""
    try:
        from generator.access import declared_matrix
        from generator.load import load_project
    except ImportError as exc:
        pytest.fail(
            "generator.access.declared_matrix is not available "
            f"({exc}). The policy suite compares the database with the matrix the specs "
            "declare: generator/access.py must provide declared_matrix(load_project(root)).",
            pytrace=False,
        )
    return declared_matrix(load_project(root))


@pytest.fixture(scope="module")
def intent():
    return load_intent()


@pytest.fixture
def declared(pytestconfig) -> dict:
    return declared_matrix_or_fail(Path(pytestconfig.rootpath))


@pytest.fixture(scope="module")
def observed(template_database, world, intent):
    """Probed once per privilege regime: every probe is a rolled-back request, so the three
    comparisons can share one clone."""
    clone = clone_database(template_database)
    try:
        with clone.impersonator() as impersonate:
            return observe(impersonate, world, sorted({table for table, _, _ in intent}))
    finally:
        drop_database(clone.server, clone.name)


def _rows(intent, declared, observed, keep):
    rows = []
    for (table, command, kind), intended in intent.items():
        decl = declared.get((table, command, kind), "(missing)") if declared is not None else "-"
        for ws in WORKSPACES if observed is not None else ("A",):
            obs = observed.cells[(table, command, kind, ws)] if observed is not None else None
            if keep(intended, decl, obs):
                cell = f"{table} {command} {kind} {ws}"
                rows.append((cell, intended, decl, f"{obs.verdict} ({obs.how})" if obs else "-"))
    return rows


def test_intent_covers_every_cell(intent):
    tables = {t for t, _, _ in intent}
    assert tables == {"carrier_configs", "robot_jobs", "robot_job_items"}
    assert len(intent) == len(tables) * len(COMMANDS) * len(PERSONA_KINDS)


def test_observed_matches_intent(intent, observed, declared_or_none):
    mismatches = _rows(intent, declared_or_none, observed, lambda i, d, o: o.verdict != i)
    if mismatches:
        pytest.fail(
            f"{len(mismatches)} cells where the database does not do what the intent says:\n"
            + format_table(mismatches, HEADER),
            pytrace=False,
        )


def test_declared_matches_intent(intent, declared):
    mismatches = _rows(intent, declared, None, lambda i, d, o: d != i)
    if mismatches:
        pytest.fail(
            f"{len(mismatches)} cells where the specs declare something other than the intent:\n"
            + format_table(mismatches, HEADER),
            pytrace=False,
        )


def test_observed_matches_declared(intent, declared, observed):
    mismatches = _rows(intent, declared, observed, lambda i, d, o: o.verdict != d)
    if mismatches:
        pytest.fail(
            f"{len(mismatches)} cells where the database does not do what the specs declare:\n"
            + format_table(mismatches, HEADER),
            pytrace=False,
        )


def test_denials_are_recorded_as_error_or_zero_rows(intent, observed):
    """Every denied write says how it surfaced; a denial that changed rows is not a denial."""
    for (table, command, kind, ws), obs in observed.cells.items():
        if obs.verdict == "denied" and command != "select":
            assert "error" in obs.how or "0 rows" in obs.how, (table, command, kind, ws, obs)


@pytest.fixture
def declared_or_none(pytestconfig):
    """The declared column for the observed-vs-intent table, when the generator provides it."""
    try:
        return declared_matrix_or_fail(Path(pytestconfig.rootpath))
    except pytest.fail.Exception:
        return None
