"""What RLS policy shapes for a parent-join table cost, against no RLS, side by side.

Two scenarios (see docs/bench.md):

- even: 1,000 workspaces x 10 jobs x 100 items (1M items), issue 5's data set;
- skewed: three "whales" of 1k, 10k and 100k jobs (10 items each) beside 200 small
  workspaces, so one run shows how a request's cost grows with the tenant.

The migrations generate shape (d), the item carrying its job's workspace_id; every other
shape is a change of the generated database (rls_shapes.py). First the shapes that stand for
a generator strategy are compared, catalog against catalog, with what the generator emits
for it. Then each scenario loads its data into the test suite's PostgreSQL (embedded unless
DATABASE_URL or TENANTSPEC_DB say otherwise), gives each shape its own copy, proves the
shapes let the same users see and write the same rows, runs an agent's requests under every
shape and without RLS, interleaved round by round, and (even scenario) times the item's
workspace triggers per row. Prints a table per scenario and the goals met, writes
bench/results/rls-<date>.json and, with matplotlib, a plot.

    .venv/bin/python bench/rls.py                       # both scenarios, about 12 minutes
    .venv/bin/python bench/rls.py --quick               # a tenth of the data, to try things
    .venv/bin/python bench/rls.py --scenarios skewed    # one scenario
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import rls_triggers
from rls_checks import ShapeMismatch, check_shapes, read_fixture
from rls_data import (
    DATA_SETS,
    DataSet,
    Persona,
    choose_personas,
    count_rows,
    load_dataset,
    vacuum_analyze,
)
from rls_measure import Cell, TimedOut, explain_text, run_explain, run_plain
from rls_queries import Query, bind, queries_for
from rls_report import (
    ScenarioResult,
    format_goals,
    format_table,
    scenario_document,
    write_json,
)
from rls_shapes import SHAPES, Shape, base_shape, schemas_of
from rls_strategies import check_strategies
from rls_variants import Variant, variants_for
from tenantspec.standin.databases import MigrationError, drop_database
from tenantspec.standin.server import ServerConfig, ServerError, start_server
from tenantspec.standin.supabase import (
    create_probe_login,
    drop_probe_login,
    install_roles,
)
from tenantspec.testing.database import (
    MigrationSource,
    TestDatabase,
    build_template,
    clone_database,
)
from tenantspec.testing.impersonate import Impersonator

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
# The migrations state their grants explicitly, so the newer (no default grants) regime.
PRIVILEGE_REGIME = "2026"


class RowMismatch(RuntimeError):
    """The variants of one query did not return the same rows: the comparison is void."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def migration_source() -> MigrationSource:
    """The same inputs as the test suite: MIGRATIONS_DIR and TENANTSPEC_BASELINE override
    supabase/migrations and tests/baseline.sql."""
    migrations = os.environ.get("MIGRATIONS_DIR") or "supabase/migrations"
    baseline = os.environ.get("TENANTSPEC_BASELINE", "tests/baseline.sql")
    return MigrationSource(
        baseline=ROOT / baseline if baseline else None, migrations_dir=ROOT / migrations
    )


def build_loaded_template(server, probe, data: DataSet, schema: tuple[str, ...]) -> tuple[
        TestDatabase, dict]:
    """Migrate a template, apply a schema's change, load the data
    (through the schema's triggers and constraints), vacuum and analyze."""
    seconds: dict[str, float] = {}

    def seed(conn) -> None:
        for statement in schema:
            conn.execute(statement)
        seconds.update(load_dataset(conn, data))

    template = build_template(server, PRIVILEGE_REGIME, migration_source(), probe, seed)
    with template.connect_admin(autocommit=True) as conn:
        seconds["vacuum analyze"] = vacuum_analyze(conn)
        counts = count_rows(conn)
    for table, number in data.expected_counts().items():
        if counts[table] != number:
            drop_database(server, template.name)
            raise RuntimeError(f"loaded {counts[table]} rows into {table}, expected {number}")
    return template, {"seconds": seconds, "row_counts": counts}


