"""`tenantspec prove --observe-change`: the access a migration changes, observed on the chain
without it and with it, whatever the cause (a policy, a grant, a trigger), lost cells refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tenantspec.testing.change import CellChange, cell_changes, change_report

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "tests" / "adopt" / "cases" / "personal_rows"  # hand-written migrations and their specs


def test_cells_lost_gained_and_otherwise_changed_are_told_apart():
    before = {"legacy": {("t", "select", "member", "A"): ("allowed", "2 rows visible"),
                         ("t", "insert", "member", "A"): ("own", "1 row"),
                         ("t", "update", "member", "A"): ("denied", "0 rows"),
                         ("t", "delete", "member", "A"): ("own", "1 row"),
                         ("t", "delete", "owner", "A"): ("allowed", "1 row"),
                         ("t", "select", "anon", "A"): ("allowed", "2 rows visible"),
                         ("gone", "select", "member", "A"): ("allowed", "1 row")},
              "2026": {("t", "select", "member", "A"): ("allowed", "2 rows visible")}}
    after = {"legacy": {("t", "select", "member", "A"): ("own", "1 row visible"),
                        ("t", "insert", "member", "A"): ("denied", "error P0001 trigger"),
                        ("t", "update", "member", "A"): ("allowed", "1 row"),
                        ("t", "delete", "member", "A"): ("partial", "a: 1 row; b: 0 rows"),
                        ("t", "delete", "owner", "A"): ("allowed", "1 row"),
                        ("t", "select", "anon", "A"): ("denied", "error 42501 privilege")}}
    changes = cell_changes(before, after)
    kinds = {c.cell[:3]: c.kind for c in changes}
    assert kinds == {("t", "select", "member"): "lost", ("t", "insert", "member"): "lost",
                     ("t", "update", "member"): "gained", ("t", "delete", "member"): "changed",
                     ("t", "select", "anon"): "closed"}
    assert all(c.regime == "legacy" for c in changes), "a regime only one chain was observed under compares nothing"
    text, status = change_report("0002_x.sql", changes)
    assert status == 1 and ("0002_x.sql changes 5 observed cells: 2 lost by members or the service, 1 closed to "
                            "people outside the workspace, 1 gained, 1 otherwise changed, 0 where the earlier chain "
                            "lacked the table or column the requests name") in text
    assert [r.split()[0] for r in text.splitlines()[3:8]] == ["lost", "lost", "closed", "gained", "changed"]
    assert "error P0001 trigger" in text and "error 42501 privilege (no grant)" in text
    assert "--allow-narrowing says so" in text
    assert change_report("0002_x.sql", changes, allow_narrowing=True)[1] == 0
    closed_or_gained = [c for c in changes if not c.lost]
    assert change_report("0002_x.sql", closed_or_gained)[1] == 0, "closing a cell to outsiders is no narrowing"
    assert CellChange("2026", ("t", "select", "service_role", "A"), "allowed", "denied", "x").lost
    # a column the migration adds: the earlier chain refused the requests naming it
    made = CellChange("2026", ("t", "update", "member", "A"), "denied", "allowed", "1 row", "error 42703")
    dropped = CellChange("2026", ("t", "update", "member", "A"), "allowed", "denied", "x", "a: error 42P01; b: 1 row")
    assert made.kind == dropped.kind == "made" and not dropped.lost
    assert change_report("0002_x.sql", []) == ("0002_x.sql changes no observed cell (every persona, command and "
                                               "table as before)", 0)


def test_a_guard_trigger_the_specs_do_not_say_is_observed_taking_access_away(tmp_path, tenantspec_server):
    """A trailing hand-written migration: a trigger refusing notes from signed-in users (no
    policy, no grant changed: the access model reads nothing), and notes now readable by every
    signed-in user. Observed: insert lost, with the trigger's error; select gained."""
    from psycopg.conninfo import make_conninfo

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    for sql in (CASE / "migrations").glob("*.sql"):
        shutil.copy(sql, tmp_path / "supabase/migrations" / sql.name)
    (tmp_path / "supabase/migrations/20250501000000_guard.sql").write_text(
        "create function public.refuse_new_notes() returns trigger language plpgsql as $$\n"
        "begin\n  if current_user = 'authenticated' then raise exception 'notes come from the server now'; end if;\n"
        "  return new;\nend $$;\n"
        "create trigger refuse_new_notes before insert on public.notes\n"
        "  for each row execute function public.refuse_new_notes();\n"
        "create policy \"everyone reads notes\" on public.notes for select to authenticated using (true);\n")
    (tmp_path / "schema").mkdir()
    shutil.copy(CASE / "project.yaml", tmp_path / "schema/project.yaml")
    for spec in (CASE / "expected/schema").glob("*.yaml"):
        shutil.copy(spec, tmp_path / "schema" / spec.name)
    server = tenantspec_server.server
    env = {k: v for k, v in os.environ.items() if k not in ("MIGRATIONS_DIR", "TENANTSPEC_BASELINE")}
    env |= {"PYTHONPATH": str(ROOT / "generator"), "TENANTSPEC_PRIVILEGES": "legacy", "TENANTSPEC_DB": "url",
            "DATABASE_URL": make_conninfo(**server.admin, dbname=server.admin_dbname)}
    done = subprocess.run([sys.executable, "-m", "tenantspec", "prove", "--observe-change"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    rows = done.stdout.splitlines()
    lost = [r.split() for r in rows if r.startswith("lost")]
    assert ["lost", "legacy", "notes", "insert", "member", "A", "allowed", "denied"] in [r[:8] for r in lost]
    assert all(r[3] == "insert" for r in lost), "only the trigger's command is lost"
    assert all(r[8:] == ["error", "P0001", "(raised", "by", "a", "trigger", "or", "function)"] for r in lost)
    assert any(r.split()[:5] == ["gained", "legacy", "notes", "select", "outsider"] for r in rows)
    assert "error: 20250501000000_guard.sql takes access away from members or the service in" in done.stdout
