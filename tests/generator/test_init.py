"""`tenantspec init` makes a folder a project that generates and proves with no edit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tenantspec.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_a_new_project_generates_checks_and_proves(tmp_path, capsys):
    assert main(["--root", str(tmp_path), "init", "--workspaces", "companies", "--roles", "owner,manager,clerk",
                 "--table", "invoices"]) == 0
    project = (tmp_path / "schema/project.yaml").read_text()
    assert "members:\n    table: company_members\n    workspace_column: company_id" in project
    assert "member: [owner, manager, clerk]" in project and "admin: [owner, manager]" in project
    assert len(list((tmp_path / "supabase/migrations").glob("*_companies.sql"))) == 1
    assert (tmp_path / ".github/workflows/tenantspec.yml").is_file()
    assert "comment: One invoice of a company." in (tmp_path / "schema/invoices.yaml").read_text()
    assert main(["--root", str(tmp_path), "generate"]) == 0
    assert main(["--root", str(tmp_path), "check"]) == 0
    capsys.readouterr()
    # init's own migrations lint clean: its workspaces' created_by has its index
    assert main(["--root", str(tmp_path), "lint", str(tmp_path / "supabase/migrations")]) == 0, capsys.readouterr()
    result = subprocess.run([sys.executable, "-m", "tenantspec", "prove", "--", "-q", "-k", "not random_requests"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "generator")})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "proved 1 table(s) (invoices)" in result.stdout
    # init's workspace migration is hand-written but changes no spec'd table: the check runs
    held = next(line for line in result.stdout.splitlines() if line.startswith("tenantspec: held:"))
    assert "chain = fresh render" in held and "not applicable: chain = fresh render" not in result.stdout


def test_init_refuses_to_overwrite_and_reads_existing_migrations(tmp_path, capsys):
    folder = tmp_path / "supabase/migrations"
    folder.mkdir(parents=True)
    (folder / "20240101000000_teams.sql").write_text(
        "create table public.teams (id uuid primary key, name text not null, created_by uuid);\n"
        "create table public.team_members (team_id uuid references public.teams, user_id uuid, role text);\n")
    assert main(["--root", str(tmp_path), "init", "--workspaces", "teams", "--no-table"]) == 0
    captured = capsys.readouterr()
    assert "creates teams and team_members already: no migration written" in captured.err
    assert sorted(p.name for p in folder.iterdir()) == ["20240101000000_teams.sql"]
    assert main(["--root", str(tmp_path), "init", "--workspaces", "teams", "--no-table"]) == 2
    assert "schema/project.yaml: exists already; `tenantspec init --force` overwrites it" in capsys.readouterr().err


def test_init_names_bad_input(tmp_path, capsys):
    assert main(["--root", str(tmp_path), "init", "--workspaces", "Teams"]) == 2
    assert "--workspaces 'Teams': a table name is lower case" in capsys.readouterr().err
    assert main(["--root", str(tmp_path), "init", "--roles", "owner"]) == 2
    assert "at least two distinct roles" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_workflow_example_is_what_init_writes():
    from tenantspec.render.migrations import environment

    written = environment().get_template("init/workflow.yml.j2").render({})
    assert (ROOT / "docs" / "github-workflow.yml").read_text() == written