def prepare(server, probe, data: DataSet, shapes: tuple[Shape, ...]) -> tuple[
        dict, list[Persona], dict[str, TestDatabase]]:
    """One loaded database per schema (the generated one, and each change of it the shapes
    need); the other shapes of a schema get file copies of it; then each shape's helpers and
    policies. With ``data.measure_triggers``, also a file copy of the generated database
    without the item's workspace triggers."""
    load: dict = {"templates": {}, "clone_seconds": 0.0}
    databases: dict[str, TestDatabase] = {}
    try:
        for schema in schemas_of(shapes):
            log(f"  loading {data.items:,} items into the {schema.label} schema ...")
            started = time.perf_counter()
            loaded, load["templates"][schema.name] = build_loaded_template(
                server, probe, data, schema.statements
            )
            load["templates"][schema.name]["total_seconds"] = time.perf_counter() - started
            owners = [shape.name for shape in shapes if shape.schema.name == schema.name]
            if data.measure_triggers and schema.name == base_shape(shapes).schema.name:
                owners.append(rls_triggers.DATABASE)
            started = time.perf_counter()
            for name in owners[1:]:
                databases[name] = clone_database(loaded, prefix=f"tenantspec_bench_{name}")
            load["clone_seconds"] += time.perf_counter() - started
            databases[owners[0]] = loaded
        for shape in shapes:
            with databases[shape.name].connect_admin(autocommit=True) as conn:
                with conn.transaction():
                    for statement in shape.policy_statements():
                        conn.execute(statement)
        if rls_triggers.DATABASE in databases:
            with databases[rls_triggers.DATABASE].connect_admin(autocommit=True) as conn:
                with conn.transaction():
                    for statement in rls_triggers.DROP_TRIGGERS:
                        conn.execute(statement)
        with databases[base_shape(shapes).name].connect_admin(autocommit=True) as conn:
            personas = choose_personas(conn, data)
    except BaseException:
        for database in databases.values():
            drop_database(server, database.name)
        raise
    load["files_sha256"] = {
        str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path):
        hashlib.sha256(path.read_bytes()).hexdigest()
        for path in migration_source().files()
    }
    return load, personas, databases


@dataclass
class Session:
    """The shape databases, one API connection to each, and how long to keep timing."""

    databases: dict[str, TestDatabase]
    apis: dict[str, Impersonator]
    variants: tuple[Variant, ...]
    rounds: int
    cell_budget_s: float
    cells: dict[tuple[str, str, str], Cell] = field(default_factory=dict)

    def request(self, persona: Persona, query: Query, variant: Variant):
        """(api, role, claims, statement) for one query under one variant."""
        text = query.service_text(variant.carried) if variant.uses_service_sql else query.as_user
        return (self.apis[variant.database], variant.role, variant.claims(persona),
                bind(text, persona))

    def vacuum_items(self) -> None:
        """Clear the dead row versions rolled-back writes leave in robot_job_items and its
        indexes, in every database the variants use. Without it every write round walks more
        dead index entries than the one before. INDEX_CLEANUP ON: VACUUM otherwise skips the
        indexes when few pages are affected."""
        for name in dict.fromkeys(variant.database for variant in self.variants):
            database = self.databases[name]
            with database.connect_admin(autocommit=True) as conn:
                conn.execute("vacuum (index_cleanup on) public.robot_job_items")


def sample(session: Session, cell: Cell, request) -> None:
    """One timed plain request, then one timed EXPLAIN (ANALYZE) request. The plain one
    goes first so the pages the request needs are in shared buffers for the EXPLAIN,
    whichever database ran last: the shapes' databases share one small buffer pool."""
    try:
        wall_ms, outcome = run_plain(*request)
        explained = run_explain(*request)
    except TimedOut:
        cell.timed_out = True
        return
    if outcome != cell.outcome:
        raise RowMismatch(
            f"{cell.query} as {cell.variant} returned {outcome} now and {cell.outcome} before"
        )
    cell.execution_ms.append(explained.execution_ms)
    cell.planning_ms.append(explained.planning_ms)
    cell.wall_ms.append(wall_ms)


