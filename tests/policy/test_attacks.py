"""Named attacks, each its own test: what a hostile or careless request must not achieve.

Every request runs as PostgREST would run it and is rolled back. A denial may be an error or
zero rows affected, but no table may change (checked through the plugin's snapshot probe).
"""

from __future__ import annotations

import uuid

import pytest
from psycopg import sql

from attempts import TABLES, assert_allowed, assert_denied, attempt
from generator.testing.personas import WORKSPACES

SIGNED_IN = ("owner_A", "admin_A", "agent_A", "owner_B", "admin_B", "agent_B", "outsider")
MEMBERS_OF_A = ("owner_A", "admin_A", "agent_A")


def t(table: str) -> sql.Composed:
    return sql.SQL("{}").format(sql.Identifier("public", table))


def test_read_across_workspaces(impersonate, world):
    """No member of one workspace sees a single row of the other's, in any table."""
    leaks = []
    for reader_ws, target_ws in (("A", "B"), ("B", "A")):
        for persona in world.members(reader_ws):
            with impersonate.as_user(persona) as conn:
                for table in TABLES + ("orders",):
                    ids = list(world.rows[target_ws].ids(table))
                    result = attempt(
                        conn, sql.SQL("select id from {} where id = any(%s)").format(t(table)), (ids,)
                    )
                    if result.rows:
                        leaks.append(f"{persona.name} sees {len(result.rows)} of {target_ws}'s {table}")
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("ws", WORKSPACES)
def test_agent_cannot_insert_carrier_config(impersonate, world, ws):
    with impersonate.as_user(world.persona(f"agent_{ws}")) as conn:
        assert_denied(
            conn,
            "insert into public.carrier_configs (workspace_id, carrier, portal_username) "
            "values (%s, 'interrapidisimo', 'agent')",
            (world.rows[ws].workspace_id,),
            why=f"agent of {ws} inserts a carrier config into {ws}",
        )


@pytest.mark.parametrize("ws", WORKSPACES)
def test_agent_cannot_update_carrier_config(impersonate, world, ws):
    with impersonate.as_user(world.persona(f"agent_{ws}")) as conn:
        assert_denied(
            conn,
            "update public.carrier_configs set portal_password = 'stolen', is_enabled = true "
            "where id = %s",
            (world.rows[ws].carrier_configs[0],),
            why=f"agent of {ws} rewrites {ws}'s carrier credentials",
        )


@pytest.mark.parametrize("ws", WORKSPACES)
def test_agent_cannot_delete_carrier_config(impersonate, world, ws):
    with impersonate.as_user(world.persona(f"agent_{ws}")) as conn:
        assert_denied(
            conn,
            "delete from public.carrier_configs where id = %s",
            (world.rows[ws].carrier_configs[0],),
            why=f"agent of {ws} deletes {ws}'s carrier config",
        )


@pytest.mark.parametrize("ws", WORKSPACES)
def test_agent_cannot_upsert_carrier_config(impersonate, world, ws):
    """insert ... on conflict do update must not become an update path around the policies."""
    with impersonate.as_user(world.persona(f"agent_{ws}")) as conn:
        assert_denied(
            conn,
            "insert into public.carrier_configs (workspace_id, carrier, portal_password) "
            "values (%s, 'coordinadora', 'stolen') "
            "on conflict (workspace_id, carrier) do update set portal_password = excluded.portal_password",
            (world.rows[ws].workspace_id,),
            why=f"agent of {ws} upserts over {ws}'s coordinadora credentials",
        )


@pytest.mark.parametrize("admin", ["owner_A", "admin_A"])
def test_admin_cannot_write_into_other_workspace(impersonate, world, admin):
    b = world.rows["B"]
    attacks = [
        ("insert a carrier config into B",
         "insert into public.carrier_configs (workspace_id, carrier) values (%s, 'interrapidisimo')",
         (b.workspace_id,)),
        ("upsert B's carrier config",
         "insert into public.carrier_configs (workspace_id, carrier, portal_password) values (%s, 'coordinadora', 'x') "
         "on conflict (workspace_id, carrier) do update set portal_password = excluded.portal_password",
         (b.workspace_id,)),
        ("update B's carrier config",
         "update public.carrier_configs set portal_password = 'x' where id = %s", (b.carrier_configs[0],)),
        ("delete B's carrier config",
         "delete from public.carrier_configs where id = %s", (b.carrier_configs[0],)),
        ("insert a job into B",
         "insert into public.robot_jobs (workspace_id) values (%s)", (b.workspace_id,)),
        ("update B's job",
         "update public.robot_jobs set status = 'failed' where id = %s", (b.robot_jobs[0],)),
        ("insert an item into B's job for B's order",
         "insert into public.robot_job_items (job_id, order_id) values (%s, %s)",
         (b.robot_jobs[1], b.spare_order)),
        ("update B's item",
         "update public.robot_job_items set status = 'error', error_type = 'portal' where id = %s",
         (b.robot_job_items[0][0],)),
    ]
    for why, statement, params in attacks:
        with impersonate.as_user(world.persona(admin)) as conn:
            assert_denied(conn, statement, params, why=f"{admin}: {why}")


