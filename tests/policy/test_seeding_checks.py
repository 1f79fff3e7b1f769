"""The world meets what real apps' tables ask of a row, with nobody asked for a value: CHECKs on
text (a least length, an e-mail pattern), a CHECK tying a defaulted mode to the workspace
column, a lookup table keyed by an enum, a published copy keyed by its spec'd draft, a
database webhook firing as rows are written, a trigger making the workspace's creator its
one owner, and a trigger refusing a workspace's first item unless it is active."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pglast
import pytest
from tenantspec.catalog.expression import text_rules
from tenantspec.spec.load import load_project
from tenantspec.standin.databases import drop_database
from tenantspec.testing.database import MigrationSource, build_template
from tenantspec.testing.seeding import seed_world
from tenantspec.testing.values import checked_text
from tenantspec.testing.world import build_world

BASE = Path(__file__).resolve().parents[1] / "generator" / "cases" / "specs" / "_base"
EMAIL = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"

MIGRATION = f"""
create extension if not exists pg_net with schema extensions;
create table public.workspaces (id uuid primary key);
create table public.workspace_members (id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id), user_id uuid not null references auth.users (id),
  role text not null);
-- the workspace's creator becomes its owner, one owner a workspace
create unique index one_owner on public.workspace_members (workspace_id) where role = 'owner';
create function public.add_owner() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.workspace_members (workspace_id, user_id, role) values (new.id, auth.uid(), 'owner');
  return new;
end $$;
create trigger workspaces_owner after insert on public.workspaces for each row execute function public.add_owner();
create type public.tier as enum ('free', 'pro', 'team');
create table public.tiers (tier public.tier primary key, seats integer not null);
create type public.item_mode as enum ('personal', 'workspace');
create table public.items (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id),
  code text not null constraint code_length check (char_length(code) >= 6),
  contact text not null constraint contact_email check (contact ~* '{EMAIL}'),
  tier public.tier not null references public.tiers (tier),
  mode public.item_mode not null default 'personal',
  active boolean not null,
  constraint mode_matches check ((mode = 'workspace') = (workspace_id is not null))
);
create table public.published_items (id uuid primary key references public.items (id),
  workspace_id uuid not null references public.workspaces (id));
create table public.reviews (id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id),
  published_item_id uuid not null references public.published_items (id));
-- a workspace always keeps an active item: the first may not be inactive
create function public.keep_one_active() returns trigger language plpgsql as $$
begin
  if not new.active and not exists (select 1 from public.items i where i.workspace_id = new.workspace_id and i.active)
  then
    raise exception 'a workspace keeps one active item';
  end if;
  return new;
end $$;
create trigger items_keep_active before insert on public.items for each row execute function public.keep_one_active();
create trigger items_webhook after insert on public.items for each row
  execute function supabase_functions.http_request('https://example.com/items', 'POST', '{{}}', '{{}}', '1000');
"""

ITEMS = """table: items
columns:
  id: {type: uuid, primary_key: true, default: gen_random_uuid()}
  workspace_id: {type: uuid, not_null: true, references: {table: workspaces, on_delete: cascade}}
  code: {type: text, not_null: true}
  contact: {type: text, not_null: true}
  tier: {type: public.tier, not_null: true, references: {table: tiers, column: tier, on_delete: restrict}}
  mode: {type: public.item_mode, not_null: true, default: "'personal'"}
  active: {type: boolean, not_null: true}
checks:
  - {name: code_length, expression: char_length(code) >= 6}
  - {name: contact_email, expression: "contact ~* '%s'"}
  - {name: mode_matches, expression: "(mode = 'workspace') = (workspace_id IS NOT NULL)"}
indexes:
  - columns: [workspace_id]
  - columns: [tier]
tenancy: {column: workspace_id}
access: {select: member, insert: member, update: member, delete: admin}
""" % EMAIL.replace("\\", "\\\\")

REVIEWS = """table: reviews
columns:
  id: {type: uuid, primary_key: true, default: gen_random_uuid()}
  workspace_id: {type: uuid, not_null: true, references: {table: workspaces, on_delete: cascade}}
  published_item_id: {type: uuid, not_null: true, references: {table: published_items, on_delete: cascade}}
indexes:
  - columns: [workspace_id]
  - columns: [published_item_id]
tenancy: {column: workspace_id}
access: {select: member, insert: member, update: member, delete: admin}
"""

EXTERNAL = """    tiers: {columns: {tier: public.tier, seats: integer}, seed: {seats: '1'}}
    published_items: {columns: {id: uuid, workspace_id: uuid}, workspace_column: workspace_id,
                      references: {id: {table: items}}}
  enums:
    tier: [free, pro, team]
    item_mode: [personal, workspace]
