"""What rows a user owns cost: the policies tenantspec renders for ``tenancy.user`` against the
same tables without RLS, and against the spelling most hand-written policies use.

Two shapes users have, built from examples/forum's specs on one server, side by side:

- **a user's newest notifications** (a per-user table, 10 000 users, 100 rows each): the
  newest 50 of one user, as that user;
- **a writer's own comments** (200 teams of 50 members, 20 comments per member): the
  writer edits every comment of theirs in their team (``update ... where team_id = $1``),
  under ``update: {any: moderator, own: member}``.

Each request runs as PostgREST runs it (``set role``, the JWT claims, one transaction, rolled
back) under the generated policy (``user_id = (select auth.uid())``, one initPlan per
statement) and under the spelling most hand-written policies use (``auth.uid() = user_id``).
The floor is service_role (no RLS) asking for the same rows directly (``where user_id =
<the user>``). Figures are EXPLAIN ANALYZE execution times, median of ``--repeat`` rounds
interleaved across variants, as ratios to the floor measured in the same run.

    .venv/bin/python bench/own_rows.py [--repeat 15] [--no-plot]

Writes bench/results/own-rows-<date>.json (and .png with matplotlib).
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import statistics
import tempfile
from pathlib import Path

import psycopg
from tenantspec.render.migrations import render_migrations
from tenantspec.spec.load import load_project
from tenantspec.standin.databases import copy_database, drop_database, standin_database
from tenantspec.standin.server import ServerConfig, start_server
from tenantspec.standin.supabase import install_roles
from tenantspec.testing.impersonate import switch_identity

ROOT = Path(__file__).resolve().parents[1]
FORUM = ROOT / "examples" / "forum"
RESULTS = ROOT / "bench" / "results"
USERS, PER_USER, TEAMS, MEMBERS, PER_MEMBER = 10_000, 100, 200, 50, 20

SEED = f"""
insert into auth.users (id, email)
select ('00000000-0000-4000-8000-' || lpad(to_hex(u), 12, '0'))::uuid, 'u' || u || '@example.test'
from generate_series(1, {USERS}) as u;
insert into public.teams (id, name)
select ('00000000-0000-4000-9000-' || lpad(to_hex(t), 12, '0'))::uuid, 'team ' || t
from generate_series(1, {TEAMS}) as t;
-- members 1..{MEMBERS} of team t are users (t-1)*{MEMBERS}+1 ...; the first is a moderator
insert into public.team_members (team_id, user_id, role)
select ('00000000-0000-4000-9000-' || lpad(to_hex(t), 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(to_hex((t - 1) * {MEMBERS} + m), 12, '0'))::uuid,
       case when m = 1 then 'moderator' else 'writer' end
from generate_series(1, {TEAMS}) as t, generate_series(1, {MEMBERS}) as m;
insert into public.topics (team_id, title)
select ('00000000-0000-4000-9000-' || lpad(to_hex(t), 12, '0'))::uuid, 'topic of team ' || t
from generate_series(1, {TEAMS}) as t;
insert into public.comments (team_id, topic_id, author_id, body)
select p.team_id, p.id,
       ('00000000-0000-4000-8000-' || lpad(to_hex((t - 1) * {MEMBERS} + m), 12, '0'))::uuid,
       'comment ' || c
from generate_series(1, {TEAMS}) as t
join public.topics p on p.team_id = ('00000000-0000-4000-9000-' || lpad(to_hex(t), 12, '0'))::uuid,
     generate_series(1, {MEMBERS}) as m, generate_series(1, {PER_MEMBER}) as c;
insert into public.notifications (user_id, message, created_at)
select ('00000000-0000-4000-8000-' || lpad(to_hex(u), 12, '0'))::uuid, 'note ' || n,
       now() - make_interval(mins => n)
from generate_series(1, {USERS}) as u, generate_series(1, {PER_USER}) as n;
analyze;
"""
WRITER = "00000000-0000-4000-8000-" + format(2, "012x")  # a writer of team 1
TEAM = "00000000-0000-4000-9000-" + format(1, "012x")
READER = "00000000-0000-4000-8000-" + format(4242, "012x")

# The hand-written spelling of the same rules: auth.uid() called for every row.
NAIVE = """
drop policy notifications_select on public.notifications;
create policy notifications_select on public.notifications for select to authenticated
  using (auth.uid() = user_id);
drop policy comments_update on public.comments;
create policy comments_update on public.comments for update to authenticated
  using (team_id = any (array(select internal.moderator_workspace_ids()))
         or (auth.uid() = author_id and team_id = any (array(select internal.member_workspace_ids()))))
  with check (team_id = any (array(select internal.moderator_workspace_ids()))
              or (auth.uid() = author_id and team_id = any (array(select internal.member_workspace_ids()))));
"""
# Each request as the API sends it, and the request that asks for the same rows directly:
# what service_role (no RLS) runs for the floor.
QUERIES = {
    "newest 50 notifications of a user": (
        READER, "select id, message from public.notifications order by created_at desc limit 50",
        f"select id, message from public.notifications where user_id = '{READER}' "
        "order by created_at desc limit 50"),
    "a writer edits their comments in a team": (
        WRITER, f"update public.comments set body = body where team_id = '{TEAM}'",
        f"update public.comments set body = body where team_id = '{TEAM}' and author_id = '{WRITER}'"),
}
VARIANTS = ("no RLS", "generated", "hand-written")


def claims(user: str) -> dict:
    return {"sub": user, "role": "authenticated", "aud": "authenticated"}


def execution_ms(conn: psycopg.Connection, role: str, user: str, statement: str) -> tuple[float, int]:
    """EXPLAIN ANALYZE's execution time of one request, and the rows it returns or changes."""
    with conn.transaction(force_rollback=True):
        switch_identity(conn, role, claims(user))
        (document,) = conn.execute(f"explain (analyze, timing off, format json) {statement}").fetchone()
    with conn.transaction(force_rollback=True):
        switch_identity(conn, role, claims(user))
        cur = conn.execute(statement)
        count = len(cur.fetchall()) if cur.description else cur.rowcount
    return document[0]["Execution Time"], count


def build(server, root: Path, template: str) -> dict[str, str]:
    """One database per policy variant, each a copy of the seeded template."""
    variants = {}
    for variant, extra in (("generated", ""), ("hand-written", NAIVE)):
        name = copy_database(server, template, "tenantspec_bench_own")
        variants[variant] = name
        if extra:
            with server.connect_migrator(name, autocommit=True) as conn:
                conn.execute(extra)
        with server.connect_admin(name, autocommit=True) as conn:
            conn.execute("analyze")
    return variants


def files(root: Path) -> list[Path]:
    """The forum's baseline, its migration rendered from its specs, and the seed."""
    project_dir = root / "forum"
    shutil.copytree(FORUM, project_dir)
    (migration,) = render_migrations(load_project(project_dir)).values()
    (root / "forum.sql").write_text(migration)
    (root / "seed.sql").write_text(SEED)
    return [project_dir / "supabase/baseline.sql", root / "forum.sql", root / "seed.sql"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    with start_server(ServerConfig.from_env()) as server, tempfile.TemporaryDirectory() as scratch:
        with server.connect_admin(autocommit=True) as conn:
            install_roles(conn)
        samples: dict[tuple[str, str], list[float]] = {}
        rows: dict[tuple[str, str], int] = {}
        with standin_database(server, "legacy", "tenantspec_bench_own", files(Path(scratch))) as template:
            variants = build(server, Path(scratch), template)
        try:
            connections = {v: server.connect_admin(name) for v, name in variants.items()}
            for _ in range(args.repeat):  # rounds interleave every variant: noise hits all alike
                for query, (user, statement, direct) in QUERIES.items():
                    for variant, conn in connections.items():
                        runs = [(variant, "authenticated", statement)]
                        if variant == "generated":
                            runs.append(("no RLS", "service_role", direct))
                        for key, role, text in runs:
                            ms, n = execution_ms(conn, role, user, text)
                            samples.setdefault((query, key), []).append(ms)
                            rows[(query, key)] = n
            for conn in connections.values():
                conn.close()
        finally:
            for name in variants.values():
                drop_database(server, name)
    report = []
    for query in QUERIES:
        floor = statistics.median(samples[(query, "no RLS")])
        for variant in VARIANTS:
            median = statistics.median(samples[(query, variant)])
            report.append({"query": query, "variant": variant, "median_ms": round(median, 3),
                           "ratio_to_no_rls": round(median / floor, 2), "rows": rows[(query, variant)]})
    width = max(len(r["query"]) for r in report)
    print(f"{'request':<{width}}  {'policy':<13} {'median ms':>10} {'x no RLS':>9} {'rows':>6}")
    for r in report:
        print(f"{r['query']:<{width}}  {r['variant']:<13} {r['median_ms']:>10.3f} {r['ratio_to_no_rls']:>9.2f} "
              f"{r['rows']:>6}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"own-rows-{datetime.date.today().isoformat()}"
    stem.with_suffix(".json").write_text(json.dumps({"repeat": args.repeat, "results": report}, indent=2) + "\n")
    if not args.no_plot:
        plot(report, stem.with_suffix(".png"))
    return 0


def plot(report: list[dict], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot")
        return
    queries = list(dict.fromkeys(r["query"] for r in report))
    variants = ["generated", "hand-written"]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.35
    for i, variant in enumerate(variants):
        picked = [next(r for r in report if r["query"] == q and r["variant"] == variant) for q in queries]
        bars = ax.bar([k + (i - 0.5) * width for k in range(len(queries))], [r["ratio_to_no_rls"] for r in picked],
                      width, label=variant)
        ax.bar_label(bars, labels=[f"{r['median_ms']:.2f} ms" for r in picked], fontsize=8)
    ax.axhline(1.0, color="grey", linewidth=0.8)
    floors = {r["query"]: r["median_ms"] for r in report if r["variant"] == "no RLS"}
    ax.set_xticks(range(len(queries)), [f"{q}\n(no RLS: {floors[q]:.2f} ms)" for q in queries])
    ax.set_ylabel("execution time / the same rows\nasked for directly, no RLS")
    ax.set_title("Rows a user owns: policy cost against no RLS")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    raise SystemExit(main())
