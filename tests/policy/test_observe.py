"""`tenantspec prove --observe`: the access a chain grants, observed cell by cell and written as
a starting intent that loads, says why each denial happened, and agrees with the proof."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tenantspec.testing.intent import load_intent
from tenantspec.testing.observe import observed_cells, observed_intent_text

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "tests" / "adopt" / "cases" / "personal_rows"  # hand-written migrations and their specs
KINDS = ("owner", "member", "other_member", "outsider", "anon", "service_role")


def matrix(verdicts: dict[str, str], how: str = "1 row", denied_how: str = "error 42501 policy") -> dict:
    """One regime's observation of table t's insert: the same on both workspaces."""
    return {("t", "insert", kind, ws): (verdict, how if verdict != "denied" else denied_how)
            for kind, verdict in verdicts.items() for ws in ("A", "B")}


def test_cells_agreeing_everywhere_are_written_as_seen_and_the_others_denied_with_the_reason():
    legacy = matrix({"owner": "allowed", "member": "allowed", "other_member": "denied", "outsider": "denied",
                     "anon": "denied", "service_role": "allowed"})
    current = dict(legacy) | matrix({"member": "denied"}, denied_how="error 42501 privilege")
    current[("t", "insert", "owner", "B")] = ("partial", "owner_B: 1 row; owner_B2: error 42501 policy")
    cells, comments, by_regimes = observed_cells({"legacy": legacy, "2026": current}, KINDS, ["t"])
    assert cells[("t", "insert", "service_role")] == "allowed"
    assert cells[("t", "insert", "outsider")] == "denied"
    assert cells[("t", "insert", "member")] == "denied" and by_regimes
    assert cells[("t", "insert", "owner")] == "denied", "a partial observation is no verdict"
    notes = "\n".join(comments[("t", "insert")])
    assert "member (2026: denied, legacy: allowed)" in notes
    assert "owner (2026: allowed/partial, legacy: allowed)" in notes
    assert "denied: other_member, outsider, anon (error 42501 policy)" in notes
    assert cells[("t", "select", "owner")] == "denied" and "not probed" in "\n".join(comments[("t", "select")])


def test_the_written_file_loads_as_an_intent(tmp_path):
    observed = {"legacy": matrix({kind: "allowed" if kind == "owner" else "denied" for kind in KINDS})}
    path = tmp_path / "access_intent.yaml"
    path.write_text(observed_intent_text(observed, KINDS, ["t"], "supabase/migrations"))
    intent = load_intent(path, "tests/access_intent.yaml", KINDS, {"t": "schema/t.yaml"})
    assert intent.cells[("t", "insert", "owner")] == "allowed"
    assert intent.cells[("t", "insert", "member")] == "denied"
    assert path.read_text().startswith("# OBSERVED by `tenantspec prove --observe` on supabase/migrations")


def test_observing_a_hand_written_chain_writes_the_intent_the_proof_then_agrees_with(tmp_path):
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    for sql in (CASE / "migrations").glob("*.sql"):
        shutil.copy(sql, tmp_path / "supabase/migrations" / sql.name)
    (tmp_path / "schema").mkdir()
    shutil.copy(CASE / "project.yaml", tmp_path / "schema/project.yaml")
    for spec in (CASE / "expected/schema").glob("*.yaml"):
        shutil.copy(spec, tmp_path / "schema" / spec.name)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "generator"), "TENANTSPEC_PRIVILEGES": "legacy"}

    def prove(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tenantspec", "prove", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)

    observing = prove("--observe", "--", "-q")
    assert observing.returncode == 0, observing.stdout[-3000:]
    assert "wrote tests/access_intent.yaml: the access observed under legacy, for review" in observing.stdout
    written = (tmp_path / "tests/access_intent.yaml").read_text()
    # the chain's own rules: members read their organization's notes, nobody deletes them
    assert "    select: {owner: allowed, member: allowed, other_member: denied, outsider: denied" in written
    assert "    # denied: owner, member, other_member, outsider, anon (0 rows)\n    delete:" in written
    judged = prove("--", "-q", "-k", "observed_access_matches_the_intent")
    assert judged.returncode == 0, judged.stdout[-3000:]
    assert "observed access = intent" in judged.stdout
    again = prove("--observe", "--", "-q")
    assert "wrote tests/access_intent.observed.yaml" in again.stdout, "an intent of the project's is never overwritten"
    assert (tmp_path / "tests/access_intent.yaml").read_text() == written


def test_observing_writes_the_condition_a_hand_written_policy_waits_for_as_only_when(tmp_path):
    """The forum's reactions wait for a feature flag the seeded world holds on: observing makes
    the flag false itself and writes what it decides; the file loads with that only_when."""
    from tenantspec.render.matrix import persona_kinds
    from tenantspec.spec.load import load_project

    forum = ROOT / "examples" / "forum"
    project = tmp_path / "forum"
    shutil.copytree(forum, project)
    (project / "tests/access_intent.yaml").unlink()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "generator")}
    observing = subprocess.run([sys.executable, "-m", "tenantspec", "prove", "--observe", "--", "-q"], cwd=project,
                               env=env, capture_output=True, text=True, timeout=300)
    assert observing.returncode == 0, observing.stdout[-3000:]
    loaded = load_project(project)
    intent = load_intent(project / "tests/access_intent.yaml", "tests/access_intent.yaml", persona_kinds(loaded),
                         {name: table.source for name, table in loaded.tables.items()})
    assert [(r.table, r.condition, r.commands) for r in intent.only_when] == [
        ("reactions", "public.feature_enabled('reactions')", ("insert",))]
