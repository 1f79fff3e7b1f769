"""The benchmark's data sets, a set-based loader, and the agents who query them.

A data set is a list of tenant groups: so many workspaces, each with so many jobs of so many
items. The even scenario is one group (every workspace alike); the skewed one puts a few
large workspaces ("whales") beside many small ones, so one run can ask what a request costs
as a function of the tenant's size while the tables stay the same.

Every id is derived from its position (``md5('<kind>:<n>')::uuid``), so two runs of a data
set load the same rows in the same physical order. Jobs of all workspaces interleave in time
(job k of a workspace with n jobs sits at fraction (k + 0.5) / n of the period), and items
are inserted job by job in that order, as the robot writes them: one job's items sit
together, a workspace's jobs are spread over the table.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from psycopg import Connection


@dataclass(frozen=True)
class Tenants:
    """A group of workspaces of one size."""

    label: str
    count: int
    jobs: int  # per workspace
    items_per_job: int
    measured: bool  # the requests run as an agent of the group's first workspace

    @property
    def orders(self) -> int:
        # Twice a job's size: consecutive jobs of a workspace use alternating halves, so
        # every job leaves items_per_job orders of its workspace free for the insert request.
        return 2 * self.items_per_job


@dataclass(frozen=True)
class DataSet:
    """What one scenario loads, and how many rows its writes touch."""

    name: str
    tenants: tuple[Tenants, ...]
    update_rows: int  # rows the update request changes (the insert adds one job's worth)
    measure_triggers: bool = False  # also time the item's workspace triggers per row

    @property
    def workspaces(self) -> int:
        return sum(group.count for group in self.tenants)

    @property
    def jobs(self) -> int:
        return sum(group.count * group.jobs for group in self.tenants)

    @property
    def items(self) -> int:
        return sum(group.count * group.jobs * group.items_per_job for group in self.tenants)

    def expected_counts(self) -> dict[str, int]:
        return {
            "auth.users": 3 * self.workspaces,
            "public.workspaces": self.workspaces,
            "public.workspace_members": 4 * self.workspaces,
            "public.robot_jobs": self.jobs,
            "public.robot_job_items": self.items,
        }

    def check(self) -> None:
        for group in self.tenants:
            if group.jobs < 3 or group.items_per_job < max(1, self.update_rows):
                raise ValueError(
                    f"{self.name}/{group.label}: a workspace needs three jobs, and a job at "
                    f"least {self.update_rows} items, for the write requests"
                )

    def describe(self) -> dict:
        return {
            "name": self.name,
            "workspaces": self.workspaces,
            "jobs": self.jobs,
            "items": self.items,
            "update_rows": self.update_rows,
            "measure_triggers": self.measure_triggers,
            "tenants": [vars(group) for group in self.tenants],
        }


def even(quick: bool) -> DataSet:
    """Issue 5's data set: 1,000 workspaces x 10 jobs x 100 items (a tenth with quick)."""
    count = 100 if quick else 1_000
    return DataSet(
        "even", (Tenants("workspace", count, 10, 100, measured=True),), update_rows=100,
        measure_triggers=True,
    )