@pytest.mark.parametrize("member", MEMBERS_OF_A)
def test_move_rows_between_workspaces_by_update(impersonate, world, member):
    a, b = world.rows["A"], world.rows["B"]
    moves = [
        ("move A's carrier config to B",
         "update public.carrier_configs set workspace_id = %s where id = %s",
         (b.workspace_id, a.carrier_configs[1])),
        ("move A's job to B",
         "update public.robot_jobs set workspace_id = %s where id = %s", (b.workspace_id, a.robot_jobs[0])),
        ("move A's item under B's job",
         "update public.robot_job_items set job_id = %s where id = %s", (b.robot_jobs[0], a.robot_job_items[0][0])),
    ]
    for why, statement, params in moves:
        with impersonate.as_user(world.persona(member)) as conn:
            assert_denied(conn, statement, params, why=f"{member}: {why}")


@pytest.mark.parametrize("member", MEMBERS_OF_A)
def test_insert_item_into_other_workspace_job(impersonate, world, member):
    a, b = world.rows["A"], world.rows["B"]
    for order, whose in ((a.spare_order, "A's"), (b.spare_order, "B's")):
        with impersonate.as_user(world.persona(member)) as conn:
            assert_denied(
                conn,
                "insert into public.robot_job_items (job_id, order_id) values (%s, %s)",
                (b.robot_jobs[0], order),
                why=f"{member} adds an item for {whose} order to B's job",
            )


@pytest.mark.parametrize("member", MEMBERS_OF_A)
def test_insert_item_referencing_other_workspace_order(impersonate, world, member):
    """Foreign keys run without RLS: only the policy's same-workspace check stops this."""
    a, b = world.rows["A"], world.rows["B"]
    with impersonate.as_user(world.persona(member)) as conn:
        assert_denied(
            conn,
            "insert into public.robot_job_items (job_id, order_id) values (%s, %s)",
            (a.robot_jobs[0], b.spare_order),
            why=f"{member} puts B's order into A's job",
        )


@pytest.mark.parametrize("member", MEMBERS_OF_A)
def test_update_item_to_reference_other_workspace_order(impersonate, world, member):
    a, b = world.rows["A"], world.rows["B"]
    with impersonate.as_user(world.persona(member)) as conn:
        assert_denied(
            conn,
            "update public.robot_job_items set order_id = %s where id = %s",
            (b.spare_order, a.robot_job_items[0][0]),
            why=f"{member} points A's item at B's order",
        )


@pytest.mark.parametrize("persona", SIGNED_IN)
def test_signed_in_users_cannot_delete_jobs_or_items(impersonate, world, persona):
    for ws in WORKSPACES:
        rows = world.rows[ws]
        for table, row_id in (("robot_jobs", rows.robot_jobs[0]), ("robot_job_items", rows.robot_job_items[0][0])):
            with impersonate.as_user(world.persona(persona)) as conn:
                assert_denied(
                    conn, sql.SQL("delete from {} where id = %s").format(t(table)), (row_id,),
                    why=f"{persona} deletes {ws}'s {table} row",
                )


@pytest.mark.parametrize("who", ["anon", "authenticated"])
@pytest.mark.parametrize("table", TABLES)
def test_truncate_is_refused(impersonate, world, who, table):
    """TRUNCATE ignores row security: only the missing grant stops it."""
    request = impersonate.as_anon() if who == "anon" else impersonate.as_user(world.persona("owner_A"))
    with request as conn:
        result = assert_denied(conn, sql.SQL("truncate table {}").format(t(table)), why=f"{who} truncates {table}")
        assert result.sqlstate == "42501", (
            f"{who} truncating {table} must fail for lack of privilege (42501), got {result.describe()} "
            f"{result.message}: TRUNCATE must not be granted to API users"
        )


