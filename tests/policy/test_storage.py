"""The proof on Storage: a project's buckets, generated from its specs, hold against every
persona's requests as the Storage API sends them; a policy that loses its bucket tie or its
folder test, or is widened to every command, fails the proof."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tenantspec.cli import main

ROOT = Path(__file__).resolve().parents[2]
BUCKETS = """
storage:
  buckets:
    shipping-guides:
      allowed_mime_types: [application/pdf]
      access: {select: member, insert: admin, update: admin, delete: admin}
    avatars:
      public: true
      folder: user
      access: {select: own, insert: own, update: own, delete: own}
"""
MEMBERS = "array(select w::text from private.member_workspace_ids() as w)"
MUTANTS = {
    "bucket tie dropped": f"create policy \"shipping-guides_select\" on storage.objects for select to authenticated "
                          f"using ((storage.foldername(name))[1] = any ({MEMBERS}));",
    "folder test dropped": "create policy \"shipping-guides_select\" on storage.objects for select to authenticated "
                           "using (bucket_id = 'shipping-guides');",
    "for all widened": f"create policy \"shipping-guides_select\" on storage.objects for all to authenticated "
                       f"using (bucket_id = 'shipping-guides' and (storage.foldername(name))[1] = any ({MEMBERS}));",
}


def prove(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tenantspec", "prove", "--", "-q", "-k", "storage"], cwd=project,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "generator"), "TENANTSPEC_PRIVILEGES": "legacy"},
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """An init project with a workspace bucket and a user bucket, generated, its intent's
    bucket entries pasted from the block the proof prints."""
    root = tmp_path_factory.mktemp("buckets")
    assert main(["--root", str(root), "init", "--workspaces", "teams", "--roles", "owner,admin,member"]) == 0
    (root / "schema/project.yaml").write_text((root / "schema/project.yaml").read_text() + BUCKETS)
    assert main(["--root", str(root), "generate"]) == 0
    asked = prove(root)
    assert asked.returncode != 0 and "no intent for 2 bucket(s): avatars, shipping-guides" in asked.stdout
    block = asked.stdout.split("\nbuckets:\n", 1)[1].split("\ntenantspec:", 1)[0]
    intent = root / "tests/access_intent.yaml"
    intent.write_text(intent.read_text() + "\nbuckets:\n" + block.rstrip() + "\n")
    return root


def test_generated_buckets_hold_against_every_storage_request(project):
    proved = prove(project)
    assert proved.returncode == 0, proved.stdout[-3000:]
    assert "storage requests = intent" in proved.stdout


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_a_weakened_storage_policy_fails_the_proof(project, mutant, tmp_path):
    import shutil

    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    (copy / "supabase/migrations/20991231000000_mutant.sql").write_text(
        'drop policy "shipping-guides_select" on storage.objects;\n' + MUTANTS[mutant] + "\n")
    proved = prove(copy)
    assert proved.returncode == 1, proved.stdout[-3000:]
    assert "storage requests differ from tests/access_intent.yaml" in proved.stdout


def test_observing_writes_the_buckets_cells_the_proof_then_agrees_with(project):
    observed = subprocess.run([sys.executable, "-m", "tenantspec", "prove", "--observe", "--", "-q"], cwd=project,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "generator")},
                              capture_output=True, text=True, timeout=300)
    assert observed.returncode == 0, observed.stdout[-3000:]
    from ruamel.yaml import YAML

    written = YAML(typ="safe").load((project / "tests/access_intent.observed.yaml").read_text())
    intended = YAML(typ="safe").load((project / "tests/access_intent.yaml").read_text())
    assert written["buckets"] == intended["buckets"]
    assert written["buckets"]["avatars"]["update"]["member"] == "own"