def warm_up(session: Session, persona: Persona, query: Query) -> None:
    """Run the request twice untimed under every variant, fill the caches, and check that
    all variants return the same rows (count and digest)."""
    for variant in session.variants:
        request = session.request(persona, query, variant)
        cell = Cell(query.name, variant.name, statement=request[3])
        session.cells[persona.tenant, query.name, variant.name] = cell
        try:
            for _ in range(2):
                explained = run_explain(*request)
                _, outcome = run_plain(*request)
        except TimedOut:
            if variant.baseline is None:
                raise RowMismatch(f"{query.name} without RLS ran past the statement timeout")
            cell.timed_out = True
            continue
        if not query.is_write and round(explained.top_rows) != outcome.rows:
            raise RowMismatch(
                f"{persona.tenant}/{query.name} as {variant.name}: EXPLAIN saw "
                f"{explained.top_rows} rows, the plain request {outcome.rows}"
            )
        cell.outcome = outcome
    outcomes = {
        variant.name: session.cells[persona.tenant, query.name, variant.name].outcome
        for variant in session.variants
        if not session.cells[persona.tenant, query.name, variant.name].timed_out
    }
    if len(set(outcomes.values())) != 1:
        raise RowMismatch(f"{persona.tenant}/{query.name}: the variants disagree: {outcomes}")
    if outcomes[session.variants[0].name].rows == 0:
        raise RowMismatch(f"{persona.tenant}/{query.name}: no rows; the persona sees nothing")


def run_phase(session: Session, personas: list[Persona], queries: list[Query], *,
              writes: bool) -> None:
    """Warm up, then time every variant interleaved round by round (rotating which goes
    first) so drift on a shared machine hits them alike. A cell stops early once it has
    spent its time budget and has five samples. Write rounds start from vacuumed tables."""
    work = [(persona, query) for persona in personas for query in queries]
    for persona, query in work:
        warm_up(session, persona, query)
    variants = list(session.variants)
    for number in range(session.rounds):
        if writes:
            session.vacuum_items()
        shift = number % len(variants)
        for persona, query in work:
            for variant in variants[shift:] + variants[:shift]:
                cell = session.cells[persona.tenant, query.name, variant.name]
                if cell.timed_out or (
                    len(cell.execution_ms) >= 5 and cell.spent_ms > session.cell_budget_s * 1000
                ):
                    continue
                sample(session, cell, session.request(persona, query, variant))
        if (number + 1) % 10 == 0 or number + 1 == session.rounds:
            log(f"  round {number + 1}/{session.rounds} of the {'writes' if writes else 'reads'}")
    if writes:
        session.vacuum_items()


def keep_plans(session: Session, personas: list[Persona], queries: list[Query]) -> None:
    """One readable plan per cell for the JSON (not timed)."""
    for persona in personas:
        for query in queries:
            for variant in session.variants:
                cell = session.cells[persona.tenant, query.name, variant.name]
                request = session.request(persona, query, variant)
                try:
                    if not cell.timed_out:
                        cell.plan_text = explain_text(*request)
                        continue
                except TimedOut:
                    cell.timed_out = True
                cell.plan_text = "(ran past the statement timeout; the plan without ANALYZE)\n"
                cell.plan_text += explain_text(*request, analyze=False)


