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
    assert len(list((tmp_path / "supabase/migrations").glob("*_create_invoices.sql"))) == 1, "init generates"
    assert main(["--root", str(tmp_path), "check"]) == 0, "the project checks as init wrote it"
    capsys.readouterr()
    assert main(["--root", str(tmp_path), "generate"]) == 0
    assert capsys.readouterr().out.strip().endswith("up to date")
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


DEEP = {  # invoices (init's, a workspace column) -> lines (exists) -> notes (parent_ids), events (exists)
    "invoice_lines": """\
table: invoice_lines
columns:
  id: {type: uuid, primary_key: true, default: gen_random_uuid()}
  invoice_id: {type: uuid, references: {table: invoices, on_delete: cascade}}
  amount: {type: numeric, not_null: true, default: 0}
indexes:
  - columns: [invoice_id]
tenancy: {parent: invoice_id, nullable: true, strategy: exists}
access: {select: member, insert: member, update: member, delete: admin}
""",
    "line_notes": """\
table: line_notes
columns:
  id: {type: uuid, primary_key: true, default: gen_random_uuid()}
  line_id: {type: uuid, not_null: true, references: {table: invoice_lines, on_delete: cascade}}
  body: {type: text}
indexes:
  - columns: [line_id]
tenancy: {parent: line_id, strategy: parent_ids}
access: {select: member, insert: member, update: admin, delete: admin}
""",
    "line_events": """\
table: line_events
columns:
  id: {type: uuid, primary_key: true, default: gen_random_uuid()}
  line_id: {type: uuid, not_null: true, references: {table: invoice_lines, on_delete: cascade}}
  kind: {type: text}
indexes:
  - columns: [line_id]
tenancy: {parent: line_id, strategy: exists}
access: {select: member, insert: admin, update: nobody, delete: nobody}
""",
}


def cells(**commands: str) -> str:
    """An intent row per command: the kinds it lets in of owner, manager, clerk."""
    kinds = ("owner", "manager", "clerk")
    return "".join(f"    {command}: {{" + ", ".join(f"{k}: {'allowed' if k in allowed.split() else 'denied'}"
                                                      for k in kinds)
                   + ", other_member: denied, outsider: denied, anon: denied, service_role: allowed}\n"
                   for command, allowed in commands.items())


EVERYONE, ADMINS = "owner manager clerk", "owner manager"
DEEP_INTENT = (  # what the product asks of each table, by the persona kinds init's roles make
    "  invoice_lines:\n" + cells(select=EVERYONE, insert=EVERYONE, update=EVERYONE, delete=ADMINS)
    + "  line_notes:\n" + cells(select=EVERYONE, insert=EVERYONE, update=ADMINS, delete=ADMINS)
    + "  line_events:\n" + cells(select=EVERYONE, insert=ADMINS, update="", delete=""))


def test_children_of_a_child_with_no_workspace_column_prove_under_exists_and_parent_ids(tmp_path, capsys):
    """A line of an invoice holds no workspace column (exists, and it may have no invoice); its
    notes (parent_ids) and events (exists) reach the workspace two parents up. Each generates,
    checks and proves, its policies going through every parent."""
    assert main(["--root", str(tmp_path), "init", "--workspaces", "companies", "--roles", "owner,manager,clerk",
                 "--table", "invoices"]) == 0
    with (tmp_path / "tests/access_intent.yaml").open("a") as intent:
        intent.write(DEEP_INTENT)
    for name, text in DEEP.items():
        (tmp_path / "schema" / f"{name}.yaml").write_text(text)
    project = (tmp_path / "schema/project.yaml").read_text()
    (tmp_path / "schema/project.yaml").write_text(project.replace("tables: [invoices]",
                                                                  "tables: [invoices, invoice_lines, line_notes, line_events]"))
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr().err
    sql = "".join(p.read_text() for p in sorted((tmp_path / "supabase/migrations").glob("*.sql")))
    assert "from public.invoice_lines as p\n  where exists (select 1 from public.invoices as p2 where p2.id = " \
           "p.invoice_id and p2.company_id = any (array(select private.member_workspace_ids())))" in sql, sql
    assert ("using (exists (select 1 from public.invoice_lines as p where p.id = line_events.line_id and exists "
            "(select 1 from public.invoices as p2 where p2.id = p.invoice_id and p2.company_id = any") in sql, sql
    assert main(["--root", str(tmp_path), "check"]) == 0
    result = subprocess.run([sys.executable, "-m", "tenantspec", "prove", "--", "-q", "-k", "not random_requests"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "generator")})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "proved 4 table(s)" in result.stdout, result.stdout[-2000:]
