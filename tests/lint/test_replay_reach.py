"""What replay records about who can reach what: USAGE on schemas, and which functions are
trigger functions."""

from __future__ import annotations

from tenantspec.catalog.replay import replay
from tenantspec.catalog.source import parse_file


def state_of(sql: str):
    return replay(parse_file("case.sql", sql))


def test_public_and_auth_start_usable_by_the_api_roles():
    state = state_of("select 1;")
    for role in ("anon", "authenticated", "service_role"):
        assert state.may_use_schema(role, "public") and state.may_use_schema(role, "auth")
    assert state.may_use_schema("anon", "extensions")  # not known: assumed usable


def test_public_usage_comes_through_public_too():
    assert state_of("revoke usage on schema public from anon;").may_use_schema("anon", "public")
    state = state_of("revoke all on schema public from public, anon;")
    assert not state.may_use_schema("anon", "public")
    assert state.may_use_schema("authenticated", "public")


def test_a_new_schema_is_usable_only_once_granted():
    state = state_of("create schema private;\ngrant usage on schema private to authenticated;")
    assert not state.may_use_schema("anon", "private")
    assert state.may_use_schema("authenticated", "private")
    state = state_of("create schema app;\ngrant all on schema app to public;\nrevoke create on schema app from public;")
    assert state.may_use_schema("anon", "app")


def test_create_schema_if_not_exists_keeps_the_grants_and_drop_forgets_the_schema():
    state = state_of("create schema private;\ngrant usage on schema private to anon;\n"
                     "create schema if not exists private;")
    assert state.may_use_schema("anon", "private")
    state = state_of("create schema private;\ndrop schema private cascade;")
    assert "private" not in state.schemas and state.may_use_schema("anon", "private")


def test_function_return_types():
    state = state_of(
        "create function public.t() returns trigger language plpgsql as $$ begin return new; end $$;\n"
        "create function public.e() returns event_trigger language plpgsql as $$ begin end $$;\n"
        "create function public.s() returns setof uuid language sql as $$ select null::uuid $$;\n")
    returns = {f.name: f.returns for f in state.functions.values()}
    assert (returns["t"], returns["e"]) == ("trigger", "event_trigger")
    assert "uuid" in returns["s"]


def test_a_schema_made_elsewhere_is_known_only_for_the_roles_mentioned():
    state = state_of("revoke usage on schema extensions from anon;")
    assert state.may_use_schema("anon", "extensions")  # PUBLIC may still hold it: unknown
    state = state_of("revoke usage on schema extensions from public, anon;")
    assert not state.may_use_schema("anon", "extensions")
    assert state.may_use_schema("authenticated", "extensions")
    state = state_of("revoke all on schema auth from anon;")
    assert not state.may_use_schema("anon", "auth")  # Supabase never gave PUBLIC USAGE on auth


def test_a_renamed_or_moved_table_keeps_what_points_at_it():
    """Foreign keys to a table, its policies and its publication follow a rename or a new
    schema, as PostgreSQL's do (they hold the table's oid, not its name)."""
    state = state_of(
        "create table public.p (id uuid primary key);\n"
        "create table public.c (id uuid primary key, p_id uuid references public.p (id));\n"
        "create policy r on public.p for select using (true);\n"
        "create publication supabase_realtime for table public.p;\n"
        "alter table public.p rename to q;\n"
        "create schema app;\n"
        "alter table public.q set schema app;\n")
    assert ("public", "p") not in state.tables and ("public", "q") not in state.tables
    assert [fk.target for fk in state.tables[("public", "c")].foreign_keys] == [("app", "q")]
    assert [p.table for p in state.tables[("app", "q")].policies.values()] == [("app", "q")]
    assert state.publications["supabase_realtime"] == [("app", "q")]
