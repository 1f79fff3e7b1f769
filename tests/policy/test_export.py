"""`tenantspec prove --export-pgtap`: the proof's requests and the catalog it approved, as
pgTAP files that pass on the chain they were exported from, come out the same every time, and
fail on a chain that lets one request more through (`tenantspec db test` runs them; where
pgTAP is not installed it must refuse saying how to install it, and that is asserted)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tenantspec.standin.pgtap import find_pgtap, pgtap_missing_message

ROOT = Path(__file__).resolve().parents[2]
FORUM = ROOT / "examples" / "forum"

# a later migration that lets every signed-in user read every team's topics
WIDENED = """\
drop policy topics_select on public.topics;
create policy topics_select on public.topics for select to authenticated using (true);
"""


def tenantspec(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "generator")}
    return subprocess.run([sys.executable, "-m", "tenantspec", *args], cwd=project, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_exported_proof_passes_on_its_chain_is_deterministic_and_fails_on_a_widened_one(tmp_path):
    project = tmp_path / "forum"
    shutil.copytree(FORUM, project)
    exported = tenantspec(project, "prove", "--export-pgtap", "exported", "--", "-q")
    assert exported.returncode == 0, exported.stdout[-3000:]
    files = sorted(p.name for p in (project / "exported").iterdir())
    assert files == ["comments_access_test.sql", "notification_actions_access_test.sql",
                     "notifications_access_test.sql", "reactions_access_test.sql", "schema_test.sql",
                     "topics_access_test.sql"]
    first = {name: (project / "exported" / name).read_text() for name in files}
    assert "select is(pg_temp.tenantspec_answer('writer_A', $q$insert into" in first["comments_access_test.sql"]
    assert "'the proven policies'" in first["schema_test.sql"]
    assert "with public.feature_enabled(''reactions'') false" in first["reactions_access_test.sql"], "only_when"
    again = tenantspec(project, "prove", "--export-pgtap", "exported", "--", "-q")
    assert again.returncode == 0
    assert {name: (project / "exported" / name).read_text() for name in files} == first, "deterministic"

    ran = tenantspec(project, "db", "test", "exported", "--baseline", "supabase/baseline.sql")
    if find_pgtap() is None:
        assert ran.returncode == 2 and pgtap_missing_message() in ran.stderr
        return
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "All tests successful. Result: PASS" in ran.stderr

    (project / "supabase/migrations/20260701000000_widen.sql").write_text(WIDENED)
    widened = tenantspec(project, "db", "test", "exported", "--baseline", "supabase/baseline.sql")
    assert widened.returncode == 1, widened.stderr[-3000:]
    assert "topics_access_test.sql .. FAILED" in widened.stderr
    assert "not ok" in widened.stdout and "not ok 8 - topics: moderator_A: select B's rows" in widened.stdout
    assert "schema_test.sql .. FAILED" in widened.stderr, "the catalog it approved changed too"
