"""What the generated RLS policies cost at 1M items, against no RLS and the per-row style.

Loads 1,000 workspaces, 10,000 jobs and 1,000,000 items into the test suite's PostgreSQL
(embedded unless DATABASE_URL or TENANTSPEC_DB say otherwise), runs an agent's requests under
three variants on the same data, prints a table and writes bench/results/rls-<date>.json.
See docs/bench.md.

    .venv/bin/python bench/rls.py            # full scale, about a minute and a half
    .venv/bin/python bench/rls.py --quick    # a tenth of the data, to try things out
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from generator.testing.database import (
    MigrationError,
    MigrationSource,
    TestDatabase,
    build_template,
    clone_database,
    drop_database,
)
from generator.testing.impersonate import Impersonator
from generator.testing.server import ServerConfig, ServerError, start_server
from generator.testing.supabase import create_probe_login, drop_probe_login, install_roles
from rls_data import (
    FULL,
    QUICK,
    Persona,
    Scale,
    choose_persona,
    count_rows,
    load_dataset,
    vacuum_analyze,
)
from rls_measure import Cell, explain_text, run_explain, run_plain
from rls_queries import QUERIES, Query, bind
from rls_report import QueryResult, format_table, query_document, write_json
from rls_variants import VARIANTS, PolicyMismatch, Variant, install_per_row_policies

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


def prepare(server, probe, scale: Scale) -> tuple[dict, Persona, dict[str, TestDatabase]]:
    """Migrate and load a template, then clone it once per policy set.

    Both variants' databases are file copies of the same loaded template, so the rows, their
    physical order and the planner statistics are the same; only the per-row copy has its
    policies replaced.
    """
    load_seconds: dict[str, float] = {}

    def seed(conn) -> None:
        load_seconds.update(load_dataset(conn, scale))

    source = migration_source()
    log(f"loading {scale.items:,} items into a migrated template database ...")
    started = time.perf_counter()
    template = build_template(server, PRIVILEGE_REGIME, source, probe, seed)
    migrate_and_load = time.perf_counter() - started
    try:
        with template.connect_admin(autocommit=True) as conn:
            load_seconds["vacuum analyze"] = vacuum_analyze(conn)
            counts = count_rows(conn)
            persona = choose_persona(conn, scale)
        expected = {"public.workspaces": scale.workspaces, "public.robot_jobs": scale.jobs,
                    "public.robot_job_items": scale.items}
        for table, number in expected.items():
            if counts[table] != number:
                raise RuntimeError(f"loaded {counts[table]} rows into {table}, expected {number}")
        started = time.perf_counter()
        databases = {
            "generated": clone_database(template, prefix="tenantspec_bench_generated"),
            "per_row": clone_database(template, prefix="tenantspec_bench_per_row"),
        }
        clone_seconds = time.perf_counter() - started
    finally:
        drop_database(server, template.name)
    with databases["per_row"].connect_admin(autocommit=True) as conn:
        install_per_row_policies(conn)
    load = {
        "seconds": load_seconds,
        "load_seconds": sum(load_seconds.values()),
        "migrate_load_vacuum_seconds": migrate_and_load + load_seconds["vacuum analyze"],
        "clone_seconds": clone_seconds,
        "row_counts": counts,
        "files_sha256": {
            str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path):
            hashlib.sha256(path.read_bytes()).hexdigest()
            for path in source.files()
        },
    }
    log(
        f"loaded in {load['load_seconds']:.1f}s (insert ... select and vacuum analyze); "
        f"clones in {clone_seconds:.1f}s"
    )
    return load, persona, databases


def statement_for(query: Query, variant: Variant, persona: Persona) -> str:
    return bind(query.as_service if variant.uses_service_sql else query.as_user, persona)


@dataclass
class Session:
    """The two databases, one API connection to each, and how long to keep timing."""

    databases: dict[str, TestDatabase]
    apis: dict[str, Impersonator]
    persona: Persona
    rounds: int
    cell_budget_s: float

    def request(self, query: Query, variant: Variant):
        """(api, role, claims, statement) for one query under one variant."""
        return (
            self.apis[variant.database],
            variant.role,
            variant.claims(self.persona),
            statement_for(query, variant, self.persona),
        )

    def vacuum_items(self) -> None:
        """Clear the dead row versions rolled-back writes leave in robot_job_items and its
        indexes, in both databases. Without it every write round walks more dead index
        entries than the one before, and more in the database two variants share.
        INDEX_CLEANUP ON: VACUUM otherwise skips the indexes when few pages are affected."""
        for database in self.databases.values():
            with database.connect_admin(autocommit=True) as conn:
                conn.execute("vacuum (index_cleanup on) public.robot_job_items")


def sample(session: Session, cell: Cell, query: Query, variant: Variant) -> None:
    """One timed EXPLAIN (ANALYZE) request and one timed plain request."""
    request = session.request(query, variant)
    explained = run_explain(*request)
    wall_ms, outcome = run_plain(*request)
    if outcome != cell.outcome:
        raise RowMismatch(
            f"{query.name} as {variant.name} returned {outcome} now and {cell.outcome} before"
        )
    cell.execution_ms.append(explained.execution_ms)
    cell.planning_ms.append(explained.planning_ms)
    cell.wall_ms.append(wall_ms)


def warm_up(session: Session, queries: list[Query]) -> dict[tuple[str, str], Cell]:
    """Run every request twice untimed, fill the caches, and check that all variants of a
    query return the same rows (the same row count and the same rows, by digest)."""
    cells = {}
    for query in queries:
        for variant in VARIANTS:
            request = session.request(query, variant)
            for _ in range(2):
                explained = run_explain(*request)
                _, outcome = run_plain(*request)
            if not query.is_write and round(explained.top_rows) != outcome.rows:
                raise RowMismatch(
                    f"{query.name} as {variant.name}: EXPLAIN saw {explained.top_rows} rows, "
                    f"the plain request {outcome.rows}"
                )
            cells[query.name, variant.name] = Cell(
                query.name, variant.name, outcome=outcome, statement=request[3]
            )
        outcomes = {variant.name: cells[query.name, variant.name].outcome for variant in VARIANTS}
        if len(set(outcomes.values())) != 1:
            raise RowMismatch(f"{query.name}: the variants disagree: {outcomes}")
        if outcomes["no_rls"].rows == 0:
            raise RowMismatch(f"{query.name}: no rows in any variant; the persona sees nothing")
    return cells


def run_phase(session: Session, queries: list[Query], *, writes: bool) -> dict:
    """Warm up, then time the variants interleaved round by round (rotating which goes
    first) so drift on a shared machine hits them alike, then keep one readable plan per
    query and variant. A cell stops early once it has spent its time budget and has five
    samples. Write rounds start from a vacuumed table."""
    cells = warm_up(session, queries)
    for number in range(session.rounds):
        if writes:
            session.vacuum_items()
        for query in queries:
            for variant in VARIANTS[number % 3:] + VARIANTS[: number % 3]:
                cell = cells[query.name, variant.name]
                if len(cell.execution_ms) >= 5 and cell.spent_ms > session.cell_budget_s * 1000:
                    continue
                sample(session, cell, query, variant)
        if (number + 1) % 10 == 0 or number + 1 == session.rounds:
            names = ", ".join(query.name for query in queries)
            log(f"  round {number + 1}/{session.rounds} of {names}")
    if writes:
        session.vacuum_items()
    for query in queries:
        for variant in VARIANTS:
            cells[query.name, variant.name].plan_text = explain_text(
                *session.request(query, variant)
            )
    return cells


def server_settings(database: TestDatabase) -> dict[str, str]:
    names = ["server_version", "shared_buffers", "work_mem", "effective_cache_size",
             "random_page_cost", "jit", "max_parallel_workers_per_gather", "fsync",
             "synchronous_commit"]
    with database.connect_admin(autocommit=True) as conn:
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
            "status", "--porcelain", "--", "supabase/migrations", "tests/baseline.sql"
        ).splitlines(),
    }


def run(args: argparse.Namespace) -> int:
    scale = QUICK if args.quick else FULL
    rounds = args.rounds or (15 if args.quick else 51)
    started = time.perf_counter()
    now = datetime.datetime.now(datetime.timezone.utc)
    out = args.out or RESULTS_DIR / f"rls-{now:%Y-%m-%d}{'-quick' if args.quick else ''}.json"

    with start_server(ServerConfig.from_env()) as server:
        log(f"server: {server.description}")
        with server.connect_admin(autocommit=True) as conn:
            created = install_roles(conn)
            probe = create_probe_login(conn, created)
        databases: dict[str, TestDatabase] = {}
        try:
            load, persona, databases = prepare(server, probe, scale)
            settings = server_settings(databases["generated"])
            apis = {name: database.impersonator() for name, database in databases.items()}
            session = Session(databases, apis, persona, rounds, args.cell_budget)
            try:
                reads = [query for query in QUERIES if not query.is_write]
                writes = [query for query in QUERIES if query.is_write]
                log(f"measuring {len(QUERIES)} queries x {len(VARIANTS)} variants, {rounds} rounds")
                # Reads first: the writes roll back but leave dead row versions behind.
                cells = run_phase(session, reads, writes=False)
                cells |= run_phase(session, writes, writes=True)
                results = [
                    QueryResult(query, {v.name: cells[query.name, v.name] for v in VARIANTS})
                    for query in QUERIES
                ]
            finally:
                for api in apis.values():
                    api.close()
        finally:
            for database in databases.values():
                drop_database(server, database.name)
            if not server.owned_cluster:
                with server.connect_admin(autocommit=True) as conn:
                    drop_probe_login(conn, probe)

    total = time.perf_counter() - started
    labels = {variant.name: variant.label for variant in VARIANTS}
    table = format_table(results, labels)
    print(table)
    print()
    print(
        "server ms: EXPLAIN (ANALYZE, TIMING OFF) Execution Time; wall ms: the plain request "
        "from send to last row fetched; plan ms: Planning Time. Each: median ±half the IQR "
        "over n runs. Ratios and targets use the server medians."
    )
    missed = [result.query.name for result in results if result.verdict().met is False]
    print(f"targets missed: {', '.join(missed) if missed else 'none'}")
    if args.plans:
        for result in results:
            for variant, cell in result.cells.items():
                print(f"\n== {result.query.name} / {labels[variant]}\n{cell.plan_text}")

    document = {
        "benchmark": "rls",
        "issue": 5,
        "measured_at": now.isoformat(timespec="seconds"),
        "command": " ".join(["bench/rls.py", *sys.argv[1:]]),
        "scale": {"name": "quick" if args.quick else "full", **vars(scale)},
        "rounds": rounds,
        "cell_budget_seconds": args.cell_budget,
        "server": server.description,
        "settings": settings,
        "privilege_regime": PRIVILEGE_REGIME,
        "git": git_state(),
        "load": load,
        "persona": {
            "user_id": persona.user_id,
            "workspace_id": persona.workspace_id,
            "read_job_id": persona.read_job_id,
            "insert_job_id": persona.insert_job_id,
        },
        "targets": {
            "workspace_reads_max_ratio_to_no_rls": 1.2,
            "workspace_reads_min_per_row_factor": 100,
            "point_reads_max_added_ms": 0.25,
        },
        "total_seconds": total,
        "table": table,
        "queries": [query_document(result) for result in results],
    }
    write_json(out, document)
    log(f"wrote {out} ({total:.0f}s in all)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="100 workspaces, 1,000 jobs, 100,000 items; 15 rounds")
    parser.add_argument("--rounds", type=int, help="timed runs per query and variant "
                        "(default 51, or 15 with --quick)")
    parser.add_argument("--cell-budget", type=float, default=30.0, metavar="SECONDS",
                        help="stop timing a query/variant once it has spent this long and "
                        "has five samples (default 30)")
    parser.add_argument("--out", type=Path, help="JSON file to write "
                        "(default bench/results/rls-<date>.json)")
    parser.add_argument("--plans", action="store_true",
                        help="print every EXPLAIN (ANALYZE, BUFFERS) plan after the table")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (ServerError, MigrationError, PolicyMismatch, RowMismatch) as exc:
        print(f"bench/rls.py: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
