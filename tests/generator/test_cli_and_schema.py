"""The CLI documents every command; the published JSON Schemas validate the specs."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML
from tenantspec.cli import build_parser
from tenantspec.spec.load import load_project

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "generator" / "tenantspec" / "schemas"
APP = ROOT / "tests" / "cases" / "app"  # a frozen copy of the app: see its README


def subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


@pytest.mark.parametrize("command", subcommands())
def test_every_command_has_help(command, capsys):
    from tenantspec.cli import main

    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: tenantspec {command}" in out
    assert len(out.splitlines()) > 3


def test_the_module_runs_the_command_line():
    result = subprocess.run([sys.executable, "-m", "tenantspec", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0
    assert "usage: tenantspec" in result.stdout and "generate" in result.stdout


def test_a_reader_that_stops_reading_gets_no_traceback():
    """`tenantspec prove --observe-change | head -1`: the pipe closes while a command still
    prints. The command stops as one stopped by SIGPIPE, with no traceback."""
    script = ("import tenantspec.cli as cli\n"
              "def talk(args):\n"
              "    'A command that prints much.'\n"
              "    for n in range(100000):\n"
              "        print('cell', n)\n"
              "    return 0\n"
              "cli.cmd_hash = talk\n"
              "raise SystemExit(cli.main(['hash']))\n")
    reader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert reader.stdout.readline() == b"cell 0\n"
    reader.stdout.close()
    stderr = reader.stderr.read().decode()
    assert reader.wait(timeout=120) == 141 and "Traceback" not in stderr and "Exception ignored" not in stderr, stderr


def test_lint_is_a_command():
    assert "lint" in subcommands()


@pytest.mark.parametrize("name", ["project", "table"])
def test_published_schema_is_valid(name):
    Draft202012Validator.check_schema(json.loads((SCHEMAS / f"{name}.schema.json").read_text()))


@pytest.mark.parametrize("spec", sorted((APP / "schema").glob("*.yaml")), ids=lambda p: p.name)
def test_specs_validate_against_the_published_schema(spec):
    name = "project" if spec.name == "project.yaml" else "table"
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    errors = list(Draft202012Validator(schema).iter_errors(YAML(typ="safe").load(spec.read_text())))
    assert errors == []


def test_the_editor_comment_is_optional(tmp_path):
    """The `# yaml-language-server` first line helps editors; a spec without it is as valid."""
    shutil.copytree(APP / "schema", tmp_path / "schema")
    for spec in (tmp_path / "schema").glob("*.yaml"):
        lines = spec.read_text().splitlines(keepends=True)
        spec.write_text("".join(line for line in lines if not line.startswith("# yaml-language-server")))
    assert load_project(tmp_path) == load_project(APP)


def test_global_options_work_before_and_after_the_command(tmp_path, capsys):
    """`tenantspec --root DIR diff` and `tenantspec diff --root DIR` read the same project."""
    shutil.copytree(APP / "schema", tmp_path / "schema")
    shutil.copytree(APP / "supabase", tmp_path / "supabase")
    from tenantspec.cli import main

    assert main(["--root", str(tmp_path), "diff"]) == 0
    before = capsys.readouterr().out
    assert main(["diff", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out == before
    assert "No changes pending" in before


def test_version():
    result = subprocess.run([sys.executable, "-m", "tenantspec", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and re.fullmatch(r"tenantspec \d+\.\d+\.\d+\n", result.stdout)
