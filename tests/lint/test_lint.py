"""The linter: every rule's pass/fail cases (data files in cases/), output formats,
suppressions, exit statuses, and the two folders that matter: our generated migrations lint
clean, the hand-written ones yield the expected findings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tenantspec.errors import TenantspecError
from tenantspec.lint import RULES, LintConfig, Severity, lint_paths, lint_text, project_config
from tenantspec.lint.command import main

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CASES = HERE / "cases"
GENERATED = ROOT / "tests" / "cases" / "app" / "supabase" / "migrations"  # a frozen copy of the app
HANDWRITTEN = ROOT / "tests" / "cases" / "handwritten_migrations"
HANDWRITTEN_EXPECTED = CASES / "handwritten_migrations.expected"


def rule_cases():
    """One pytest param per case in cases/<rule-id>.yml, with id ``file:line``."""
    yaml = YAML(typ="rt")
    for path in sorted(CASES.glob("*.yml")):
        document = yaml.load(path.read_text(encoding="utf-8"))
        for name, case in document.items():
            if name == "rule":
                continue
            line = document.lc.key(name)[0] + 1
            yield pytest.param(document["rule"], case, id=f"{path.name}:{line}")


def case_config(overrides) -> LintConfig:
    """The case's ``config`` mapping on top of the defaults (lists add to sets)."""
    return LintConfig().merged(**dict(overrides or {}))


@pytest.mark.parametrize("rule_id, case", list(rule_cases()))
def test_rule_case(rule_id, case):
    """A fail_str must yield the rule (at ``expected`` line:col, with ``severity``, messages
    containing every ``contains`` and no ``excludes`` text); a pass_str must not."""
    config = case_config(case.get("config"))
    sql = str(case.get("fail_str", case.get("pass_str")))
    found = [f for f in lint_text(sql, "case.sql", config) if f.rule_id == rule_id]
    if "fail_str" in case:
        assert found, f"{rule_id} reported nothing"
        if "expected" in case:
            assert [f"{f.location.line}:{f.location.col}" for f in found] == list(case["expected"])
        if "severity" in case:
            assert {str(f.severity) for f in found} == {case["severity"]}, "\n".join(map(str, found))
        messages = "\n".join(f.message for f in found)
        for text in case.get("contains", ()):
            assert text in messages, messages
        for text in case.get("excludes", ()):
            assert text not in messages, messages
    else:
        assert not found, "\n".join(map(str, found))


def test_every_rule_has_a_doc_and_pass_and_fail_cases():
    yaml = YAML(typ="safe")
    kinds: dict[str, set[str]] = {}
    for path in CASES.glob("*.yml"):
        document = yaml.load(path.read_text(encoding="utf-8"))
        for name, case in document.items():
            if name != "rule":
                kinds.setdefault(document["rule"], set()).update(k for k in case if k.endswith("_str"))
    for rule in RULES.values():
        assert rule.doc and rule.summary, rule.id
        assert kinds.get(rule.id) == {"pass_str", "fail_str"}, rule.id


def test_generated_migrations_lint_clean_at_warning_level():
    findings = [f for f in lint_paths([GENERATED]) if f.severity >= Severity.WARNING]
    assert not findings, "\n".join(map(str, findings))


def test_handwritten_migrations_yield_the_expected_findings():
    """Linted as this project's own: its specs say workspaces are the tenants."""
    found = [f"{Path(f.location.path).name}:{f.location.line}:{f.location.col} {f.rule_id} {f.severity}"
             for f in lint_paths([HANDWRITTEN], project_config(ROOT))]
    expected = [line for line in HANDWRITTEN_EXPECTED.read_text().splitlines() if line and not line.startswith("#")]
    assert found == expected


PROJECTS = HERE / "projects"


@pytest.mark.parametrize("project", sorted(p.name for p in PROJECTS.iterdir() if p.is_dir()))
def test_project_yields_its_expected_findings(project, monkeypatch, capsys):
    """Each folder under projects/ is a small Supabase project reproducing one pattern met
    in real ones; linted from its root (its own pyproject.toml, its supabase/migrations),
    the text output must equal its expected.txt. TENANTSPEC_UPDATE_EXPECTED=1 rewrites them."""
    folder = PROJECTS / project
    monkeypatch.chdir(folder)
    status = main([])
    out = capsys.readouterr().out
    expected_file = folder / "expected.txt"
    if os.environ.get("TENANTSPEC_UPDATE_EXPECTED"):
        expected_file.write_text(out, encoding="utf-8")
    assert out == expected_file.read_text(encoding="utf-8")
    summary = out.splitlines()[-1]
    assert status == (0 if summary.startswith("no findings") or "(0 errors, 0 warnings" in summary else 1)


def test_foreign_key_is_reported_under_its_last_form():
    """Without the migration that drops and re-adds the keys, the old ones are reported;
    with it, nothing is."""
    folder = PROJECTS / "foreign_key_readded" / "supabase" / "migrations"
    files = sorted(folder.glob("*.sql"))
    before = [f for f in lint_paths(files[:-1]) if "assigned_to" in f.message]
    assert {f.rule_id for f in before} == {"cross-tenant-reference", "foreign-key-without-index"}
    assert lint_paths(files) == []


def test_clean_app_has_no_error_or_warning():
    findings = lint_paths([PROJECTS / "clean_app"], project_config(PROJECTS / "clean_app"))
    assert [f for f in findings if f.severity >= Severity.WARNING] == []


