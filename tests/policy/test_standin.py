"""The Supabase stand-in and the impersonation behave as Supabase and PostgREST do."""

from __future__ import annotations

import pytest

from tenantspec.testing.impersonate import Impersonator


def test_probe_login_is_shaped_like_authenticator(database):
    with database.connect_probe() as conn:
        row = conn.execute(
            "select rolcanlogin, rolsuper, rolinherit, rolbypassrls, rolcreaterole, rolcreatedb "
            "from pg_roles where rolname = session_user"
        ).fetchone()
        member_of = {
            r[0] for r in conn.execute(
                "select b.rolname from pg_auth_members m join pg_roles b on b.oid = m.roleid "
                "join pg_roles u on u.oid = m.member where u.rolname = session_user"
            )
        }
    assert row == (True, False, False, False, False, False)
    assert {"anon", "authenticated", "service_role"} <= member_of


def test_impersonator_refuses_a_superuser_login(database):
    from tenantspec.testing.impersonate import ImpersonationError

    with pytest.raises(ImpersonationError, match="never|NOINHERIT"):
        Impersonator(database.server.conninfo(database.name))


@pytest.mark.parametrize(
    "role,expected",
    [
        ("anon", (False, False, False)),
        ("authenticated", (False, False, False)),
        ("service_role", (False, False, True)),
    ],
)
def test_api_roles_have_supabase_attributes(database, role, expected):
    """(can login, inherits, bypasses RLS)"""
    with database.connect_admin() as conn:
        row = conn.execute(
            "select rolcanlogin, rolinherit, rolbypassrls from pg_roles where rolname = %s", (role,)
        ).fetchone()
    assert row == expected


def _member_of(world, workspace: str):
    return world.members(workspace)[0]


def test_auth_helpers_read_the_request_claims(impersonate, world):
    persona = _member_of(world, "A")
    with impersonate.as_user(persona) as conn:
        row = conn.execute(
            "select current_user, auth.uid(), auth.role(), auth.email(), auth.jwt() ->> 'sub'"
        ).fetchone()
    assert row == ("authenticated", persona.user_id, "authenticated", persona.email, str(persona.user_id))


def test_auth_uid_is_null_for_anon(impersonate):
    with impersonate.as_anon() as conn:
        assert conn.execute("select current_user, auth.uid(), auth.role()").fetchone() == ("anon", None, "anon")


def test_legacy_per_claim_setting_wins(impersonate, world):
    """auth.uid() reads request.jwt.claim.sub before request.jwt.claims, as Supabase's does."""
    other = _member_of(world, "B")
    with impersonate.as_user(_member_of(world, "A")) as conn:
        conn.execute("select set_config('request.jwt.claim.sub', %s, true)", (str(other.user_id),))
        assert conn.execute("select auth.uid()").fetchone()[0] == other.user_id


def test_request_settings_read_back_empty_afterwards(impersonate, world, database):
    with impersonate.as_user(_member_of(world, "A")):
        pass
    row = impersonate.conn.execute(
        "select current_user, current_setting('role'), current_setting('request.jwt.claims', true)"
    ).fetchone()
    impersonate.conn.rollback()
    assert row == (database.probe.role, "none", "")


def test_auth_helpers_are_stable_sql_with_empty_search_path(database):
    with database.connect_admin() as conn:
        rows = conn.execute(
            """
            select p.proname, l.lanname, p.provolatile, p.proconfig
            from pg_proc p join pg_language l on l.oid = p.prolang
            where p.pronamespace = 'auth'::regnamespace and p.proname in ('uid', 'role', 'email', 'jwt')
            order by 1
            """
        ).fetchall()
    assert [r[0] for r in rows] == ["email", "jwt", "role", "uid"]
    for name, language, volatility, config in rows:
        assert (language, volatility, config) == ("sql", "s", ["search_path=\"\""]), name


def test_default_privileges_follow_the_regime(database, privilege_regime):
    """legacy: new public tables are granted ALL to the API roles; 2026: nothing."""
    with database.connect_migrator() as conn:
        conn.execute("create table public.regime_probe (id int)")
        grants = {
            (r[0], r[1]) for r in conn.execute(
                "select grantee, privilege_type from information_schema.role_table_grants "
                "where table_name = 'regime_probe' and grantee in ('anon', 'authenticated', 'service_role')"
            )
        }
        conn.rollback()
    if privilege_regime == "legacy":
        assert ("anon", "TRUNCATE") in grants and ("authenticated", "DELETE") in grants
    else:
        assert grants == set()


def test_realtime_publication_exists(database):
    with database.connect_admin() as conn:
        assert conn.execute(
            "select count(*) from pg_publication where pubname = 'supabase_realtime'"
        ).fetchone()[0] == 1


def test_a_snapshot_reads_any_number_of_tables_in_one_round_trip(database):
    """Past the 100 arguments a function takes (a jsonb_build_object of two per table stopped
    at 50 tables): every table's rows, by name."""
    from tenantspec.testing.impersonate import tables_snapshot

    names = [f"public.many_{i:03d}" for i in range(120)]
    with database.connect_admin() as conn:
        for i, name in enumerate(names):
            conn.execute(f"create table {name} (id int primary key)")
            conn.execute(f"insert into {name} values ({i})")
        found = tables_snapshot(conn, names)
        conn.rollback()
    assert sorted(found) == names
    assert found["public.many_077"] == [{"id": 77}]


def test_a_snapshot_of_written_tables_reads_those_a_statement_its_triggers_and_cascades_wrote(database):
    """After a write, only the tables the transaction wrote are read again: the statement's,
    its trigger's and its cascade's (and a partitioned table's through its partitions), not
    the others."""
    from tenantspec.testing.impersonate import counts_writes, tables_snapshot

    names = ["public.w_parent", "public.w_child", "public.w_audit", "public.w_untouched", "public.w_parted"]
    with database.connect_admin() as conn:
        conn.execute("""
            create table public.w_parent (id int primary key);
            create table public.w_child (id int primary key, parent int references public.w_parent on delete cascade);
            create table public.w_audit (what text);
            create table public.w_untouched (id int);
            create table public.w_parted (id int) partition by range (id);
            create table public.w_parted_low partition of public.w_parted for values from (0) to (100);
            create function public.w_log() returns trigger language plpgsql as $$
            begin insert into public.w_audit values (tg_op); return old; end $$;
            create trigger w_log after delete on public.w_parent for each row execute function public.w_log();
            insert into public.w_parent values (1), (2);
            insert into public.w_child values (10, 1), (20, 2);
            insert into public.w_untouched values (1);
            select pg_stat_force_next_flush();
        """)
        conn.commit()  # idle outside a transaction: the setup's counts are flushed
        assert counts_writes(conn)
        conn.execute("delete from public.w_parent where id = 1")
        written = tables_snapshot(conn, names, written_only=True)
        assert sorted(written) == ["public.w_audit", "public.w_child", "public.w_parent", "public.w_parted"]
        assert written["public.w_child"] == [{"id": 20, "parent": 2}]
        conn.rollback()
        conn.execute("insert into public.w_parted values (5)")
        assert "public.w_parted" in tables_snapshot(conn, names, written_only=True)
        assert sorted(tables_snapshot(conn, names)) == sorted(names), "without written_only, every table"
        conn.rollback()
