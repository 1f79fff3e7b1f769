"""Replay follows ``SET search_path`` as PostgreSQL does within a file: an unqualified table
is created in the schema it puts first, and an unqualified name is that schema's table where
one exists there; the next file starts over."""

from __future__ import annotations

from tenantspec.catalog.replay import replay
from tenantspec.catalog.source import parse_file


def test_tables_go_where_the_search_path_puts_them_until_the_file_ends():
    first = parse_file("20250101000000_broker.sql", """\
create schema broker;
set search_path to broker;
create table devices (id uuid primary key);
create table goals (device_id uuid primary key references devices (id));
alter table goals enable row level security;
create policy goals_read on goals for select to authenticated using (true);
reset search_path;
create table public_after_reset (id int primary key);
""")
    second = parse_file("20250102000000_app.sql", """\
create table if not exists devices (id uuid primary key, organization_id uuid);
set search_path = public;
create table notes (id int primary key);
""")
    state = replay(first + second)
    assert ("broker", "devices") in state.tables and ("broker", "goals") in state.tables
    assert state.tables[("broker", "goals")].foreign_keys[0].target == ("broker", "devices")
    assert state.tables[("broker", "goals")].rls and "goals_read" in state.tables[("broker", "goals")].policies
    assert ("public", "public_after_reset") in state.tables
    assert "organization_id" in state.tables[("public", "devices")].columns  # a new file: public again
    assert ("public", "notes") in state.tables and ("public", "goals") not in state.tables