def test_text_format_is_file_line_col_rule_severity_message(capsys):
    status = main([str(CASES / "sql" / "open_table.sql")])
    line = capsys.readouterr().out.splitlines()[0]
    position, rule_id, severity, message = line.split(" ", 3)
    path, line_no, col = position.rsplit(":", 2)
    assert path.endswith("open_table.sql") and (line_no, col) == ("2", "1")
    assert (rule_id, severity) == ("rls-disabled", "error") and message
    assert status == 1


def test_json_format(capsys):
    main(["--format", "json", str(CASES / "sql" / "open_table.sql")])
    findings = json.loads(capsys.readouterr().out)
    assert {"path", "line", "col", "rule", "severity", "message"} <= set(findings[0])
    assert findings[0]["rule"] == "rls-disabled"


def test_sarif_format(capsys):
    main(["--format", "sarif", str(CASES / "sql" / "open_table.sql")])
    document = json.loads(capsys.readouterr().out)
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert set(rule_ids) == set(RULES)
    result = run["results"][0]
    assert rule_ids[result["ruleIndex"]] == result["ruleId"] == "rls-disabled"
    assert result["level"] == "error"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (2, 1)


def test_suppression_applies_to_its_statement_only():
    sql = (
        "-- tenantspec: ignore rls-disabled reference data\n"
        "create table public.countries (code text primary key);\n"
        "create table public.regions (code text primary key);\n"
    )
    found = [(f.rule_id, f.location.line) for f in lint_text(sql) if f.rule_id == "rls-disabled"]
    assert found == [("rls-disabled", 3)]


def test_suppression_inside_the_statement():
    sql = (
        "create table public.countries ( -- tenantspec: ignore rls-disabled, legacy-default-grant reference data\n"
        "  code text primary key\n"
        ");\n"
    )
    assert not [f for f in lint_text(sql) if f.severity >= Severity.WARNING]


def test_fail_on_threshold(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no specs, no pyproject.toml: nothing but the SQL
    migration = tmp_path / "0001_notes.sql"
    migration.write_text(
        "create policy orders_update on public.orders for update to authenticated using (status = 'open');\n")
    assert main([str(migration)]) == 0  # only an info finding
    assert main(["--fail-on", "info", str(migration)]) == 1
    assert main(["--fail-on", "error", str(tmp_path)]) == 0
    capsys.readouterr()


def test_clean_folder_exits_zero(capsys):
    assert main([str(GENERATED)]) == 0
    files = len(list(GENERATED.glob("*.sql")))
    assert capsys.readouterr().out == f"no findings in {files} files\n"


def test_unparsable_sql_exits_two_with_location(tmp_path, capsys):
    migration = tmp_path / "0001_broken.sql"
    migration.write_text("create table public.t (id uuid);\ncreate tabel public.u (id uuid);\n")
    assert main([str(migration)]) == 2
    assert f"{migration}:2:8: cannot parse" in capsys.readouterr().err


def test_missing_path_exits_two(tmp_path, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_unknown_rule_to_explain_exits_two(capsys):
    assert main(["--explain", "no-such-rule"]) == 2


def test_explain_prints_the_rule_doc(capsys):
    assert main(["--explain", "cross-tenant-reference"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cross-tenant-reference (error)")
    assert "WITH CHECK" in out


def test_list_rules(capsys):
    assert main(["--list-rules"]) == 0
    out = capsys.readouterr().out
    assert all(rule_id in out for rule_id in RULES)


def test_files_in_a_folder_replay_in_name_order(tmp_path):
    (tmp_path / "0002_rls.sql").write_text("alter table public.t enable row level security;\n"
                                            "create policy t_select on public.t for select to authenticated using (true);\n")
    (tmp_path / "0001_table.sql").write_text("create table public.t (id uuid primary key);\n"
                                              "revoke all on table public.t from anon, authenticated;\n")
    assert lint_paths([tmp_path]) == []


def test_project_root_means_its_supabase_migrations(tmp_path):
    folder = tmp_path / "supabase" / "migrations"
    folder.mkdir(parents=True)
    (folder / "0001_t.sql").write_text("create table public.t (id uuid primary key);\n")
    assert "rls-disabled" in {f.rule_id for f in lint_paths([tmp_path])}


def test_parse_error_carries_location():
    with pytest.raises(TenantspecError) as raised:
        lint_text("select 1;\n\nselect from where;\n", "x.sql")
    location = raised.value.problems[0].location
    assert (location.path, location.line) == ("x.sql", 3)


def test_suppression_on_a_do_block_covers_the_statements_inside():
    sql = (
        "-- tenantspec: ignore policy-without-role kept for the legacy dashboard until v4\n"
        "do $$ begin\n"
        "  create policy orders_select on public.orders for select using (true);\n"
        "end $$;\n"
    )
    assert [f.rule_id for f in lint_text(sql)] == []


def test_docs_list_every_rule():
    docs = (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    assert [rule_id for rule_id in RULES if f"`{rule_id}`" not in docs] == []


def test_file_that_is_not_utf8_exits_two(tmp_path, capsys):
    (tmp_path / "0001_latin1.sql").write_bytes("-- configuración\nselect 1;\n".encode("latin-1"))
    assert main([str(tmp_path)]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_columns_count_characters_not_bytes():
    line = 'create policy "Política ñandú" on public.orders for select to authenticated using (user_id = auth.uid());'
    found = [f for f in lint_text(f"-- configuración\n{line}\n") if f.rule_id == "auth-call-per-row"]
    assert [(f.location.line, f.location.col) for f in found] == [(2, line.index("auth.uid") + 1)]
