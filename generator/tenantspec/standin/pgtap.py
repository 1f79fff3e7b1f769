"""pgTAP test files run as ``supabase test db`` runs them, without Docker: pgTAP found where a
package installed it, each file run as pg_prove runs it through psql, its TAP read back.

pg_prove runs a file with ``psql --no-psqlrc --no-align --quiet --tuples-only --set
ON_ERROR_STOP=1``: each statement's result rows are printed as lines (columns joined by
``|``), and the first error stops the file. The lines are TAP: a plan ``1..N``, ``ok N -
description`` or ``not ok N - description`` (a ``# TODO`` directive makes a failure expected,
``# SKIP`` a test not run), ``#`` diagnostics. A file passes when it ran to its end, printed a
plan, ran as many tests as planned and none failed.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import psycopg

from tenantspec.standin.migrate import statements_of

# where packages install pgTAP (Debian's postgresql-NN-pgtap, Homebrew's, a source build)
SEARCHED = ("/usr/share/postgresql/*/extension", "/usr/local/share/postgresql/extension",
            "/opt/homebrew/share/postgresql*/extension", "/usr/pgsql-*/share/extension")
ENABLE = "create extension if not exists pgtap with schema extensions"  # as `supabase test db` does
PLAN = re.compile(r"^1\.\.(\d+)")
RESULT = re.compile(r"^(not )?ok\b\s*(\d+)?\s*(?:-\s*)?(.*?)(?:\s*#\s*(TODO|SKIP)\b(.*))?$", re.IGNORECASE)
PSQL_META = re.compile(r"^\s*\\", re.MULTILINE)


class PgTapMissing(RuntimeError):
    """No pgTAP on this machine."""


def find_pgtap() -> Path | None:
    """The folder holding ``pgtap.control`` and its scripts: ``TENANTSPEC_PGTAP``, else where a
    package installed it (the newest PostgreSQL major's first; pgTAP is SQL and PL/pgSQL, so
    any major's scripts install on another)."""
    chosen = os.environ.get("TENANTSPEC_PGTAP")
    if chosen:
        folder = Path(chosen)
        folder = folder / "extension" if (folder / "extension/pgtap.control").is_file() else folder
        return folder if (folder / "pgtap.control").is_file() else None
    found = [folder for pattern in SEARCHED for folder in Path("/").glob(pattern.lstrip("/"))
             if (folder / "pgtap.control").is_file()]
    found.sort(key=lambda folder: [int(n) for n in re.findall(r"\d+", str(folder))] or [0], reverse=True)
    return found[0] if found else None


def pgtap_missing_message() -> str:
    chosen = os.environ.get("TENANTSPEC_PGTAP")
    if chosen:
        return f"TENANTSPEC_PGTAP={chosen}: no pgtap.control there (nor in its extension/ folder)"
    return ("pgTAP is not installed on this machine: install it from a package (Debian and Ubuntu: "
            "`apt-get install postgresql-15-pgtap`, any major's scripts serve), or point TENANTSPEC_PGTAP at a "
            "folder holding pgtap.control and its pgtap--*.sql")


def copy_pgtap(source: Path, target: Path) -> None:
    """pgTAP's control file into the stand-in's extension folder, marked trusted (on the
    platform postgres creates it; the script runs as the superuser there too), its scripts
    left where the package put them."""
    text = (source / "pgtap.control").read_text()
    lines = [line for line in text.splitlines() if not re.match(r"^\s*(trusted|directory|superuser)\s*=", line)]
    lines += ["trusted = true", f"directory = '{source}'"]
    (target / "pgtap.control").write_text("\n".join(lines) + "\n")


# -- running files -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Assertion:
    number: int
    ok: bool
    description: str
    directive: str = ""  # TODO or SKIP
    diagnostics: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.ok or self.directive == "TODO"


@dataclass
class FileRun:
    """One test file's TAP and what it came to."""

    path: str
    lines: list[str] = field(default_factory=list)
    error: str | None = None  # the statement that stopped the file, file:line: SQLSTATE message
    seconds: float = 0.0

    @property
    def plan(self) -> int | None:
        return next((int(m.group(1)) for line in self.lines if (m := PLAN.match(line))), None)

    @property
    def assertions(self) -> list[Assertion]:
        found: list[Assertion] = []
        for line in self.lines:
            match = RESULT.match(line)
            if match and not PLAN.match(line):
                number = int(match.group(2)) if match.group(2) else len(found) + 1
                found.append(Assertion(number, match.group(1) is None, match.group(3).strip(),
                                       (match.group(4) or "").upper()))
            elif line.startswith("#") and found:
                last = found[-1]
                found[-1] = Assertion(last.number, last.ok, last.description, last.directive,
                                      (*last.diagnostics, line))
        return found

    @property
    def problems(self) -> list[str]:
        """Why the file fails, as pg_prove would say it; empty when it passes."""
        found = []
        if self.error:
            found.append(f"stopped: {self.error}")
        failed = [a for a in self.assertions if not a.passed]
        if failed:
            found.append(f"failed test(s) {', '.join(str(a.number) for a in failed)}")
        ran = len(self.assertions)
        if self.plan is None:
            found.append("no plan")
        elif self.plan != ran:
            found.append(f"planned {self.plan} test(s) but ran {ran}")
        return found

    @property
    def passed(self) -> bool:
        return not self.problems


def test_files(paths: Iterable[Path]) -> list[Path]:
    """The files ``paths`` name, folders searched recursively for ``*.sql`` and ``*.pg`` (as
    ``pg_prove --ext .pg --ext .sql -r``), in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in (".sql", ".pg") and p.is_file())
        else:
            found.append(path)
    return found


def run_file(conn: psycopg.Connection, path: Path, shown: str) -> FileRun:
    """Run one file's statements in order on ``conn`` (autocommit, a new session of its own),
    its result rows as TAP lines; the first error stops it, as ON_ERROR_STOP does."""
    started = time.perf_counter()
    run = FileRun(shown)
    text = path.read_text(encoding="utf-8")
    for offset, statement in statements_of(text):
        line = text.count("\n", 0, offset + len(statement) - len(statement.lstrip())) + 1
        body = statement.strip()
        if PSQL_META.match(body):
            run.error = f"{shown}:{line}: a psql meta-command ({body.splitlines()[0]}) is not run here"
            break
        try:
            cursor = conn.execute(body)
            for row in cursor.fetchall() if cursor.description else ():
                run.lines += "|".join("" if v is None else str(v) for v in row).splitlines()
        except psycopg.Error as error:
            run.error = f"{shown}:{line}: {error.sqlstate or ''} {error.diag.message_primary or error}".strip()
            break
    run.seconds = time.perf_counter() - started
    return run


def tap_stream(runs: list[FileRun]) -> str:
    """Every file's TAP as a subtest of one TAP 14 stream: what CI's TAP readers take."""
    out = ["TAP version 14"]
    for index, run in enumerate(runs, 1):
        out.append(f"# Subtest: {run.path}")
        out += [f"    {line}" for line in run.lines]
        if run.error:
            out.append(f"    # {run.error}")
        out.append(f"{'ok' if run.passed else 'not ok'} {index} - {run.path}")
    out.append(f"1..{len(runs)}")
    return "\n".join(out) + "\n"


def summary(runs: list[FileRun]) -> str:
    tests = sum(len(r.assertions) for r in runs)
    failed = [r for r in runs if not r.passed]
    lines = [f"{r.path} .. {'ok' if r.passed else 'FAILED: ' + '; '.join(r.problems)}" for r in runs]
    lines.append(f"Files={len(runs)}, Tests={tests}, {sum(r.seconds for r in runs):.2f}s; "
                 + ("All tests successful. Result: PASS" if not failed else f"{len(failed)} file(s) failed. Result: FAIL"))
    return "\n".join(lines)


def junit_xml(runs: list[FileRun]) -> str:
    """JUnit XML: a testsuite per file, a testcase per assertion; a file that stopped or ran
    other than its plan gets a failing testcase saying so."""
    suites = ElementTree.Element("testsuites", tests=str(sum(len(r.assertions) for r in runs)))
    for run in runs:
        suite = ElementTree.SubElement(suites, "testsuite", name=run.path, time=f"{run.seconds:.3f}")
        count = failures = 0
        for assertion in run.assertions:
            count += 1
            case = ElementTree.SubElement(suite, "testcase", classname=run.path,
                                          name=f"{assertion.number} {assertion.description}".strip())
            if assertion.directive == "SKIP":
                ElementTree.SubElement(case, "skipped")
            elif not assertion.passed:
                failures += 1
                failure = ElementTree.SubElement(case, "failure", message=assertion.description or "not ok")
                failure.text = "\n".join(assertion.diagnostics)
        whole = [p for p in run.problems if not p.startswith("failed test")]
        if whole:
            count += 1
            failures += 1
            case = ElementTree.SubElement(suite, "testcase", classname=run.path, name="the file as a whole")
            ElementTree.SubElement(case, "failure", message="; ".join(whole))
        suite.set("tests", str(count))
        suite.set("failures", str(failures))
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
