"""Constraints and behaviour the tables promise, on a fresh clone per test."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
from psycopg import sql

from attempts import attempt
from generator.testing.impersonate import SERVICE_ROLE_CLAIMS, switch_identity

# (description, statement, params from world, expected SQLSTATE or None) -- run as service_role,
# which bypasses RLS, so only the constraints decide.
CHECK_CASES = [
    ("job status outside the list", "insert into public.robot_jobs (workspace_id, status) values (%(ws_a)s, 'done')", "23514"),
    *[(f"job status {s}", f"insert into public.robot_jobs (workspace_id, status) values (%(ws_a)s, '{s}')", None)
      for s in ("pending", "processing", "completed", "failed")],
    ("item status outside the list", "insert into public.robot_job_items (job_id, order_id, status) values (%(job_a)s, %(spare_a)s, 'ok')", "23514"),
    *[(f"item status {s}", f"insert into public.robot_job_items (job_id, order_id, status) values (%(job_a)s, %(spare_a)s, '{s}')", None)
      for s in ("pending", "processing", "success", "error")],
    ("item error_type outside the list", "insert into public.robot_job_items (job_id, order_id, error_type) values (%(job_a)s, %(spare_a)s, 'network')", "23514"),
    *[(f"item error_type {e}", f"insert into public.robot_job_items (job_id, order_id, error_type) values (%(job_a)s, %(spare_a)s, '{e}')", None)
      for e in ("validation", "portal", "timeout", "unknown")],
    ("item error_type NULL", "insert into public.robot_job_items (job_id, order_id, error_type) values (%(job_a)s, %(spare_a)s, null)", None),
    ("second config for the same carrier in a workspace", "insert into public.carrier_configs (workspace_id, carrier) values (%(ws_a)s, 'coordinadora')", "23505"),
    ("another carrier in the same workspace", "insert into public.carrier_configs (workspace_id, carrier) values (%(ws_a)s, 'interrapidisimo')", None),
    ("same order twice in one job", "insert into public.robot_job_items (job_id, order_id) values (%(job_a)s, %(order_a1)s)", "23505"),
    ("same order in another job", "insert into public.robot_job_items (job_id, order_id) values (%(job_a2)s, %(order_a1)s)", None),
    ("duplicate idempotency key in one workspace", "insert into public.robot_jobs (workspace_id, idempotency_key) values (%(ws_a)s, 'a-batch-1')", "23505"),
    ("same idempotency key in two workspaces", "insert into public.robot_jobs (workspace_id, idempotency_key) values (%(ws_b)s, 'a-batch-1')", None),
    ("job in a workspace that does not exist", "insert into public.robot_jobs (workspace_id) values (gen_random_uuid())", "23503"),
    ("item for an order that does not exist", "insert into public.robot_job_items (job_id, order_id) values (%(job_a)s, gen_random_uuid())", "23503"),
]


def world_params(world) -> dict:
    a, b = world.rows["A"], world.rows["B"]
    return {
        "ws_a": a.workspace_id, "ws_b": b.workspace_id, "job_a": a.robot_jobs[0], "job_a2": a.robot_jobs[1],
        "spare_a": a.spare_order, "order_a1": a.orders[0],
    }


@pytest.mark.parametrize("case", CHECK_CASES, ids=[c[0] for c in CHECK_CASES])
def test_constraint(impersonate, world, case):
    why, statement, expected = case
    with impersonate.as_service_role() as conn:
        result = attempt(conn, statement, world_params(world))
    assert result.sqlstate == expected, (
        f"{why}: expected {'SQLSTATE ' + expected if expected else 'success'}, "
        f"got {result.describe()} {result.message}"
    )


def test_many_null_idempotency_keys_accepted(impersonate, world):
    with impersonate.as_service_role() as conn:
        for _ in range(5):
            result = attempt(
                conn, "insert into public.robot_jobs (workspace_id, idempotency_key) values (%s, null)",
                (world.rows["A"].workspace_id,),
            )
            assert not result.failed, result.message


def test_concurrent_inserts_of_one_idempotency_key_leave_one_row(database, world):
    """20 connections race to insert the same key: one row, nineteen unique violations."""
    workspace = world.rows["A"].workspace_id
    racers = 20
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def race() -> None:
        with database.connect_probe() as conn:
            switch_identity(conn, "service_role", SERVICE_ROLE_CLAIMS)
            barrier.wait(timeout=30)
            try:
                conn.execute(
                    "insert into public.robot_jobs (workspace_id, idempotency_key) values (%s, 'race-key')",
                    (workspace,),
                )
                conn.commit()
                outcome = "inserted"
            except psycopg.Error as exc:
                conn.rollback()
                outcome = exc.sqlstate or "?"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == sorted(["inserted"] + ["23505"] * (racers - 1)), outcomes
    with database.connect_admin() as conn:
        count = conn.execute(
            "select count(*) from public.robot_jobs where workspace_id = %s and idempotency_key = 'race-key'",
            (workspace,),
        ).fetchone()[0]
    assert count == 1


def _count(conn, table: str, column: str, values) -> int:
    return conn.execute(
        sql.SQL("select count(*) from {} where {} = any(%s)").format(
            sql.Identifier("public", table), sql.Identifier(column)
        ),
        (list(values),),
    ).fetchone()[0]


def test_deleting_a_workspace_cascades_to_configs_jobs_and_items(database, world):
    a, b = world.rows["A"], world.rows["B"]
    with database.connect_admin() as conn:
        conn.execute("delete from public.workspaces where id = %s", (a.workspace_id,))
        conn.commit()
        for table in ("carrier_configs", "robot_jobs", "robot_job_items"):
            assert _count(conn, table, "id", a.ids(table)) == 0, f"{table} rows of a deleted workspace remain"
            assert _count(conn, table, "id", b.ids(table)) == len(b.ids(table)), f"B's {table} rows went too"


def test_deleting_a_job_cascades_to_its_items(database, world):
    a = world.rows["A"]
    job = a.robot_jobs[0]
    with database.connect_admin() as conn:
        conn.execute("delete from public.robot_jobs where id = %s", (job,))
        conn.commit()
        assert _count(conn, "robot_job_items", "job_id", [job]) == 0
        assert _count(conn, "robot_job_items", "job_id", [a.robot_jobs[1]]) == 1


UPDATES = [
    ("carrier_configs", "is_enabled = true"),
    ("robot_jobs", "status = 'processing'"),
    ("robot_job_items", "status = 'processing'"),
]


@pytest.mark.parametrize("table,change", UPDATES, ids=[u[0] for u in UPDATES])
def test_updated_at_moves_on_update(database, world, table, change):
    row_id = world.rows["A"].ids(table)[0]
    target = sql.Identifier("public", table)
    with database.connect_admin() as conn:
        before = conn.execute(sql.SQL("select updated_at from {} where id = %s").format(target), (row_id,)).fetchone()[0]
        conn.commit()
        conn.execute(sql.SQL("update {} set " + change + " where id = %s").format(target), (row_id,))
        conn.commit()
        after, drift = conn.execute(
            sql.SQL("select updated_at, abs(extract(epoch from updated_at - now())) from {} where id = %s").format(target),
            (row_id,),
        ).fetchone()
    assert after > before, f"{table}.updated_at did not move on update ({before} -> {after})"
    assert drift < 5, f"{table}.updated_at is {drift:.0f} s away from now()"


INSERTS = [
    ("carrier_configs", "insert into public.carrier_configs (workspace_id, carrier) values (%(ws_a)s, 'interrapidisimo') returning created_at, updated_at"),
    ("robot_jobs", "insert into public.robot_jobs (workspace_id) values (%(ws_a)s) returning created_at, updated_at"),
    ("robot_job_items", "insert into public.robot_job_items (job_id, order_id) values (%(job_a2)s, %(spare_a)s) returning created_at, updated_at"),
]


@pytest.mark.parametrize("table,statement", INSERTS, ids=[i[0] for i in INSERTS])
def test_timestamps_default_to_the_real_instant(impersonate, world, table, statement):
    """created_at/updated_at must be now(), not a naive local time read as UTC."""
    with impersonate.as_service_role() as conn:
        conn.execute("set local timezone = 'UTC'")  # as on Supabase
        created, updated = conn.execute(statement, world_params(world)).fetchone()
        now = conn.execute("select now()").fetchone()[0]
    for column, value in (("created_at", created), ("updated_at", updated)):
        drift = abs((value - now).total_seconds())
        assert drift < 5, f"{table}.{column} default is {drift / 3600:.1f} h away from now(): use now()"


def test_realtime_publication_holds_robot_job_items_only(database):
    with database.connect_admin() as conn:
        rows = conn.execute(
            "select schemaname, tablename from pg_catalog.pg_publication_tables "
            "where pubname = 'supabase_realtime' order by 1, 2"
        ).fetchall()
    assert rows == [("public", "robot_job_items")]


def test_no_api_role_may_truncate_reference_or_trigger(database):
    """ALL includes TRUNCATE, REFERENCES and TRIGGER: none of them belongs to an API role."""
    with database.connect_admin() as conn:
        rows = conn.execute(
            """
            select c.relname, a.grantee::regrole::text, a.privilege_type
            from pg_catalog.pg_class c
            cross join lateral aclexplode(c.relacl) a
            where c.relnamespace = 'public'::regnamespace
              and c.relname in ('carrier_configs', 'robot_jobs', 'robot_job_items')
              and a.grantee in (select oid from pg_roles where rolname in ('anon', 'authenticated'))
              and a.privilege_type in ('TRUNCATE', 'REFERENCES', 'TRIGGER')
            order by 1, 2, 3
            """
        ).fetchall()
    assert rows == [], f"API roles hold privileges they must not: {rows}"


def test_anon_holds_no_privilege_on_the_tables(database):
    with database.connect_admin() as conn:
        rows = conn.execute(
            """
            select c.relname, a.privilege_type
            from pg_catalog.pg_class c
            cross join lateral aclexplode(c.relacl) a
            where c.relnamespace = 'public'::regnamespace
              and c.relname in ('carrier_configs', 'robot_jobs', 'robot_job_items')
              and a.grantee in (0, 'anon'::regrole)
            order by 1, 2
            """
        ).fetchall()
    assert rows == [], f"anon (or PUBLIC) holds {rows}"


def test_new_ids_are_uuids(impersonate, world):
    with impersonate.as_service_role() as conn:
        new_id = conn.execute(
            "insert into public.robot_jobs (workspace_id) values (%s) returning id",
            (world.rows["A"].workspace_id,),
        ).fetchone()[0]
    assert isinstance(new_id, uuid.UUID)


def test_security_definer_functions_are_not_executable_by_anon(database):
    """EXECUTE defaults to PUBLIC: a SECURITY DEFINER helper must revoke it from public and anon."""
    with database.connect_admin() as conn:
        rows = conn.execute(
            """
            select p.oid::regprocedure::text
            from pg_catalog.pg_proc p
            where p.prosecdef
              and p.pronamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace,
                                         'auth'::regnamespace, 'tenantspec_probe'::regnamespace)
              and has_function_privilege('anon', p.oid, 'EXECUTE')
            order by 1
            """
        ).fetchall()
    assert rows == [], f"anon may execute SECURITY DEFINER functions: {[r[0] for r in rows]}"


def test_policies_on_the_tables_name_their_role(database):
    """A policy without TO applies to PUBLIC, anon included; each must say whom it is for."""
    with database.connect_admin() as conn:
        rows = conn.execute(
            """
            select tablename, policyname, roles::text[]
            from pg_catalog.pg_policies
            where schemaname = 'public'
              and tablename in ('carrier_configs', 'robot_jobs', 'robot_job_items')
              and 'public' = any (roles::text[])
            order by 1, 2
            """
        ).fetchall()
    assert rows == [], "policies that apply to PUBLIC (no TO clause): " + ", ".join(
        f"{t}.{p}" for t, p, _ in rows
    )
