"""SQL a DO block EXECUTEs, built from constants, is replayed as if written out: the policies
real apps create in a loop over a list of tables, a constant statement; SQL built from what the
database holds at run time is not, and stays named as unread."""

from __future__ import annotations

import pytest
from tenantspec.catalog.names import sql_identifier
from tenantspec.catalog.replay import replay
from tenantspec.catalog.source import parse_file
from tenantspec.catalog.unread import built_sql

TABLES = """
create table public.accounts (id uuid primary key, org_id uuid not null);
create table public."Products" (id uuid primary key, org_id uuid not null);
"""


def state_of(sql: str):
    return replay(parse_file("case.sql", TABLES + sql))


def test_a_loop_over_a_constant_array_creates_each_tables_policies():
    state = state_of("""
do $$
declare
  t text;
begin
  foreach t in array array['accounts', 'Products'] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('create policy "%s_read" on public.%I for select to authenticated using (%I.org_id = %L::uuid)',
                   t, t, t, '00000000-0000-0000-0000-000000000000');
  end loop;
end $$;
""")
    for name in ("accounts", "Products"):
        table = state.tables[("public", name)]
        assert table.rls and list(table.policies) == [f"{name}_read"], name
        assert table.policies[f"{name}_read"].roles == ("authenticated",)
    assert built_sql(state, {("public", "accounts")}) == [], "SQL built from constants is followed, not named"


def test_a_for_loop_over_unnest_and_a_constant_execute_are_followed():
    state = state_of("""
do $body$
declare
  t text;
begin
  for t in select unnest(array['accounts']) loop
    execute 'alter table public.' || quote_ident(t) || ' enable row level security';
  end loop;
  execute $p$create policy open_read on public."Products" for select using (true)$p$;
end $body$;
""")
    assert state.tables[("public", "accounts")].rls
    assert "open_read" in state.tables[("public", "Products")].policies


def test_sql_built_from_the_database_is_not_followed_and_is_named():
    state = state_of("""
do $$
declare
  t record;
begin
  for t in select tablename from pg_tables where schemaname = 'public' and tablename = 'accounts' loop
    execute format('alter table public.%I enable row level security', t.tablename);
  end loop;
  execute format('create policy p on public.accounts using (org_id = %L)', current_setting('app.org'));
end $$;
""")
    assert not state.tables[("public", "accounts")].rls and not state.tables[("public", "accounts")].policies
    found = built_sql(state, {("public", "accounts")})
    assert len(found) == 1 and "names accounts" in found[0].message


@pytest.mark.parametrize("name, quoted", [("accounts", "accounts"), ("Products", '"Products"'), ("user", '"user"'),
                                          ('a"b', '"a""b"'), ("order_items2", "order_items2"), ("a$b", '"a$b"'),
                                          ("between", '"between"')])
def test_identifiers_are_quoted_as_quote_ident_quotes_them(name, quoted):
    assert sql_identifier(name) == quoted


def test_a_function_an_execute_creates_is_read_from_the_sql_it_built_and_located_at_its_block():
    from tenantspec.catalog.bodies import function_query

    sql = """
select 1;
do $do$
begin
  execute format($f$create function public.%I(org uuid) returns boolean language plpgsql stable as $body$
    begin
      return exists (select 1 from public.accounts a where a.org_id = org);
    end $body$ $f$, 'has_accounts');
end $do$;
"""
    state = state_of(sql)
    function = next(f for f in state.functions.values() if f.name == "has_accounts")
    assert function.origin.statement.text.startswith("create function public.has_accounts(org uuid)")
    assert function_query(function) is not None
    block = (TABLES + sql).splitlines().index("do $do$") + 1
    assert function.origin.location.line == block, "at the DO block that built it"