def test_anon_on_everything(impersonate, world):
    """anon sees nothing and changes nothing, in either workspace, in any table."""
    problems = []
    for ws in WORKSPACES:
        rows = world.rows[ws]
        for table in TABLES:
            with impersonate.as_anon() as conn:
                seen = attempt(conn, sql.SQL("select id from {}").format(t(table)))
                if seen.rows:
                    problems.append(f"anon reads {len(seen.rows)} rows of {table}")
        statements = [
            ("insert into public.carrier_configs (workspace_id, carrier) values (%s, 'x')", (rows.workspace_id,)),
            ("update public.carrier_configs set portal_password = 'x' where id = %s", (rows.carrier_configs[0],)),
            ("delete from public.carrier_configs where id = %s", (rows.carrier_configs[0],)),
            ("insert into public.robot_jobs (workspace_id) values (%s)", (rows.workspace_id,)),
            ("update public.robot_jobs set status = 'failed' where id = %s", (rows.robot_jobs[0],)),
            ("delete from public.robot_jobs where id = %s", (rows.robot_jobs[0],)),
            ("insert into public.robot_job_items (job_id, order_id) values (%s, %s)", (rows.robot_jobs[1], rows.spare_order)),
            ("update public.robot_job_items set status = 'error' where id = %s", (rows.robot_job_items[0][0],)),
            ("delete from public.robot_job_items where id = %s", (rows.robot_job_items[0][0],)),
        ]
        for statement, params in statements:
            with impersonate.as_anon() as conn:
                try:
                    assert_denied(conn, statement, params, why=f"anon on {ws}: {statement}")
                except AssertionError as exc:
                    problems.append(str(exc))
    for helper in ("private.member_workspace_ids()", "private.admin_workspace_ids()"):
        with impersonate.as_anon() as conn:
            result = attempt(conn, f"select * from {helper}")
            if not result.failed:
                problems.append(f"anon may execute {helper}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("persona", ["outsider", "agent_A"])
def test_service_role_claim_in_user_token_gains_nothing(impersonate, world, persona):
    """A signed-in user's token whose claims say "role": "service_role" stays authenticated:
    nothing may trust auth.role() or auth.jwt() over the database role."""
    user = world.persona(persona)
    forged = {**user.claims(), "role": "service_role", "app_metadata": {"role": "service_role"}}
    b = world.rows["B"]
    with impersonate.as_claims("authenticated", forged) as conn:
        assert conn.execute("select auth.role()").fetchone()[0] == "service_role"
        visible_b = attempt(conn, "select id from public.robot_jobs where id = any(%s)", (list(b.robot_jobs),))
        assert not visible_b.rows, f"{persona} with a service_role claim reads B's jobs"
    attacks = [
        ("insert into public.carrier_configs (workspace_id, carrier) values (%s, 'x')", (b.workspace_id,)),
        ("update public.robot_jobs set status = 'failed' where id = %s", (b.robot_jobs[0],)),
        ("delete from public.robot_jobs where id = %s", (world.rows["A"].robot_jobs[0],)),
        ("delete from public.robot_job_items where id = %s", (world.rows["A"].robot_job_items[0][0],)),
        ("update public.carrier_configs set portal_password = 'x' where id = %s", (world.rows["A"].carrier_configs[0],)),
    ]
    # None of these is within the persona's own rights, so the claim is all they could use.
    for statement, params in attacks:
        with impersonate.as_claims("authenticated", forged) as conn:
            assert_denied(conn, statement, params, why=f"{persona} with a service_role claim: {statement}")


def test_service_role_does_everything(impersonate, world):
    a, b = world.rows["A"], world.rows["B"]
    with impersonate.as_service_role() as conn:
        for table in TABLES:
            ids = list(a.ids(table)) + list(b.ids(table))
            seen = attempt(conn, sql.SQL("select id from {} where id = any(%s)").format(t(table)), (ids,))
            assert len(seen.rows) == len(ids), f"service_role sees {len(seen.rows)}/{len(ids)} rows of {table}"
        new_job = uuid.uuid4()
        steps = [
            ("insert a config", "insert into public.carrier_configs (workspace_id, carrier) values (%s, 'x')", (a.workspace_id,)),
            ("update a config", "update public.carrier_configs set portal_password = 'p' where id = %s", (b.carrier_configs[0],)),
            ("insert a job", "insert into public.robot_jobs (id, workspace_id) values (%s, %s)", (new_job, b.workspace_id)),
            ("update a job", "update public.robot_jobs set status = 'processing' where id = %s", (a.robot_jobs[0],)),
            ("insert an item", "insert into public.robot_job_items (job_id, order_id) values (%s, %s)", (new_job, b.spare_order)),
            ("update an item", "update public.robot_job_items set status = 'success' where id = %s", (a.robot_job_items[0][0],)),
            ("delete an item", "delete from public.robot_job_items where id = %s", (b.robot_job_items[0][0],)),
            ("delete a job", "delete from public.robot_jobs where id = %s", (a.robot_jobs[1],)),
            ("delete a config", "delete from public.carrier_configs where id = %s", (b.carrier_configs[1],)),
        ]
        for why, statement, params in steps:
            assert_allowed(conn, statement, params, why=f"service_role: {why}")
        # a row's workspace is fixed by default, for the service too (tenancy.movable)
        moved = attempt(conn, "update public.carrier_configs set workspace_id = %s where id = %s",
                        (b.workspace_id, a.carrier_configs[1]))
        assert moved.sqlstate == "42501", f"service_role moved a config: {moved.describe()}"
