"""Replay names NOT NULL constraints as PostgreSQL 18 does, checked against the server itself:
``<table>_<column>_not_null``, numbered while the schema holds that name, kept through a
column rename, gone with DROP NOT NULL."""

from __future__ import annotations

import pytest
from tenantspec.catalog.replay import replay
from tenantspec.catalog.source import parse_file
from tenantspec.standin.databases import create_database, drop_database

CASES = {
    "create table": "create table t (id bigint primary key, a text not null, b text);",
    "composite key": "create table t (a int, b int, c int not null, primary key (a, b));",
    "set not null beside a check of that name": (
        "create table t (id int primary key, b int);\n"
        "alter table t add constraint t_b_not_null check (b is not null) not valid;\n"
        "alter table t validate constraint t_b_not_null;\n"
        "alter table t alter column b set not null;\n"
        "alter table t drop constraint t_b_not_null;"),
    "a name taken by another table": (
        "create table a (b_c int not null);\ncreate table a_b (c int not null);"),
    "renamed column": "create table t (id int primary key, a int not null);\nalter table t rename column a to b;",
    "dropped, then set again": (
        "create table t (id int primary key, a int not null);\n"
        "alter table t alter column a drop not null;\nalter table t alter column a set not null;"),
    "added column": "create table t (id int primary key);\nalter table t add column a int not null default 0;",
    "primary key added later": "create table t (id int);\nalter table t add primary key (id);",
}


def replayed_names(text: str) -> set[tuple[str, str, str]]:
    state = replay(parse_file("case.sql", text))
    return {(table.name, column.name, column.not_null_name)
            for table in state.tables.values() for column in table.columns.values() if column.not_null}


@pytest.mark.parametrize("case", sorted(CASES))
def test_replay_names_not_null_constraints_as_the_server_does(case, tenantspec_server):
    server = tenantspec_server.server
    text = CASES[case]
    name = f"tenantspec_nn_{abs(hash(case)) % 10**8}"
    create_database(server, name)
    try:
        with server.connect_admin(name, autocommit=True) as conn:
            conn.execute(text)
            if conn.info.server_version < 180000:
                rows = conn.execute(
                    "select c.relname, a.attname from pg_attribute a join pg_class c on c.oid = a.attrelid "
                    "where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and a.attnum > 0 "
                    "and a.attnotnull").fetchall()
                assert {(t, c) for t, c, _ in replayed_names(text)} == set(rows)
                return
            rows = conn.execute(
                "select c.relname, a.attname, k.conname from pg_constraint k "
                "join pg_class c on c.oid = k.conrelid "
                "join pg_attribute a on a.attrelid = k.conrelid and a.attnum = k.conkey[1] "
                "where k.contype = 'n' and k.connamespace = 'public'::regnamespace").fetchall()
    finally:
        drop_database(server, name)
    assert replayed_names(text) == set(rows)


def test_the_numbered_fallback_is_what_the_carried_column_migration_left():
    state = replay(parse_file("case.sql", CASES["set not null beside a check of that name"]))
    assert state.tables[("public", "t")].columns["b"].not_null_name == "t_b_not_null1"
