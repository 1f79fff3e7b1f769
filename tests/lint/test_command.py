"""The lint command: summary line, settings from pyproject.toml, specs and flags, rule
look-ups, and output into a closed pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tenantspec.lint import Finding, Severity
from tenantspec.lint.command import main
from tenantspec.lint.config import LintConfig, project_config
from tenantspec.lint.formats import summary
from tenantspec.errors import Location

ROOT = Path(__file__).parent.parent.parent

OPEN_INSERT = (
    "create table public.invoices (id uuid primary key, account_id uuid not null references public.accounts (id));\n"
    "create index on public.invoices (account_id);\n"
    "alter table public.invoices enable row level security;\n"
    "revoke all on table public.invoices from public, anon, authenticated;\n"
    "grant select, insert on table public.invoices to authenticated;\n"
    "create policy invoices_insert on public.invoices for insert to authenticated\n"
    "  with check (char_length(id::text) = 36);\n"
)


def finding(severity: Severity) -> Finding:
    return Finding(Location("a.sql", 1, 1), "rls-disabled", severity, "m")


def test_summary_counts_findings_by_severity_and_files():
    assert summary([], 3) == "no findings in 3 files"
    assert summary([finding(Severity.ERROR)], 1) == "1 finding (1 error, 0 warnings, 0 info) in 1 file"
    found = [finding(Severity.ERROR), finding(Severity.ERROR), finding(Severity.WARNING), finding(Severity.INFO)]
    assert summary(found, 2) == "4 findings (2 errors, 1 warning, 1 info) in 2 files"


def test_text_output_ends_with_the_summary(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "0001.sql").write_text("create table public.t (id uuid primary key);\n")
    assert main([str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "3 findings (3 errors, 0 warnings, 0 info) in 1 file"
    assert len(lines) == 4


def test_json_output_has_no_summary(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "0001.sql").write_text("select 1;\n")
    assert main(["--format", "json", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "[]\n"


def test_explain_suggests_the_closest_rules(capsys):
    assert main(["--explain", "rls-disable"]) == 2
    err = capsys.readouterr().err
    assert "unknown rule 'rls-disable'; did you mean rls-disabled" in err
    assert main(["--explain", "zzz"]) == 2
    assert "did you mean" not in capsys.readouterr().err


def closed_pipe_run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python -m tenantspec ARGS`` with its stdout a pipe whose reader has already
    gone, as `| head` leaves it: every write meets a closed pipe."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run([sys.executable, "-m", "tenantspec", *args], cwd=cwd, stdout=write,
                              stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              timeout=60, text=True)
    finally:
        os.close(write)


def test_listing_into_a_closed_pipe_ends_quietly():
    """`tenantspec lint --list-rules | head`: no traceback when the reader leaves early."""
    result = closed_pipe_run(["lint", "--list-rules"], ROOT)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
    assert result.returncode == 0


def test_findings_into_a_closed_pipe_end_quietly(tmp_path):
    (tmp_path / "0001.sql").write_text("create table public.t (id uuid primary key);\n")
    result = closed_pipe_run(["lint", str(tmp_path)], tmp_path)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
    assert result.returncode == 1  # the findings still decide the status


def test_pyproject_section_sets_the_configuration(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "0001.sql").write_text(OPEN_INSERT)
    assert main([str(tmp_path / "0001.sql")]) == 0  # accounts is not known as a tenant
    capsys.readouterr()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.tenantspec.lint]\ntenant-roots = ["public.accounts"]\n')
    assert main([str(tmp_path / "0001.sql")]) == 1
    assert "unscoped-write-policy error" in capsys.readouterr().out
    assert project_config(tmp_path).tenant_roots == {"public.accounts"}


def test_flags_add_to_the_configuration(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "0001.sql").write_text(OPEN_INSERT)
    assert main(["--tenant-root", "public.accounts", str(tmp_path)]) == 1
    assert "never checks account_id" in capsys.readouterr().out
    assert main(["--tenant-column", "public.invoices.account_id", str(tmp_path)]) == 1
    capsys.readouterr()
    assert main(["--tenant-root", "public.accounts", "--no-inference", str(tmp_path)]) == 1


def test_pyproject_errors_exit_two_with_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "0001.sql").write_text("select 1;\n")
    (tmp_path / "pyproject.toml").write_text('[tool.tenantspec.lint]\ntenant-root = ["x"]\n')
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "pyproject.toml: [tool.tenantspec.lint]: unknown key 'tenant-root'" in err and "tenant-roots" in err
    (tmp_path / "pyproject.toml").write_text('[tool.tenantspec.lint]\ntenant-roots = "public.accounts"\n')
    assert main([str(tmp_path)]) == 2
    assert "tenant-roots must be a list of strings" in capsys.readouterr().err
    (tmp_path / "pyproject.toml").write_text('[tool.tenantspec.lint\n')
    assert main([str(tmp_path)]) == 2
    assert "pyproject.toml: cannot read" in capsys.readouterr().err


def test_the_projects_specs_supply_its_tenancy():
    config = project_config(ROOT)
    assert "public.workspaces" in config.tenant_roots
    assert {"public.orders.workspace_id", "public.carrier_configs.workspace_id"} <= config.tenant_columns
    assert "public.robot_job_items.workspace_id" in config.tenant_columns  # carried from its job
    assert "is_workspace_member" in config.membership_helpers
    assert project_config(ROOT, use_specs=False) == LintConfig()


def test_a_folder_without_specs_lints_with_inference_alone(tmp_path):
    assert project_config(tmp_path) == LintConfig()


def test_broken_specs_exit_two_with_their_location(tmp_path, monkeypatch, capsys):
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "project.yaml").write_text("schema: public\ntenancy: 12\n")
    (tmp_path / "0001.sql").write_text("select 1;\n")
    monkeypatch.chdir(tmp_path)
    assert main([str(tmp_path / "0001.sql")]) == 2
    assert "schema/project.yaml" in capsys.readouterr().err
    assert main(["--no-specs", str(tmp_path / "0001.sql")]) == 0
