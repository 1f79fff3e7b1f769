"""Time ``tenantspec lint`` on a synthetic folder of Supabase migrations, and measure its
memory.

Writes N migration files (150 by default) into a temporary folder: the first creates the
workspaces, their members and the membership helpers (so tenancy is inferred from the
folder, function bodies included); each creates a workspace-scoped table shaped like ours
(helper function, foreign keys, indexes, RLS, four policies, explicit grants, a realtime DO
block) and every fifth alters an earlier table, so the replay has cross-file state to
track; every tenth has a per-row membership check, so the findings path is timed too. Then
lints the folder several times and prints the figures: time per stage, and peak memory
(Python allocations under tracemalloc during one run, and the process's maximum RSS).

    .venv/bin/python bench/lint_bench.py [--files 150] [--repeat 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from tenantspec.catalog.replay import replay
from tenantspec.catalog.source import migration_paths, read_statements
from tenantspec.lint import infer_tenancy, lint_paths, lint_state
from tenantspec.lint.config import LintConfig

TABLE = """\
-- table_{n}: synthetic workspace-scoped table number {n}.
create or replace function private.member_table_{n}_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select t.id from public.table_{n} as t
  where t.workspace_id = any (array(select private.member_workspace_ids()))
$$;

revoke execute on function private.member_table_{n}_ids() from public, anon;

grant execute on function private.member_table_{n}_ids() to authenticated;

create table public.table_{n} (
  id uuid default gen_random_uuid() not null,
  workspace_id uuid not null,
  parent_id uuid{parent_null},
  order_id uuid,
  name text not null,
  status text default 'pending' not null,
  amount integer default 0 not null,
  payload jsonb,
  created_at timestamptz default now() not null,
  updated_at timestamptz default now() not null,
  constraint table_{n}_pkey primary key (id),
  constraint table_{n}_workspace_id_fkey foreign key (workspace_id) references public.workspaces (id) on delete cascade,
  {parent_fk}constraint table_{n}_order_id_fkey foreign key (order_id) references public.orders (id),
  constraint table_{n}_status_check check (status in ('pending', 'done', 'failed'))
);

create index table_{n}_workspace_id_status_idx on public.table_{n} (workspace_id, status);

create index table_{n}_order_id_idx on public.table_{n} (order_id);

{parent_index}create trigger table_{n}_set_updated_at
  before update on public.table_{n}
  for each row execute function public.update_updated_at_column();

alter table public.table_{n} enable row level security;

create policy table_{n}_select on public.table_{n}
  for select to authenticated
  using (workspace_id = any (array(select private.member_workspace_ids())));

create policy table_{n}_insert on public.table_{n}
  for insert to authenticated
  with check (workspace_id = any (array(select private.member_workspace_ids()))
    and (order_id is null or (select r.workspace_id from public.orders as r where r.id = table_{n}.order_id) = table_{n}.workspace_id){parent_check});

create policy table_{n}_update on public.table_{n}
  for update to authenticated
  using (workspace_id = any (array(select private.admin_workspace_ids())))
  with check (workspace_id = any (array(select private.admin_workspace_ids()))
    and (order_id is null or (select r.workspace_id from public.orders as r where r.id = table_{n}.order_id) = table_{n}.workspace_id){parent_check});

create policy table_{n}_delete on public.table_{n}
  for delete to authenticated
  using (workspace_id = any (array(select private.admin_workspace_ids())));

revoke all on table public.table_{n} from public, anon, authenticated, service_role;

grant select, insert, update, delete on table public.table_{n} to authenticated;

grant select, insert, update, delete on table public.table_{n} to service_role;

do $$
begin
  if not exists (
    select 1 from pg_catalog.pg_publication_tables
    where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'table_{n}'
  ) then
    alter publication supabase_realtime add table public.table_{n};
  end if;
end
$$;
"""

ALTER = """
-- and a change to an earlier table
alter table public.table_{m} add column note_{n} text;

alter table public.table_{m} alter column note_{n} set default 'none';

comment on column public.table_{m}.note_{n} is 'Added by migration {n}.';
"""

HELPERS = """\
create table public.workspaces (id uuid primary key default gen_random_uuid(), name text not null);

create table public.workspace_members (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null,
  primary key (workspace_id, user_id)
);

create index workspace_members_user_id_idx on public.workspace_members (user_id);

create table public.orders (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  tracking_number text
);

create index orders_workspace_id_idx on public.orders (workspace_id);

alter table public.workspaces enable row level security;

alter table public.workspace_members enable row level security;

alter table public.orders enable row level security;

revoke all on table public.workspaces, public.workspace_members, public.orders from public, anon, authenticated;