"""


@pytest.fixture
def seeded(tmp_path, tenantspec_server):
    shutil.copytree(BASE, tmp_path, dirs_exist_ok=True)
    (tmp_path / "schema/notes.yaml").unlink()
    (tmp_path / "schema/items.yaml").write_text(ITEMS)
    (tmp_path / "schema/reviews.yaml").write_text(REVIEWS)
    project = (tmp_path / "schema/project.yaml").read_text()
    project = project.replace("    orders: {columns: {id: uuid, workspace_id: uuid}, workspace_column: workspace_id}\n",
                              "").replace("  functions:\n", EXTERNAL + "  functions:\n")
    project = project.replace("tables: [notes]", "tables: [items, reviews]").replace(
        "role_column: role}", "role_column: role, sole_role: owner}")
    (tmp_path / "schema/project.yaml").write_text(project)
    # reviews (spec'd) -> published_items (external) -> items (spec'd): rows in that order backwards
    world = build_world(load_project(tmp_path))
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations/20250101000000_items.sql").write_text(MIGRATION)
    server = tenantspec_server.server
    if server.server_version_num() < 180000:
        pytest.skip("not applicable: the stand-in's extensions (pg_net) need PostgreSQL 18's extension_control_path")
    template = build_template(server, "2026", MigrationSource(None, tmp_path / "migrations"), tenantspec_server.probe,
                              lambda conn: seed_world(conn, world))
    try:
        with server.connect_admin(template.name) as conn:
            yield world, conn
    finally:
        drop_database(server, template.name)


def test_every_row_meets_the_checks_and_the_lookups_with_no_value_asked_for(seeded):
    world, conn = seeded
    items = conn.execute("select code, contact, mode::text, tier::text from public.items").fetchall()
    assert items and all(len(code) >= 6 and re.match(EMAIL, contact, re.I) and mode == "workspace"
                         for code, contact, mode, _ in items)
    assert len({contact for _, contact, _, _ in items}) == len(items), "each row's text tells it apart"
    assert {tier for *_, tier in items} <= {"free", "pro", "team"}
    known = [row for name, rows in world.rows.items() if name.name == "items" for row in rows]
    assert all(row.values["mode"] == "workspace" for row in known), "the world knows the value the check took"
    active = dict(conn.execute("select id::text, active::text from public.items").fetchall())
    assert {row.values["id"]: row.values["active"] for row in known} == active, "and the value the trigger took"
    assert conn.execute("select bool_and(active) from (select distinct on (workspace_id) active from public.items "
                        "order by workspace_id, ctid) first_rows").fetchone()[0]
    published = conn.execute("select count(*), count(*) filter (where p.workspace_id = i.workspace_id) "
                             "from public.published_items p join public.items i using (id)").fetchone()
    assert published[0] > 0 and published[0] == published[1], "a published copy takes its draft's key"
    assert conn.execute("select count(*) from public.reviews").fetchone()[0] > 0
    owners = conn.execute("select workspace_id::text, user_id::text, id::text from public.workspace_members "
                          "where role = 'owner'").fetchall()
    expected = {(str(row.values["workspace_id"]), str(row.values["user_id"]), str(row.values["id"]))
                for name, rows in world.rows.items() if name.name == "workspace_members" for row in rows
                if row.values["role"] == "owner"}
    assert len(owners) == 2 and set(owners) == expected, "the trigger's owner row took the world's owner"
    queued = conn.execute("select count(*) from net.http_request_queue where url = 'https://example.com/items'")
    assert queued.fetchone()[0] == len(items), "the webhook queued a request for every row"


def test_text_rules_are_read_from_checks_and_met():
    rules = {}
    for check in (f"contact ~* '{EMAIL}'", "char_length(btrim(code)) >= 6", "name <> ''", "length(slug) between 3 and 9",
                  "0 < char_length(title)"):
        rules |= text_rules(pglast.parse_sql(f"select {check}")[0].stmt.targetList[0].val)
    assert rules == {"contact": (EMAIL, True, 0), "code": (None, False, 6), "name": (None, False, 1),
                     "slug": (None, False, 3), "title": (None, False, 1)}
    assert checked_text("a1", rules["code"]) == "a1xxxx"
    made = checked_text("a1", rules["contact"])
    assert "a1" in made and re.search(EMAIL, made, re.I) and made == checked_text("a1", rules["contact"])
    assert checked_text("a1", ("^[0-9]{5}$", False, 0)) == "00000", "a pattern the label cannot enter: its simplest text"
