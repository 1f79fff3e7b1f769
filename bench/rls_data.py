"""The benchmark's data set: its scale, a set-based loader, and the persona who queries it.

Every id is derived from its position (``md5('<kind>:<n>')::uuid``) so two runs at the same
scale load the same rows in the same physical order. Items are inserted job by job, as the
robot writes them, so one job's items sit together while workspaces interleave.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from psycopg import Connection


@dataclass(frozen=True)
class Scale:
    """How many rows of each kind to load."""

    workspaces: int
    users: int
    jobs: int
    items: int

    @property
    def jobs_per_workspace(self) -> int:
        return self.jobs // self.workspaces

    @property
    def items_per_job(self) -> int:
        return self.items // self.jobs

    @property
    def orders_per_workspace(self) -> int:
        # Twice a job's size: consecutive jobs of a workspace use alternating halves,
        # so every job leaves items_per_job orders free for the insert query.
        return 2 * self.items_per_job

    def check(self) -> None:
        if self.jobs % self.workspaces or self.items % self.jobs:
            raise ValueError(f"{self}: jobs must divide by workspaces and items by jobs")
        if self.users < 2 * self.workspaces:
            raise ValueError(f"{self}: need at least two users per workspace")
        if self.jobs_per_workspace < 3:
            raise ValueError(f"{self}: need at least three jobs per workspace")


FULL = Scale(workspaces=1_000, users=3_000, jobs=10_000, items=1_000_000)
QUICK = Scale(workspaces=100, users=300, jobs=1_000, items=100_000)


@dataclass(frozen=True)
class Persona:
    """The user the queries run as, and the rows the queries touch."""

    user_id: uuid.UUID
    email: str
    workspace_id: uuid.UUID
    read_job_id: uuid.UUID
    insert_job_id: uuid.UUID
    insert_order_ids: tuple[uuid.UUID, ...]
    update_item_ids: tuple[uuid.UUID, ...]


# Each statement is one set-based pass; %(name)s placeholders are the scale's numbers.
LOAD_STATEMENTS: tuple[tuple[str, str], ...] = (
    (
        "auth.users",
        """
        insert into auth.users (id, email)
        select md5('u:' || n)::uuid, 'user' || n || '@bench.test'
        from generate_series(0, %(users)s - 1) as n
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
    # Users 0..workspaces-1 own workspace n; every user belongs to 1 + n % 3 workspaces.
    # Extra memberships step by 331 workspaces so they never repeat one; a quarter are admins.
    (
        "workspace_members",
        """
        insert into public.workspace_members (workspace_id, user_id, role)
        select md5('w:' || m.w)::uuid, md5('u:' || m.n)::uuid, m.role
        from (
          select n, n as w, 'owner' as role
          from generate_series(0, %(workspaces)s - 1) as n
          union all
          select n, (n + 331 * k) %% %(workspaces)s,
                 case when (n + k) %% 4 = 0 then 'admin' else 'agent' end
          from generate_series(0, %(workspaces)s - 1) as n,
               generate_series(1, n %% 3) as k
          union all
          select n, (7 * n + 331 * k) %% %(workspaces)s,
                 case when (n + k) %% 4 = 0 then 'admin' else 'agent' end
          from generate_series(%(workspaces)s, %(users)s - 1) as n,
               generate_series(0, n %% 3) as k
        ) as m
        """,
    ),
    (
        "orders",
        """
        insert into public.orders
          (id, workspace_id, tracking_number, customer_name, shipping_city, total)
        select md5('o:' || w || ':' || k)::uuid, md5('w:' || w)::uuid,
               'TRK' || lpad((w * %(orders_per_workspace)s + k)::text, 9, '0'),
               'Customer ' || k,
               (array['Bogota', 'Medellin', 'Cali', 'Barranquilla', 'Cartagena'])[1 + k %% 5],
               10 + (w * 7 + k * 13) %% 500
        from generate_series(0, %(workspaces)s - 1) as w,
             generate_series(0, %(orders_per_workspace)s - 1) as k
        """,
    ),
    (
        "carrier_configs",
        """
        insert into public.carrier_configs
          (workspace_id, carrier, portal_username, portal_password, is_enabled)
        select md5('w:' || w)::uuid, 'coordinadora', 'portal-' || w, 'secret-' || w,
               w %% 10 <> 0
        from generate_series(0, %(workspaces)s - 1) as w
        """,
    ),
    # Job j belongs to workspace j % workspaces, so a workspace's jobs are spread over time.
    (
        "robot_jobs",
        """
        insert into public.robot_jobs
          (id, workspace_id, status, total_items, success_count, error_count,
           idempotency_key, started_at, completed_at, created_at)
        select md5('j:' || j)::uuid, md5('w:' || j %% %(workspaces)s)::uuid,
               case when j >= %(jobs)s - %(workspaces)s then 'processing'
                    when j %% 17 = 0 then 'failed' else 'completed' end,
               %(items_per_job)s, %(items_per_job)s * 8 / 10, %(items_per_job)s / 10,
               'job-' || j,
               now() - make_interval(mins => %(jobs)s - j),
               case when j < %(jobs)s - %(workspaces)s
                    then now() - make_interval(mins => %(jobs)s - j - 1) end,
               now() - make_interval(mins => %(jobs)s - j)
        from generate_series(0, %(jobs)s - 1) as j
        """,
    ),
    # Item i of job j uses order (j / workspaces) * items_per_job + i of the job's workspace,
    # modulo orders_per_workspace: unique within the job, and always the job's own workspace.
    (
        "robot_job_items",
        """
        insert into public.robot_job_items
          (id, job_id, order_id, status, tracking_number, validated_city, value_sent,
           error_type, error_message, started_at, completed_at, created_at)
        select md5('i:' || j || ':' || i)::uuid, md5('j:' || j)::uuid,
               md5('o:' || j %% %(workspaces)s || ':'
                   || ((j / %(workspaces)s) * %(items_per_job)s + i)
                      %% %(orders_per_workspace)s)::uuid,
               s.status,
               case when s.status = 'success' then 'CO' || lpad((j * 1000 + i)::text, 10, '0') end,
               case when s.status in ('success', 'error') then 'Bogota' end,
               jsonb_build_object('order', i, 'city', 'Bogota', 'weight_kg', 1 + i %% 20,
                                  'cod', i %% 3 = 0),
               case when s.status = 'error'
                    then (array['validation', 'portal', 'timeout', 'unknown'])[1 + i %% 4] end,
               case when s.status = 'error' then 'Portal rejected the order' end,
               now() - make_interval(mins => %(jobs)s - j),
               case when s.status in ('success', 'error')
                    then now() - make_interval(mins => %(jobs)s - j) end,
               now() - make_interval(mins => %(jobs)s - j)
        from generate_series(0, %(jobs)s - 1) as j,
             generate_series(0, %(items_per_job)s - 1) as i,
             lateral (
               select case when (i * 37 + j) %% 100 < 70 then 'success'
                           when (i * 37 + j) %% 100 < 80 then 'error'
                           when (i * 37 + j) %% 100 < 95 then 'pending'
                           else 'processing' end as status
             ) as s
        order by j, i
        """,
    ),
)