create schema if not exists private;

grant usage on schema private to authenticated;

create or replace function private.member_workspace_ids()
returns setof uuid language sql stable security definer set search_path = ''
as $$ select m.workspace_id from public.workspace_members as m where m.user_id = (select auth.uid()) $$;

revoke execute on function private.member_workspace_ids() from public, anon;

grant execute on function private.member_workspace_ids() to authenticated;

create or replace function private.admin_workspace_ids()
returns setof uuid language sql stable security definer set search_path = ''
as $$ select m.workspace_id from public.workspace_members as m
      where m.user_id = (select auth.uid()) and m.role in ('owner', 'admin') $$;

revoke execute on function private.admin_workspace_ids() from public, anon;

grant execute on function private.admin_workspace_ids() to authenticated;
"""


def migration_text(n: int) -> str:
    """Migration number ``n`` (1-based); tables after the first point at the one before."""
    parent = n - 1
    has_parent = parent >= 1
    text = TABLE.format(
        n=n,
        parent_null="" if has_parent else "",
        parent_fk=(f"constraint table_{n}_parent_id_fkey foreign key (parent_id) "
                   f"references public.table_{parent} (id),\n  ") if has_parent else "",
        parent_index=(f"create index table_{n}_parent_id_idx on public.table_{n} (parent_id);\n\n")
        if has_parent else "",
        parent_check=(f"\n    and (parent_id is null or parent_id = any (array(select private.member_table_{parent}_ids())))")
        if has_parent else "",
    )
    if n % 10 == 0:
        # a classic mistake now and then, so the findings path is timed too
        text = text.replace(f"using (workspace_id = any (array(select private.member_workspace_ids())));\n\n"
                            f"create policy table_{n}_insert",
                            f"using (is_workspace_member(workspace_id));\n\ncreate policy table_{n}_insert")
    if n == 1:
        text = HELPERS + "\n" + text
    if n % 5 == 0:
        text += ALTER.format(n=n, m=n // 2)
    return text


def write_folder(folder: Path, files: int) -> None:
    for n in range(1, files + 1):
        (folder / f"2026{n:010d}_table_{n}.sql").write_text(migration_text(n), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="also write the folder to DIR (to time the command on it)")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        write_folder(args.keep, args.files)
    with tempfile.TemporaryDirectory(prefix="tenantspec-lint-bench-") as tmp:
        folder = Path(tmp)
        write_folder(folder, args.files)
        paths = migration_paths([folder])
        size = sum(p.stat().st_size for p in paths)
        totals, parses, replays, inferences, checks = [], [], [], [], []
        findings = []
        config = LintConfig()
        for _ in range(args.repeat):
            start = time.perf_counter()
            statements = read_statements(paths)
            parsed = time.perf_counter()
            state = replay(statements, config.default_privileges)
            replayed = time.perf_counter()
            tenancy = infer_tenancy(state, config.declared())
            inferred = time.perf_counter()
            findings = lint_state(state, tenancy, config)
            done = time.perf_counter()
            parses.append(parsed - start)
            replays.append(replayed - parsed)
            inferences.append(inferred - replayed)
            checks.append(done - inferred)
            totals.append(done - start)
        start = time.perf_counter()
        lint_paths([folder])
        single = time.perf_counter() - start
        tracemalloc.start()
        lint_paths([folder])
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    # ru_maxrss is in KiB on Linux, in bytes on macOS
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    print(f"files: {len(paths)}  statements: {len(statements)}  bytes: {size}")
    print(f"tenancy: {len(tenancy.roots)} root(s), {len(tenancy.tenant_columns)} tenant-scoped tables")
    print(f"findings: {len(findings)}")
    print(f"lint_paths, one run:          {single * 1000:8.1f} ms")
    print(f"total, median of {args.repeat}:          {statistics.median(totals) * 1000:8.1f} ms "
          f"(min {min(totals) * 1000:.1f} ms, {statistics.median(totals) / len(paths) * 1000:.2f} ms/file)")
    print(f"  parse (pglast):             {statistics.median(parses) * 1000:8.1f} ms")
    print(f"  replay:                     {statistics.median(replays) * 1000:8.1f} ms")
    print(f"  tenancy inference:          {statistics.median(inferences) * 1000:8.1f} ms")
    print(f"  rules and suppressions:     {statistics.median(checks) * 1000:8.1f} ms")
    print(f"memory, peak traced in one lint_paths run: {traced_peak / 2**20:6.1f} MiB")
    print(f"memory, process maximum RSS:               {max_rss / 2**20:6.1f} MiB")


if __name__ == "__main__":
    main()
