"""The proof rejects the hand-written migrations, each check for its own mistake."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDWRITTEN = ROOT / "tests" / "cases" / "handwritten_migrations"
APP = ROOT / "tests" / "cases" / "app"  # the specs, intent and cases the hand-written tables stand for

# Failing check -> the mistake of tests/cases/handwritten_migrations it stands for.
EXPECTED = {
    "test_policies_name_their_roles_and_check_updates": "policies without TO apply to PUBLIC; UPDATE without WITH CHECK",
    "test_api_roles_hold_no_truncate_references_or_trigger": "GRANT ALL hands TRUNCATE, REFERENCES, TRIGGER out",
    "test_grants_are_what_the_access_model_needs": "GRANT ALL to anon and authenticated",
    "test_triggers": "the updated_at triggers are not named as the specs say; no workspace guard or carry trigger",
    "test_tables_have_the_specified_columns": "robot_job_items does not carry its job's workspace_id",
    "test_probes_surface_as_expected": "items point at other workspaces' orders; deletes reach policies; TRUNCATE",
    "test_case": "timestamps default to a naive Bogota time read as UTC (one case per table)",
}


@functools.cache
def proof_of_the_handwritten_migrations() -> str:
    """The proof run once on the hand-written migrations (regime 2026), for the tests that read
    what it says: every check, the random sequences included."""
    env = {**os.environ, "MIGRATIONS_DIR": str(HANDWRITTEN), "TENANTSPEC_PRIVILEGES": "2026", "TENANTSPEC_ROOT": str(APP),
           "TENANTSPEC_HYPOTHESIS_EXAMPLES": "25"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/policy/test_proof.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    return output


def test_the_handwritten_migrations_are_rejected_for_their_mistakes():
    output = proof_of_the_handwritten_migrations()
    failed = re.findall(r"^FAILED tests/policy/test_proof.py::(\w+)\[2026(?:-([^\]]+))?\]", output, re.M)
    assert {name for name, _ in failed} - {"test_random_requests_match_the_access_model"} == set(EXPECTED), output
    assert sorted(case.split(":")[0] for name, case in failed if name == "test_case") == [
        "tests/policy/cases/carrier_configs.yaml", "tests/policy/cases/robot_job_items.yaml",
        "tests/policy/cases/robot_jobs.yaml"]
    assert "with order_id at B's row" in output and "truncate the table" in output
    assert "expected [[True, True]], got [[False, False]]" in output


def test_a_failing_random_sequence_reads_as_requests():
    """Hypothesis's shrunk example comes back as the requests and what the database answered,
    not as a traceback of internal objects."""
    output = proof_of_the_handwritten_migrations()
    assert re.search(r"^FAILED tests/policy/test_proof.py::test_random_requests_match_the_access_model\[2026\]",
                     output, re.M), output
    assert "a random sequence of requests differs from the access model: " in output
    assert re.search(r"The sequence, request by request .*\n  1\. \w+ on \w+: .+ -> ", output), output
    assert "Traceback" not in output and "Op(" not in output.split("short test summary")[0], output