LOADED_TABLES = (
    "auth.users",
    "public.workspaces",
    "public.workspace_members",
    "public.orders",
    "public.carrier_configs",
    "public.robot_jobs",
    "public.robot_job_items",
)


def load_dataset(conn: Connection, scale: Scale) -> dict[str, float]:
    """Load the data set with one insert ... select per table; return seconds per table.

    Runs inside the caller's transaction (the template build's seed step).
    """
    scale.check()
    numbers = {
        "workspaces": scale.workspaces,
        "users": scale.users,
        "jobs": scale.jobs,
        "items": scale.items,
        "items_per_job": scale.items_per_job,
        "orders_per_workspace": scale.orders_per_workspace,
    }
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


def choose_persona(conn: Connection, scale: Scale) -> Persona:
    """Pick the first agent who belongs to exactly one workspace, and rows of that workspace.

    One membership makes "everything the policies let me see" and "this workspace's rows"
    the same set, which is what lets the no-RLS variant return identical rows.
    """
    user_id, email, workspace_id = conn.execute(
        """
        select m.user_id, u.email, min(m.workspace_id::text)::uuid
        from public.workspace_members as m
        join auth.users as u on u.id = m.user_id
        group by m.user_id, u.email
        having count(*) = 1 and bool_and(m.role = 'agent')
        order by u.email
        limit 1
        """
    ).fetchone()
    job_ids = [
        row[0]
        for row in conn.execute(
            "select id from public.robot_jobs where workspace_id = %s order by created_at",
            (workspace_id,),
        )
    ]
    # Three different jobs: the one read, the one inserted into, the one updated, so the
    # dead rows left by rolled-back writes never sit in the rows a read walks.
    read_job_id, insert_job_id, update_job_id = job_ids[0], job_ids[1], job_ids[2]
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
            limit 100
            """,
            (workspace_id, insert_job_id),
        )
    )
    update_item_ids = tuple(
        row[0]
        for row in conn.execute(
            "select id from public.robot_job_items where job_id = %s order by id limit 100",
            (update_job_id,),
        )
    )
    if len(insert_order_ids) < 100 or len(update_item_ids) < 100:
        raise RuntimeError(
            f"{scale}: the persona's workspace has too few free orders or items for 100-row writes"
        )
    return Persona(
        user_id=user_id,
        email=email,
        workspace_id=workspace_id,
        read_job_id=read_job_id,
        insert_job_id=insert_job_id,
        insert_order_ids=insert_order_ids,
        update_item_ids=update_item_ids,
    )
