"""The built-in levels that reach past the workspace: `signed_in` (every signed-in user,
member or not) and `anyone` (anon too). A project generated with both holds the proof; a
migration that takes the catalog from anon, or the bios from users outside the workspace,
fails it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tenantspec.cli import main

ROOT = Path(__file__).resolve().parents[2]
SPECS = Path(__file__).parent / "projects/open_levels/schema"
MUTANTS = {
    "anon loses the listings": "drop policy listings_select on public.listings;\n"
                               "create policy listings_select on public.listings for select to authenticated "
                               "using (true);",
    "outsiders lose the bios": "drop policy bios_select on public.bios;\n"
                               "create policy bios_select on public.bios for select to authenticated "
                               "using (exists (select 1 from public.team_members m "
                               "where m.user_id = (select auth.uid())));",
}


def prove(project: Path, *selection: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tenantspec", "prove", "--", "-q", *selection], cwd=project,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "generator"), "TENANTSPEC_PRIVILEGES": "legacy"},
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """An init project with a catalog anyone reads and bios every signed-in user reads,
    generated, the intent pasted from the block the proof prints."""
    root = tmp_path_factory.mktemp("open")
    assert main(["--root", str(root), "init", "--workspaces", "teams", "--roles", "owner,admin,member"]) == 0
    for spec in SPECS.iterdir():
        shutil.copy(spec, root / "schema" / spec.name)
    assert main(["--root", str(root), "generate"]) == 0
    asked = prove(root, "-x")
    assert asked.returncode != 0 and "no intent for 2 table(s): bios" in asked.stdout
    block = asked.stdout.split("Paste this under `tables:`", 1)[1].split("\n\n", 1)[1].split("\n\ntenantspec:", 1)[0]
    assert "listings:\n    select: {owner: allowed, admin: allowed, member: allowed, other_member: allowed, " \
           "outsider: allowed, anon: allowed" in block
    assert "bios:\n    select: {owner: allowed, admin: allowed, member: allowed, other_member: allowed, " \
           "outsider: allowed, anon: denied" in block
    intent = root / "tests/access_intent.yaml"
    intent.write_text(intent.read_text().replace("tables:\n", "tables:\n" + block.rstrip() + "\n", 1))
    return root


def test_open_levels_render_for_their_roles(project):
    migration = next(p for p in (project / "supabase/migrations").iterdir() if "bios" in p.name).read_text()
    assert "create policy listings_select on public.listings\n  for select to anon, authenticated\n  using (true);" \
        in migration
    assert "grant select on table public.listings to anon;" in migration
    assert "create policy bios_select on public.bios\n  for select to authenticated\n  using (true);" in migration


def test_a_project_with_open_levels_holds_the_proof(project):
    proved = prove(project)
    assert proved.returncode == 0, proved.stdout[-3000:]


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_a_migration_closing_an_open_level_fails_the_proof(project, mutant, tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    (copy / "supabase/migrations/20991231000000_mutant.sql").write_text(MUTANTS[mutant] + "\n")
    proved = prove(copy, "-k", "probes_surface or observed_access")
    assert proved.returncode == 1, proved.stdout[-3000:]
    assert "every probe as the access model expects" in proved.stdout.split("FAILED:", 1)[1].splitlines()[0]
