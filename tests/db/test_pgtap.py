"""`tenantspec db test`: a project's pgTAP tests on a fresh stand-in with its migrations and
seed, run as `supabase test db` runs them (pg_prove's TAP semantics). Each case folder under
``pgtap_cases/`` is a project (``supabase/migrations``, ``seed.sql``, ``tests``) and the TAP
it must print with the exit status (``expected.txt``; TENANTSPEC_UPDATE_GOLDEN=1 rewrites it).

pgTAP comes from a package (`.ci/run` installs Debian's); where it is missing, the command
must refuse with the way to install it, and that is what these tests then assert."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from tenantspec.cli import main
from tenantspec.standin.local import seed_files
from tenantspec.standin.pgtap import FileRun, find_pgtap, junit_xml, pgtap_missing_message, run_file

CASES = Path(__file__).parent / "pgtap_cases"
UPDATE = os.environ.get("TENANTSPEC_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_a_projects_pgtap_tests_run_as_supabase_test_db_runs_them(case, capsys, monkeypatch, tmp_path):
    root = CASES / case
    monkeypatch.chdir(root)
    junit = tmp_path / "junit.xml"
    status = main(["db", "test", "--junit", str(junit)])
    out, err = capsys.readouterr()
    if find_pgtap() is None:
        assert status == 2 and pgtap_missing_message() in err
        return
    got = f"{out}exit {status}\n"
    expected = root / "expected.txt"
    if UPDATE:
        expected.write_text(got)
    assert got == expected.read_text(), err
    assert "seeded seed.sql" in err, "supabase/seed.sql runs after the migrations, as supabase start runs it"
    suites = ElementTree.parse(junit).getroot()
    assert int(suites.get("tests")) == sum(int(s.get("tests")) for s in suites) - sum(
        1 for s in suites for c in s if c.get("name") == "the file as a whole")


def test_tap_is_read_as_pg_prove_reads_it(database):
    """A plan and as many results as planned, none failing (a TODO failure is expected): pass;
    a failure, a missing or unmet plan, or an error that stops the file: fail, saying which."""
    files = {
        "pass.sql": "select '1..3';\nselect 'ok 1 - one';\nselect 'not ok 2 - later # TODO not yet';\n"
                    "select 'ok 3 # SKIP no server';",
        "fail.sql": "select '1..2';\nselect 'ok 1';\nselect 'not ok 2 - two';\nselect '# have: 1';",
        "short.sql": "select '1..2';\nselect 'ok 1';",
        "noplan.sql": "select 'ok 1';",
        "stops.sql": "select '1..2';\nselect 'ok 1';\n\nselect 1/0;\nselect 'ok 2';",
        "meta.sql": "\\set ON_ERROR_STOP 1\nselect '1..1';\nselect 'ok 1';",
    }
    runs = {}
    with database.connect_admin(autocommit=True) as conn:
        for name, text in files.items():
            runs[name] = _run(conn, name, text)
    assert runs["pass.sql"].passed and [a.directive for a in runs["pass.sql"].assertions] == ["", "TODO", "SKIP"]
    assert runs["fail.sql"].problems == ["failed test(s) 2"]
    assert runs["fail.sql"].assertions[1].diagnostics == ("# have: 1",)
    assert runs["short.sql"].problems == ["planned 2 test(s) but ran 1"]
    assert runs["noplan.sql"].problems == ["no plan"]
    assert runs["stops.sql"].problems == ["stopped: stops.sql:4: 22012 division by zero",
                                          "planned 2 test(s) but ran 1"]
    assert runs["meta.sql"].error.startswith("meta.sql:1: a psql meta-command (\\set ON_ERROR_STOP 1)")


def _run(conn, name: str, text: str) -> FileRun:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text)
        return run_file(conn, path, name)


def test_junit_has_a_case_per_assertion_and_one_for_a_file_that_stopped():
    run = FileRun("t.sql", ["1..2", "ok 1 - one"], error="t.sql:3: 42P01 relation missing")
    suite = ElementTree.fromstring(junit_xml([run]))[0]
    assert [c.get("name") for c in suite] == ["1 one", "the file as a whole"]
    assert suite.get("failures") == "1" and "42P01" in suite[1][0].get("message")


def test_seed_files_follow_config_toml(tmp_path):
    supabase = tmp_path / "supabase"
    (supabase / "seeds").mkdir(parents=True)
    (supabase / "seed.sql").write_text("select 1;")
    assert seed_files(supabase) == [supabase / "seed.sql"]
    (supabase / "seeds/b.sql").write_text("select 1;")
    (supabase / "seeds/a.sql").write_text("select 1;")
    (supabase / "config.toml").write_text('[db.seed]\nenabled = true\nsql_paths = ["./seeds/*.sql", "./seed.sql"]\n')
    assert seed_files(supabase) == [supabase / "seeds/a.sql", supabase / "seeds/b.sql", supabase / "seed.sql"]
    (supabase / "config.toml").write_text("[db.seed]\nenabled = false\n")
    assert seed_files(supabase) == []