def run_scenario(server, probe, data: DataSet, args: argparse.Namespace) -> ScenarioResult:
    shapes = SHAPES
    variants = variants_for(shapes)
    log(f"scenario {data.name}: {data.workspaces:,} workspaces, {data.jobs:,} jobs, "
        f"{data.items:,} items")
    load, personas, databases = prepare(server, probe, data, shapes)
    apis: dict[str, Impersonator] = {}
    try:
        for name, database in databases.items():
            apis[name] = database.impersonator()
            apis[name].conn.execute(f"set statement_timeout = '{int(args.timeout * 1000)}ms'")
            apis[name].conn.commit()
        log("  checking that every shape lets the same users see and write the same rows ...")
        started = time.perf_counter()
        with databases[base_shape(shapes).name].connect_admin(autocommit=True) as conn:
            fixtures = [read_fixture(conn, persona) for persona in personas]
            checks = check_shapes(
                conn, {shape.name: apis[shape.name] for shape in shapes},
                {shape.name for shape in shapes if shape.schema.carried}, fixtures,
            )
        checks["seconds"] = time.perf_counter() - started
        session = Session(databases, apis, variants, args.rounds, args.cell_budget)
        queries = queries_for(data.name)
        reads = [query for query in queries if not query.is_write]
        writes = [query for query in queries if query.is_write]
        log(f"  measuring {len(queries)} requests x {len(personas)} tenants x "
            f"{len(variants)} variants, {args.rounds} rounds")
        started = time.perf_counter()
        # Reads first: the writes roll back but leave dead row versions behind.
        run_phase(session, personas, reads, writes=False)
        run_phase(session, personas, writes, writes=True)
        keep_plans(session, personas, queries)
        measure_seconds = time.perf_counter() - started
        triggers = None
        if data.measure_triggers:
            triggers = measure_triggers(databases, apis, base_shape(shapes).name, personas, args)
    finally:
        for api in apis.values():
            api.close()
        for database in databases.values():
            drop_database(server, database.name)
    return ScenarioResult(
        data=data, personas=personas, queries=queries, variants=variants, shapes=shapes,
        cells=session.cells, load=load, checks=checks, measure_seconds=measure_seconds,
        triggers=triggers,
    )


def measure_triggers(databases: dict[str, TestDatabase], apis: dict[str, Impersonator],
                     generated: str, personas: list[Persona], args: argparse.Namespace) -> dict:
    """The item's workspace triggers per row: the generated database against its copy
    without them, as service_role, three times the rounds (the requests are short)."""
    persona = max(personas, key=lambda p: p.jobs)
    variants = rls_triggers.variants(generated)
    log(f"  measuring the workspace triggers: {len(rls_triggers.QUERIES)} requests x "
        f"{len(variants)} variants, {3 * args.rounds} rounds")
    started = time.perf_counter()
    session = Session(databases, apis, variants, 3 * args.rounds, args.cell_budget)
    run_phase(session, [persona], list(rls_triggers.QUERIES), writes=True)
    keep_plans(session, [persona], list(rls_triggers.QUERIES))
    rows = rls_triggers.summary(session.cells, persona.tenant)
    return {
        "tenant": persona.tenant,
        "rounds": session.rounds,
        "seconds": time.perf_counter() - started,
        "dropped": list(rls_triggers.DROP_TRIGGERS),
        "summary": rows,
        "text": rls_triggers.format_summary(rows),
        "cells": {
            f"{query}/{variant}": {
                "sql": cell.statement,
                "rows": cell.outcome.rows if cell.outcome else None,
                "planned_and_executed_ms": cell.planned_and_executed_ms,
                "plan": cell.plan_text,
            }
            for (_, query, variant), cell in session.cells.items()
        },
    }


def server_settings(server) -> dict[str, str]:
    names = ["server_version", "shared_buffers", "work_mem", "effective_cache_size",
             "random_page_cost", "jit", "max_parallel_workers_per_gather", "fsync",
             "synchronous_commit"]
    with server.connect_admin(autocommit=True) as conn:
        settings = {name: conn.execute(f"show {name}").fetchone()[0] for name in names}
        # jit = on means nothing without the LLVM module; the embedded build has none.
        settings["jit_available"] = str(conn.execute("select pg_jit_available()").fetchone()[0])
        return settings