def skewed(quick: bool) -> DataSet:
    """Three whales of 1k, 10k and 100k jobs (100, 1k and 10k with quick), 10 items a job,
    beside 200 small workspaces of 50 jobs (20 with quick)."""
    sizes = (100, 1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    whales = tuple(
        Tenants(f"whale {jobs // 1000}k" if jobs >= 1000 else f"whale {jobs}", 1, jobs, 10,
                measured=True)
        for jobs in sizes
    )
    small = Tenants("small", 20 if quick else 200, 50, 10, measured=False)
    return DataSet("skewed", (*whales, small), update_rows=1)


DATA_SETS = {"even": even, "skewed": skewed}

# Workspace w is owned by user w; user W + w is an agent of w alone (the persona the
# requests run as); user 2W + w is an agent of w and of w + 1 (for the equivalence checks).
LOAD_STATEMENTS: tuple[tuple[str, str], ...] = (
    (
        "auth.users",
        """
        insert into auth.users (id, email)
        select md5('u:' || n)::uuid, 'user' || n || '@bench.test'
        from generate_series(0, 3 * %(workspaces)s - 1) as n
        """,
    ),
    (
        "workspaces",
        """
        insert into public.workspaces (id, name, slug, owner_id)
        select md5('w:' || w)::uuid, 'Workspace ' || w, 'ws-' || w, md5('u:' || w)::uuid
        from generate_series(0, %(workspaces)s - 1) as w
        """,
    ),
    (
        "workspace_members",
        """
        insert into public.workspace_members (workspace_id, user_id, role)
        select md5('w:' || m.w)::uuid, md5('u:' || m.n)::uuid, m.role
        from (
          select w as n, w, 'owner' as role from generate_series(0, %(workspaces)s - 1) as w
          union all
          select %(workspaces)s + w, w, 'agent' from generate_series(0, %(workspaces)s - 1) as w
          union all
          select 2 * %(workspaces)s + w, w + k, 'agent'
          from generate_series(0, %(workspaces)s - 2) as w, generate_series(0, 1) as k
          union all
          select 3 * %(workspaces)s - 1, w, 'agent'
          from (values (%(workspaces)s - 1), (0)) as last (w)
        ) as m
        """,
    ),
    (
        "orders",
        """
        insert into public.orders
          (id, workspace_id, tracking_number, customer_name, shipping_city, total)
        select md5('o:' || g.w || ':' || k)::uuid, md5('w:' || g.w)::uuid,
               'TRK' || g.w || '-' || k, 'Customer ' || k,
               (array['Bogota', 'Medellin', 'Cali', 'Barranquilla', 'Cartagena'])[1 + k %% 5],
               10 + (g.w * 7 + k * 13) %% 500
        from bench_workspaces as g, generate_series(0, g.orders - 1) as k
        """,
    ),
    (
        "carrier_configs",
        """
        insert into public.carrier_configs
          (id, workspace_id, carrier, portal_username, portal_password, is_enabled,
           created_at, updated_at)
        select md5('c:' || w)::uuid, md5('w:' || w)::uuid, 'coordinadora', 'portal-' || w, 'secret-' || w,
               w %% 10 <> 0, %(epoch)s::timestamptz, %(epoch)s::timestamptz
        from generate_series(0, %(workspaces)s - 1) as w
        """,
    ),
    # Every job of every workspace, numbered r in time order (r is unique, so is created_at).
    (
        "bench_jobs",
        """
        create temporary table bench_jobs on commit drop as
        select g.w, k, g.jobs, g.items_per_job,
               (row_number() over (order by (k + 0.5) / g.jobs, g.w))::integer as r
        from bench_workspaces as g, generate_series(0, g.jobs - 1) as k
        """,
    ),
    (
        "robot_jobs",
        """
        insert into public.robot_jobs
          (id, workspace_id, status, total_items, success_count, error_count,
           idempotency_key, started_at, completed_at, created_at, updated_at)
        select md5('j:' || r)::uuid, md5('w:' || w)::uuid,
               case when k = jobs - 1 then 'processing'
                    when k %% 17 = 0 then 'failed' else 'completed' end,
               items_per_job, items_per_job * 8 / 10, items_per_job / 10,
               'job-' || w || '-' || k,
               %(epoch)s::timestamptz - make_interval(secs => %(jobs)s - r),
               case when k < jobs - 1 then %(epoch)s::timestamptz - make_interval(secs => %(jobs)s - r - 1) end,
               %(epoch)s::timestamptz - make_interval(secs => %(jobs)s - r),
               %(epoch)s::timestamptz - make_interval(secs => %(jobs)s - r)
        from bench_jobs
        order by r
        """,
    ),
    # Item i of a workspace's job k uses order (k * items_per_job + i) modulo the workspace's
    # orders: unique within the job, and always of the job's own workspace.
    (
        "robot_job_items",
        """
        insert into public.robot_job_items
          (id, job_id, order_id, status, tracking_number, validated_city, value_sent,
           error_type, error_message, started_at, completed_at, created_at, updated_at)
        select md5('i:' || b.r || ':' || i)::uuid, md5('j:' || b.r)::uuid,
               md5('o:' || b.w || ':' || (b.k * b.items_per_job + i) %% (2 * b.items_per_job))::uuid,
               s.status,
               case when s.status = 'success' then 'CO' || lpad((b.r * 1000 + i)::text, 10, '0') end,
               case when s.status in ('success', 'error') then 'Bogota' end,
               jsonb_build_object('order', i, 'city', 'Bogota', 'weight_kg', 1 + i %% 20,
                                  'cod', i %% 3 = 0),
               case when s.status = 'error'
                    then (array['validation', 'portal', 'timeout', 'unknown'])[1 + i %% 4] end,
               case when s.status = 'error' then 'Portal rejected the order' end,
               %(epoch)s::timestamptz - make_interval(secs => %(jobs)s - b.r),
               case when s.status in ('success', 'error')
                    then %(epoch)s::timestamptz - make_interval(secs => %(jobs)s - b.r) end,
               %(epoch)s::timestamptz - make_interval(secs => %(jobs)s - b.r),
               %(epoch)s::timestamptz - make_interval(secs => %(jobs)s - b.r)
        from bench_jobs as b,
             generate_series(0, b.items_per_job - 1) as i,
             lateral (
               select case when (i * 37 + b.r) %% 100 < 70 then 'success'
                           when (i * 37 + b.r) %% 100 < 80 then 'error'
                           when (i * 37 + b.r) %% 100 < 95 then 'pending'
                           else 'processing' end as status
             ) as s
        order by b.r, i
        """,
    ),
)

# Every timestamp is derived from this one, so two loads of a data set are equal row for row.
EPOCH = "2026-06-01 00:00:00+00"

LOADED_TABLES = (
    "auth.users",
    "public.workspaces",
    "public.workspace_members",
    "public.orders",
    "public.carrier_configs",
    "public.robot_jobs",
    "public.robot_job_items",
)


def load_dataset(conn: Connection, data: DataSet) -> dict[str, float]:
    """Load the data set with one insert ... select per table; return seconds per table.

    Runs inside the caller's transaction (the template build's seed step).
    """
    data.check()
    conn.execute("set local work_mem = '256MB'")
    conn.execute(
        "create temporary table bench_workspaces"
        " (w integer, jobs integer, items_per_job integer, orders integer) on commit drop"
    )
    first = 0
    for group in data.tenants:
        conn.execute(
            "insert into bench_workspaces"
            " select w, %s, %s, %s from generate_series(%s::integer, %s::integer) as w",
            (group.jobs, group.items_per_job, group.orders, first, first + group.count - 1),
        )
        first += group.count
    numbers = {"workspaces": data.workspaces, "jobs": data.jobs, "epoch": EPOCH}
    seconds: dict[str, float] = {}
    for table, statement in LOAD_STATEMENTS:
        started = time.perf_counter()
        conn.execute(statement, numbers)
        seconds[table] = time.perf_counter() - started
    return seconds


def vacuum_analyze(conn: Connection) -> float:
    """VACUUM (ANALYZE) the loaded tables on an autocommit connection; return seconds.

    VACUUM as well as ANALYZE: it sets the visibility map and hint bits now, so autovacuum
    does not wake up on the fresh rows in the middle of a timing.
    """
    started = time.perf_counter()
    conn.execute("vacuum (analyze) " + ", ".join(LOADED_TABLES))
    return time.perf_counter() - started


def count_rows(conn: Connection) -> dict[str, int]:
    """Row counts of the loaded tables, read as the owner."""
    return {
        table: conn.execute(f"select count(*) from {table}").fetchone()[0]
        for table in LOADED_TABLES
    }


@dataclass(frozen=True)
class Persona:
    """An agent of exactly one workspace, and the rows its requests touch."""

    tenant: str  # the tenant group's label
    jobs: int  # how many jobs the workspace holds
    user_id: uuid.UUID
    email: str
    workspace_id: uuid.UUID
    read_job_id: uuid.UUID
    item_id: uuid.UUID
    insert_job_id: uuid.UUID
    insert_order_ids: tuple[uuid.UUID, ...]
    update_item_ids: tuple[uuid.UUID, ...]
    other_workspace_id: uuid.UUID  # a workspace the agent is not a member of

    def describe(self) -> dict:
        return {name: str(value) if isinstance(value, uuid.UUID) else value
                for name, value in vars(self).items()
                if name not in ("insert_order_ids", "update_item_ids")}


def choose_personas(conn: Connection, data: DataSet) -> list[Persona]:
    """The single-workspace agent of each measured group's first workspace, with its newest
    three jobs: the one read, the one inserted into, the one updated (so the dead rows left
    by rolled-back writes never sit in the rows a read walks)."""
    personas = []
    first = 0
    for group in data.tenants:
        if group.measured:
            personas.append(_persona(conn, data, group, first))
        first += group.count
    return personas


def _persona(conn: Connection, data: DataSet, group: Tenants, w: int) -> Persona:
    user = data.workspaces + w
    user_id, email, workspace_id = conn.execute(
        "select u.id, u.email, m.workspace_id from auth.users as u"
        " join public.workspace_members as m on m.user_id = u.id where u.id = md5(%s)::uuid",
        (f"u:{user}",),
    ).fetchone()
    read_job_id, insert_job_id, update_job_id = (
        row[0]
        for row in conn.execute(
            "select id from public.robot_jobs where workspace_id = %s"
            " order by created_at desc limit 3",
            (workspace_id,),
        )
    )
    insert_order_ids = tuple(
        row[0]
        for row in conn.execute(
            """
            select o.id from public.orders as o
            where o.workspace_id = %s
              and not exists (
                select 1 from public.robot_job_items as i
                where i.job_id = %s and i.order_id = o.id)
            order by o.id
            limit %s
            """,
            (workspace_id, insert_job_id, group.items_per_job),
        )
    )
    update_item_ids = tuple(
        row[0]
        for row in conn.execute(
            "select id from public.robot_job_items where job_id = %s order by id limit %s",
            (update_job_id, data.update_rows),
        )
    )
    (item_id,) = conn.execute(
        "select id from public.robot_job_items where job_id = %s order by id limit 1",
        (read_job_id,),
    ).fetchone()
    (other_workspace_id,) = conn.execute(
        "select id from public.workspaces where id <> %s order by id limit 1", (workspace_id,)
    ).fetchone()
    if len(insert_order_ids) < group.items_per_job or len(update_item_ids) < data.update_rows:
        raise RuntimeError(f"{data.name}/{group.label}: too few free orders or items to write")
    return Persona(
        tenant=group.label,
        jobs=group.jobs,
        user_id=user_id,
        email=email,
        workspace_id=workspace_id,
        read_job_id=read_job_id,
        item_id=item_id,
        insert_job_id=insert_job_id,
        insert_order_ids=insert_order_ids,
        update_item_ids=update_item_ids,
        other_workspace_id=other_workspace_id,
    )