def git_state() -> dict[str, object]:
    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return result.stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD"),
        "uncommitted_inputs": git(
            "status", "--porcelain", "--", "supabase/migrations", "tests/baseline.sql",
            "bench/*.py"
        ).splitlines(),
    }


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    now = datetime.datetime.now(datetime.timezone.utc)
    suffix = "-quick" if args.quick else ""
    out = args.out or RESULTS_DIR / f"rls-{now:%Y-%m-%d}{suffix}.json"
    results: list[ScenarioResult] = []
    with start_server(ServerConfig.from_env()) as server:
        log(f"server: {server.description}")
        with server.connect_admin(autocommit=True) as conn:
            created = install_roles(conn)
            probe = create_probe_login(conn, created)
        try:
            settings = server_settings(server)
            log("checking the shapes that stand for a generator strategy ...")
            strategies = check_strategies(server, PRIVILEGE_REGIME, probe, ROOT,
                                          migration_source(), SHAPES, log)
            for name in args.scenarios:
                results.append(run_scenario(server, probe, DATA_SETS[name](args.quick), args))
        finally:
            if not server.owned_cluster:
                with server.connect_admin(autocommit=True) as conn:
                    drop_probe_login(conn, probe)
    total = time.perf_counter() - started

    for result in results:
        print(format_table(result))
        print()
        print(format_goals(result))
        print()
        if result.triggers:
            print(result.triggers["text"])
            print()
    print(
        "ms: planning plus execution (EXPLAIN (ANALYZE, TIMING OFF) Planning Time + Execution "
        "Time), median over n runs; a shape's figure is what it adds to the no-RLS request "
        "on the generated schema (and its ratio, for workspace-wide reads)."
    )
    if args.plans:
        for result in results:
            for (tenant, query, variant), cell in result.cells.items():
                print(f"\n== {result.data.name} / {tenant} / {query} / {variant}\n{cell.plan_text}")

    document = {
        "benchmark": "rls",
        "issue": 9,
        "measured_at": now.isoformat(timespec="seconds"),
        "command": " ".join(["bench/rls.py", *sys.argv[1:]]),
        "quick": args.quick,
        "rounds": args.rounds,
        "cell_budget_seconds": args.cell_budget,
        "statement_timeout_seconds": args.timeout,
        "server": server.description,
        "settings": settings,
        "privilege_regime": PRIVILEGE_REGIME,
        "git": git_state(),
        "strategy_checks": strategies,
        "total_seconds": total,
        "scenarios": {result.data.name: scenario_document(result) for result in results},
    }
    write_json(out, document)
    log(f"wrote {out} ({total:.0f}s in all)")
    if args.plot:
        try:
            from rls_plot import plot_document
        except ImportError as exc:
            log(f"no plot: {exc} (install the bench extra: pip install -e '.[bench]')")
        else:
            picture = plot_document(document, out.with_suffix(".png"))
            if picture:
                log(f"wrote {picture}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="even,skewed",
                        help="comma-separated scenarios to run: even, skewed (default both)")
    parser.add_argument("--quick", action="store_true",
                        help="a tenth of the data (even: 100 workspaces; skewed: whales of "
                        "100, 1k and 10k jobs beside 20 small workspaces); 7 rounds")
    parser.add_argument("--rounds", type=int, help="timed runs per request and variant "
                        "(default 21, or 7 with --quick)")
    parser.add_argument("--cell-budget", type=float, default=20.0, metavar="SECONDS",
                        help="stop timing a request/variant once it has spent this long and "
                        "has five samples (default 20)")
    parser.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS",
                        help="statement timeout: a request running longer is reported as "
                        "timed out and not timed again (default 3)")
    parser.add_argument("--out", type=Path, help="JSON file to write "
                        "(default bench/results/rls-<date>.json); the plot goes beside it")
    parser.add_argument("--no-plot", dest="plot", action="store_false",
                        help="do not draw the PNG (drawn when matplotlib is installed)")
    parser.add_argument("--plans", action="store_true",
                        help="print every EXPLAIN (ANALYZE, BUFFERS) plan after the tables")
    args = parser.parse_args(argv)
    args.scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = [name for name in args.scenarios if name not in DATA_SETS]
    if unknown or not args.scenarios:
        parser.error(f"--scenarios: choose from {', '.join(DATA_SETS)} (got {unknown or 'none'})")
    args.rounds = args.rounds or (7 if args.quick else 21)
    try:
        return run(args)
    except (ServerError, MigrationError, ShapeMismatch, RowMismatch) as exc:
        print(f"bench/rls.py: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
