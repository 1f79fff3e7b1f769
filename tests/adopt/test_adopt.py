"""Adopting hand-written tables: each case folder's specs, notes, corrective migration and review
are what tenantspec writes (golden); on a real PostgreSQL, under both privilege regimes, the
hand-written chain plus the correction equals a fresh render of the adopted specs and keeps the
rows written before it.

``cases/<case>/case.yaml`` names the tables and the hand-written migrations (``sources``,
files or folders, in order; ``as`` renames a file); ``project.yaml`` is the project file
before adoption. Expected results sit in ``expected/``. TENANTSPEC_UPDATE_GOLDEN=1 rewrites
them after a deliberate change.
"""

from __future__ import annotations

import atexit
import datetime
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from psycopg.conninfo import make_conninfo
from ruamel.yaml import YAML
from tenantspec.adopt.tables import adopt
from tenantspec.catalog.replay import touched_tables
from tenantspec.catalog.source import parse_file
from tenantspec.errors import TenantspecError
from tenantspec.plan.pipeline import (
    Generation,
    fresh_migrations,
    plan_project,
    replay_texts,
    write_outputs,
)
from tenantspec.plan.review import review
from tenantspec.standin.databases import (
    apply_sql_file,
    copy_database,
    drop_database,
    standin_database,
)
from tenantspec.testing.catalog import catalog_differences, read_catalog
from tenantspec.testing.rows import read_rows, seed_rows

CASES = Path(__file__).parent / "cases"
NAMES = sorted(p.name for p in CASES.iterdir() if (p / "case.yaml").is_file())
UPDATE = os.environ.get("TENANTSPEC_UPDATE_GOLDEN") == "1"
WHEN = datetime.datetime(2026, 12, 1, 8, 0, tzinfo=datetime.timezone.utc)


def golden(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"{path} is missing (TENANTSPEC_UPDATE_GOLDEN=1 writes it)"
    assert text == path.read_text(), f"{path.relative_to(CASES)} differs"


def build(name: str, root: Path) -> list[str]:
    """The hand-written project of case ``name`` under ``root``; returns the tables to adopt."""
    folder = CASES / name
    config = YAML(typ="safe").load((folder / "case.yaml").read_text())
    migrations = root / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    for source in config["sources"]:
        path = (folder / source["path"]).resolve()
        for file in sorted(path.glob("*.sql")) if path.is_dir() else [path]:
            shutil.copy(file, migrations / source.get("as", file.name))
    (root / "schema").mkdir()
    shutil.copy(folder / "project.yaml", root / "schema" / "project.yaml")
    return config["tables"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("name", NAMES)
def test_adoption_case(name, tmp_path):
    tables = build(name, tmp_path)
    handwritten = snapshot(tmp_path / "supabase/migrations")
    adoption = adopt(tmp_path, tables)
    expected = CASES / name / "expected"
    for path, text in adoption.specs.items():
        golden(expected / path, text)
    if UPDATE:
        listed = {str(p) for p in adoption.specs}
        for stale in (expected / "schema").glob("*.yaml"):
            if f"schema/{stale.name}" not in listed:
                stale.unlink()
    assert sorted(f"schema/{p.name}" for p in (expected / "schema").glob("*.yaml")) == \
        sorted(str(p) for p in adoption.specs)
    golden(expected / "notes.txt", "".join(f"{note}\n" for note in adoption.notes))
    write_outputs(tmp_path, adoption.specs)
    with pytest.raises(TenantspecError, match="adopt does not overwrite a spec"):
        adopt(tmp_path, tables)

    generation = plan_project(tmp_path, "adopt", WHEN)
    golden(expected / "review.txt", review(generation).split("\nSQL (")[0])
    (path, text), = generation.migrations.items()
    golden(expected / "correction.sql", text)
    write_outputs(tmp_path, generation.outputs)
    assert {k: v for k, v in snapshot(tmp_path / "supabase/migrations").items() if k in handwritten} == handwritten
    assert plan_project(tmp_path, None, WHEN).plan.empty


@pytest.fixture(scope="module")
def standin_template(tenantspec_server, privilege_regime):
    server = tenantspec_server.server
    with standin_database(server, privilege_regime, "tenantspec_adopt") as name:
        yield server, name


def clone(server, template: str) -> str:
    return copy_database(server, template, "tenantspec_a")


@functools.cache
def adopted(name: str) -> tuple[Path, list[str], Generation]:
    """Case ``name`` adopted and its correction planned (not written), once per test process,
    for the tests that read it: the folder, the tables, the generation. Copy the folder to change it."""
    root = Path(tempfile.mkdtemp(prefix=f"tenantspec_adopted_{name}_"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    tables = build(name, root)
    write_outputs(root, adopt(root, tables).specs)
    return root, tables, plan_project(root, "adopt", WHEN)


@pytest.mark.parametrize("name", NAMES)
def test_corrected_chain_equals_fresh_render_and_keeps_rows(name, tmp_path, standin_template):
    server, template = standin_template
    root, tables, generation = adopted(name)
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    (correction, text), = generation.migrations.items()
    handwritten = sorted((tmp_path / "supabase/migrations").glob("*.sql"))
    state = replay_texts([(str(p), p.read_text()) for p in handwritten])["legacy"]
    keys = [(generation.project.schema, table) for table in tables]
    chain_db, fresh_db = clone(server, template), clone(server, template)
    try:
        with server.connect_migrator(chain_db, autocommit=True) as conn:
            for path in handwritten:
                apply_sql_file(conn, path)
            written = seed_rows(conn, state, keys)
            (tmp_path / correction).write_text(text)
            apply_sql_file(conn, tmp_path / correction)
            corrected = read_catalog(conn, tables)
            after = read_rows(conn, written, {key: "id" for key in written})
        with server.connect_migrator(fresh_db, autocommit=True) as conn:
            fresh_dir = tmp_path / "fresh"
            fresh_dir.mkdir()
            (fresh_dir / "0_app.sql").write_text(apart_from(handwritten, set(keys)))
            apply_sql_file(conn, fresh_dir / "0_app.sql")
            for path, fresh in fresh_migrations(generation.project).items():
                (fresh_dir / path.name).write_text(fresh)
                apply_sql_file(conn, fresh_dir / path.name)
            fresh = read_catalog(conn, tables)
    finally:
        drop_database(server, chain_db)
        drop_database(server, fresh_db)
    assert catalog_differences(corrected, fresh) == []
    for key, row in written.items():
        kept = after[key]
        assert kept is not None, f"the row of {key[1]} written before the correction is gone"
        # every value kept; a column the correction adds (a carried workspace) comes on top
        assert {k: str(v) for k, v in kept.items() if k in row} == {k: str(v) for k, v in row.items()}


def apart_from(files: list[Path], tables: set[tuple[str, str]]) -> str:
    """The hand-written SQL without the statements that create or change ``tables``: the app's
    other objects, on which a fresh render of the adopted specs is laid."""
    kept = []
    for path in files:
        for statement in parse_file(str(path), path.read_text()):
            if statement.base == 0 and not set(touched_tables(statement.node)) & tables:
                kept.append(statement.text + ";")
    return "\n".join(kept) + "\n"


@pytest.mark.parametrize("name", NAMES)
def test_corrected_chain_holds_the_policy_suite(name, tmp_path, tenantspec_server):
    """The hand-written chain plus the correction, proven like any project: the adopted specs,
    the case's own hand-written intent, both privilege regimes, every probe. The proof runs on
    this session's server (DATABASE_URL), as a project's CI does on a server it was given:
    its own databases and login come and go, the server stays."""
    root, _, generation = adopted(name)
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    write_outputs(tmp_path, generation.outputs)
    (tmp_path / "tests").mkdir()
    shutil.copy(CASES / name / "access_intent.yaml", tmp_path / "tests" / "access_intent.yaml")
    (tmp_path / "tests" / "test_proof.py").write_text("from tenantspec.testing.proof import *  # noqa: F403\n")
    # the app's own objects are among the hand-written migrations: no baseline before them,
    # which the proof takes from there being no tests/baseline.sql (as a new user's project)
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    env = {k: v for k, v in os.environ.items() if k not in ("MIGRATIONS_DIR", "TENANTSPEC_BASELINE")}
    env["TENANTSPEC_PRIVILEGES"] = "both"
    env["TENANTSPEC_HYPOTHESIS_EXAMPLES"] = "25"  # the app's own proof draws 200; make test stays in its minute
    server = tenantspec_server.server
    env["TENANTSPEC_DB"], env["DATABASE_URL"] = "url", make_conninfo(**server.admin, dbname=server.admin_dbname)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "under privilege regime(s) 2026, legacy" in result.stdout


@pytest.mark.parametrize("sql, spec", [
    ("'draft'::text", "'draft'"),               # a string needs no cast to a string type
    ("'a'::character varying", "'a'"),
    ("1::text", "CAST(1 AS text)"),             # a number cast to text is text, not a YAML integer
    ("'{}'::jsonb", "CAST('{}' AS jsonb)"),
    ("now()", "now()"),
    ("true", True),
    ("0", 0),
])
def test_defaults_are_written_as_a_spec_says_them(sql, spec):
    import pglast
    from tenantspec.adopt.writing import spec_default

    assert spec_default(pglast.parse_sql(f"select {sql}")[0].stmt.targetList[0].val) == spec


def test_a_workspace_column_without_its_foreign_key_is_adopted_as_the_tenancy(tmp_path):
    """`org_id uuid not null` and no reference: the column named like the memberships' one is
    the tenancy, and the spec adds the foreign key (which the note says may fail)."""
    build("app_shapes", tmp_path)
    (tmp_path / "supabase/migrations/20250401000000_notes.sql").write_text(
        "create table public.notes (id uuid primary key default gen_random_uuid(), org_id uuid not null, body text);\n"
        "alter table public.notes enable row level security;\n")
    adoption = adopt(tmp_path, ["notes"])
    spec = adoption.specs[Path("schema/notes.yaml")]
    assert "org_id: {type: uuid, not_null: true, references: {table: organizations, on_delete: cascade}}" in spec
    assert "tenancy: {column: org_id}" in spec
    assert any("org_id holds the row's organizations row but references nothing" in str(n) for n in adoption.notes)


def test_serial_identity_and_generated_columns_adopt_as_they_are(tmp_path):
    """Columns the database fills adopt with their shape, and the correction leaves them be."""
    build("app_shapes", tmp_path)
    (tmp_path / "supabase/migrations/20250401000000_tickets.sql").write_text(
        "create table public.tickets (\n"
        "  id bigint generated always as identity primary key,\n"
        "  org_id uuid not null references public.organizations (id) on delete cascade,\n"
        "  seq serial,\n"
        "  title text not null,\n"
        "  slug text generated always as (lower(title)) stored\n);\n"
        "create index tickets_org_id_idx on public.tickets (org_id);\n"
        "alter table public.tickets enable row level security;\n")
    spec = adopt(tmp_path, ["tickets"]).specs[Path("schema/tickets.yaml")]
    assert "id:     {type: bigint, primary_key: true, identity: always}" in spec
    assert "seq:    {type: serial, not_null: true}" in spec
    assert 'slug:   {type: text, generated: lower(title)}' in spec
    write_outputs(tmp_path, {Path("schema/tickets.yaml"): spec})
    steps = [s.summary for s in plan_project(tmp_path, "adopt", WHEN).plan.steps]
    assert not [s for s in steps if s.startswith(("tickets.", "tickets: add column", "tickets: drop column"))], steps


SET_HELPERS = """\
create table public.organizations (id uuid primary key default gen_random_uuid(), name text not null);
create table public.memberships (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('owner', 'member')),
  primary key (organization_id, user_id)
);
create function public.get_organization_member_ids(org uuid)
returns table (member_id uuid) language plpgsql stable security definer set search_path = '' as $$
begin
  return query select m.user_id from public.memberships m where m.organization_id = org;
end;
$$;
create function public.get_organization_owner_ids(org uuid)
returns setof uuid language sql stable security definer set search_path = '' as $$
  select m.user_id from public.memberships m where m.organization_id = org and m.role = 'owner'
$$;
create table public.invites (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  email text not null
);
create index invites_organization_id_idx on public.invites (organization_id);
alter table public.invites enable row level security;
create policy "members read" on public.invites for select to authenticated
  using ((select auth.uid()) in (select public.get_organization_member_ids(organization_id)));
create policy "members invite" on public.invites for insert to authenticated
  with check (auth.uid() in (select user_id from memberships where organization_id = invites.organization_id));
create policy "owners edit" on public.invites for update to authenticated
  using (auth.uid() in (select public.get_organization_owner_ids(organization_id)));
create policy "owners delete" on public.invites for delete to authenticated
  using (auth.uid() = any (array(select user_id from public.memberships
                                 where organization_id = invites.organization_id and role = 'owner')));
"""


def test_helpers_and_subqueries_returning_member_ids_map_onto_levels(tmp_path):
    """``auth.uid() in (<the ids of the row's organization's members>)``, whether a PL/pgSQL
    ``returns table`` helper, a SQL ``setof`` helper with a role filter, an unqualified inline
    IN-subquery or ``= any (array(...))``, reads as membership of the row's workspace."""
    from tenantspec.cli import main

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_invites.sql").write_text(SET_HELPERS)
    assert main(["--root", str(tmp_path), "adopt", "--init", "invites"]) == 0
    spec = (tmp_path / "schema/invites.yaml").read_text()
    assert "access: {select: member, insert: member, update: owner, delete: owner}" in spec
    assert "policies:" not in spec


APP_TABLES = """\
create table public.workspaces (id uuid primary key default gen_random_uuid(), name text not null);
create table public.workspace_members (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'agent'))
);
create index workspace_members_workspace_id_idx on public.workspace_members (workspace_id);
create index workspace_members_user_id_idx on public.workspace_members (user_id);
{helpers}
create table public.carrier_configs (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  carrier text not null
);
create index carrier_configs_workspace_id_idx on public.carrier_configs (workspace_id);
alter table public.carrier_configs enable row level security;
create policy "Members can view" on public.carrier_configs for select using (is_workspace_member(workspace_id));
create policy "Admins can write" on public.carrier_configs for insert with check (is_workspace_admin(workspace_id));
"""
HELPER_SPELLINGS = {
    "sql, columns unqualified": """\
create or replace function public.is_workspace_member(workspace_uuid uuid) returns boolean
language sql stable security definer as $$
  select exists (select 1 from workspace_members where workspace_id = workspace_uuid and user_id = auth.uid())
$$;
create or replace function public.is_workspace_admin(workspace_uuid uuid) returns boolean
language sql stable security definer as $$
  select exists (select 1 from workspace_members
                 where workspace_id = workspace_uuid and user_id = auth.uid() and role in ('owner', 'admin'))
$$;""",
    "plpgsql, return exists": """\
CREATE OR REPLACE FUNCTION public.is_workspace_member(workspace_uuid UUID) RETURNS BOOLEAN AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM workspace_members WHERE workspace_id = workspace_uuid AND user_id = auth.uid());
END;
$$ LANGUAGE plpgsql SECURITY DEFINER;
CREATE OR REPLACE FUNCTION public.is_workspace_admin(workspace_uuid UUID) RETURNS BOOLEAN AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM workspace_members
                 WHERE workspace_id = workspace_uuid AND user_id = auth.uid() AND role = ANY (ARRAY['owner', 'admin']));
END;
$$ LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public;""",
    "sql, positional parameters": """\
create function public.is_workspace_member(uuid) returns boolean language sql stable security definer
set search_path = '' as $$
  select exists (select 1 from public.workspace_members m where m.workspace_id = $1 and m.user_id = (select auth.uid()))
$$;
create function public.is_workspace_admin(uuid) returns boolean language sql stable security definer
set search_path = '' as $$
  select exists (select 1 from public.workspace_members m
                 where m.workspace_id = $1 and m.user_id = (select auth.uid()) and m.role in ('owner', 'admin'))
$$;""",
    "sql count, role not the lowest": """\
create function is_workspace_member(ws uuid) returns boolean language sql security definer as $$
  select count(*) > 0 from workspace_members where workspace_id = ws and user_id = auth.uid()
$$;
create function is_workspace_admin(ws uuid) returns boolean language sql security definer as $$
  select exists (select 1 from workspace_members where workspace_id = $1 and user_id = auth.uid() and role <> 'agent')
$$;""",
    "plpgsql, if exists / select into": """\
create function is_workspace_member(ws uuid) returns boolean language plpgsql security definer as $$
begin
  if exists (select 1 from workspace_members where workspace_id = ws and user_id = auth.uid()) then
    return true;
  end if;
  return false;
end $$;
create function is_workspace_admin(ws uuid) returns boolean language plpgsql security definer as $$
declare current_role_name text;
begin
  select wm.role into current_role_name from workspace_members wm
   where wm.workspace_id = ws and wm.user_id = auth.uid();
  return current_role_name is not null and current_role_name not in ('agent');
end $$;""",
}


def test_a_helper_whose_test_passes_a_missing_membership_is_not_read_as_one(tmp_path):
    """``select role into r ...; return r is null or r = 'owner'`` lets in users with no
    membership at all (``r`` is null for them): the policy calling it is kept as written,
    never mapped onto a level."""
    from tenantspec.cli import main

    helpers = HELPER_SPELLINGS["sql, columns unqualified"].split("create or replace function public.is_workspace_admin")[0]
    helpers += """
create function is_workspace_admin(ws uuid) returns boolean language plpgsql security definer as $$
declare r text;
begin
  select role into r from workspace_members where workspace_id = ws and user_id = auth.uid();
  return r is null or r in ('owner', 'admin');
end $$;"""
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(APP_TABLES.format(helpers=helpers))
    assert main(["--root", str(tmp_path), "adopt", "--init", "carrier_configs"]) == 0
    spec = (tmp_path / "schema/carrier_configs.yaml").read_text()
    assert "access: {select: member, insert: nobody, update: nobody, delete: nobody}" in spec, spec
    assert "name: Admins can write" in spec and "is_workspace_admin(workspace_id)" in spec


@pytest.mark.parametrize("spelling", sorted(HELPER_SPELLINGS))
def test_membership_helpers_read_in_every_common_spelling(spelling, tmp_path):
    """The app's own helpers, however its migrations spell them, map its policies onto levels:
    nothing is kept as written and no member loses a command."""
    from tenantspec.cli import main

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(
        APP_TABLES.format(helpers=HELPER_SPELLINGS[spelling]))
    assert main(["--root", str(tmp_path), "adopt", "--init", "carrier_configs"]) == 0
    spec = (tmp_path / "schema/carrier_configs.yaml").read_text()
    assert "access: {select: member, insert: admin_or_above, update: nobody, delete: nobody}" in spec, spec
    assert "policies:" not in spec
    assert main(["--root", str(tmp_path), "generate"]) == 0


def test_a_table_of_users_adopts_per_user_and_ties_nothing_to_a_workspace(tmp_path):
    """No workspace column, policies naming the row's user: a per-user table, whose reference
    into a workspace's table is a plain foreign key (a per-user row has no workspace to keep it
    in), and the correction generates and applies as a spec says."""
    build("app_shapes", tmp_path)
    (tmp_path / "supabase/migrations/20250401000000_bookmarks.sql").write_text(
        "create table public.bookmarks (id uuid primary key default gen_random_uuid(),\n"
        "  user_id uuid not null references auth.users (id) on delete cascade,\n"
        "  chat_id uuid references public.chats (id) on delete cascade, note text);\n"
        "create index bookmarks_user_id_idx on public.bookmarks (user_id);\n"
        "create index bookmarks_chat_id_idx on public.bookmarks (chat_id);\n"
        "alter table public.bookmarks enable row level security;\n"
        "create policy \"own bookmarks\" on public.bookmarks for all using (auth.uid() = user_id);\n")
    adoption = adopt(tmp_path, ["bookmarks"])
    spec = adoption.specs[Path("schema/bookmarks.yaml")]
    assert "tenancy: {user: user_id}" in spec
    assert "access: {select: own, insert: own, update: own, delete: own}" in spec
    assert "chat_id: {type: uuid, references: {table: chats, on_delete: cascade}}" in spec
    write_outputs(tmp_path, adoption.specs)  # chats declared external beside it
    assert plan_project(tmp_path, "adopt", WHEN).migrations


def test_a_chain_of_required_references_between_external_tables_is_declared_for_seeding(tmp_path):
    """A per-user table references a price, whose product is required: prices and products are
    declared external, prices with its reference to products, and the proof's world seeds a
    product before each price that names it."""
    from tenantspec.spec.load import load_project
    from tenantspec.testing.world import build_world

    build("app_shapes", tmp_path)
    (tmp_path / "supabase/migrations/20250401000000_billing.sql").write_text(
        "create table public.products (id uuid primary key default gen_random_uuid(), name text not null);\n"
        "create table public.prices (id uuid primary key default gen_random_uuid(),\n"
        "  product_id uuid not null references public.products (id) on delete cascade,\n"
        "  coupon_id uuid references public.products (id), amount integer not null);\n"
        "create table public.orders (id uuid primary key default gen_random_uuid(),\n"
        "  user_id uuid not null references auth.users (id) on delete cascade,\n"
        "  price_id uuid not null references public.prices (id));\n"
        "create index orders_user_id_idx on public.orders (user_id);\n"
        "create index orders_price_id_idx on public.orders (price_id);\n"
        "alter table public.orders enable row level security;\n"
        "create policy \"own orders\" on public.orders for all using (auth.uid() = user_id);\n")
    adoption = adopt(tmp_path, ["orders"])
    write_outputs(tmp_path, adoption.specs)
    project_file = (tmp_path / "schema/project.yaml").read_text()
    assert "references: {product_id: {table: products, column: id, on_delete: cascade}}" in project_file, project_file
    assert "coupon_id: {" not in project_file, "a nullable reference is left null"
    world = build_world(load_project(tmp_path))
    rows = {name.name: [row.values for row in table] for name, table in world.rows.items()}
    assert {price["product_id"] for price in rows["prices"]} <= {product["id"] for product in rows["products"]}


def test_enum_types_the_folder_creates_are_declared_and_kept(tmp_path, capsys):
    """A column of an enum type the migrations made adopts as that type (declared under
    external.enums with its values), so the correction leaves the column as it is; a table
    no policy opens, whose one foreign key to auth.users names its user, is per-user."""
    from tenantspec.cli import main

    build("app_shapes", tmp_path)
    (tmp_path / "supabase/migrations/20250401000000_subscriptions.sql").write_text(
        "create type subscription_status as enum ('trialing', 'active', 'canceled');\n"
        "create table public.subscriptions (id text primary key,\n"
        "  user_id uuid references auth.users not null, status subscription_status);\n"
        "create index subscriptions_user_id_idx on public.subscriptions (user_id);\n"
        "alter table public.subscriptions enable row level security;\n")
    assert main(["--root", str(tmp_path), "adopt", "subscriptions"]) == 0
    assert "declares the enum type subscription_status under external.enums" in capsys.readouterr().err
    assert "    subscription_status: [trialing, active, canceled]" in (tmp_path / "schema/project.yaml").read_text()
    spec = (tmp_path / "schema/subscriptions.yaml").read_text()
    assert "status:  {type: subscription_status}" in spec
    assert "tenancy: {user: user_id}" in spec
    generation = plan_project(tmp_path, "adopt", WHEN)
    assert not [s.summary for s in generation.plan.steps if s.summary.startswith("subscriptions.status")]


def test_a_helper_made_nowhere_and_declared_nowhere_stops_adoption_naming_it(tmp_path, capsys):
    """The policies call is_workspace_member(), which no migration, no baseline and no
    external.functions entry has: adopt stops, names it at the policy, says what to declare,
    and writes nothing."""
    from tenantspec.cli import main

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    for path in (root / "tests/cases/handwritten_migrations").glob("*.sql"):
        shutil.copy(path, tmp_path / "supabase/migrations" / path.name)
    (tmp_path / "schema").mkdir()
    project = (CASES / "handwritten" / "project.yaml").read_text()
    (tmp_path / "schema" / "project.yaml").write_text(
        project.replace("    - is_workspace_member(uuid)\n", "").replace("    - is_workspace_admin(uuid)\n", ""))
    assert main(["--root", str(tmp_path), "adopt", "robot_jobs"]) == 2
    err = capsys.readouterr().err
    assert "is_workspace_member(), which policy" in err and "declare each there" in err
    assert "Traceback" not in err
    assert not (tmp_path / "schema" / "robot_jobs.yaml").exists()


def test_rows_of_a_users_rows_adopt_as_their_parents_users(tmp_path, capsys):
    """documents are per-user (created_by = auth.uid()); a section belongs to its document's
    user (document_id in (select id from documents where created_by = auth.uid())): both map
    onto own, nothing is kept as written, and the correction applies and settles."""
    from tenantspec.cli import main

    build("app_shapes", tmp_path)
    (tmp_path / "supabase/migrations/20250401000000_documents.sql").write_text(
        "create table public.documents (id bigint primary key generated always as identity,\n"
        "  name text not null, created_by uuid not null default auth.uid() references auth.users (id));\n"
        "create index documents_created_by_idx on public.documents (created_by);\n"
        "create table public.document_sections (id bigint primary key generated always as identity,\n"
        "  document_id bigint not null references public.documents (id), content text not null);\n"
        "create index document_sections_document_id_idx on public.document_sections (document_id);\n"
        "alter table public.documents enable row level security;\n"
        "alter table public.document_sections enable row level security;\n"
        "create policy \"own documents\" on public.documents for all to authenticated\n"
        "  using (created_by = auth.uid()) with check (created_by = auth.uid());\n"
        "create policy \"own sections\" on public.document_sections for select to authenticated\n"
        "  using (document_id in (select id from documents where created_by = auth.uid()));\n"
        "create policy \"add sections\" on public.document_sections for insert to authenticated\n"
        "  with check (document_id in (select id from documents where created_by = auth.uid()));\n")
    assert main(["--root", str(tmp_path), "adopt", "documents", "document_sections"]) == 0
    sections = (tmp_path / "schema/document_sections.yaml").read_text()
    assert "tenancy: {parent: document_id}" in sections
    assert "access: {select: own, insert: own, update: nobody, delete: nobody}" in sections
    assert "policies:" not in sections
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr().err
    assert main(["--root", str(tmp_path), "diff"]) == 0


def test_a_table_with_no_workspace_at_all_stops_adoption_naming_it(tmp_path):
    build("app_shapes", tmp_path)
    (tmp_path / "supabase/migrations/20250401000000_settings.sql").write_text(
        "create table public.settings (key text primary key, value jsonb);\n")
    with pytest.raises(TenantspecError, match=r"20250401000000_settings.sql:1:1: public.settings: no column "
                                              r"references organizations"):
        adopt(tmp_path, ["settings"])


UNQUALIFIED = """
create table public.projects (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  title text not null
);
create index projects_org_id_idx on public.projects (org_id);
alter table public.projects enable row level security;

-- the most common spelling of a membership helper: columns unqualified, the argument by name
create function public.is_org_member(org uuid) returns boolean
language sql stable security definer set search_path = public as $$
  select exists (select 1 from organization_members where org_id = org and user_id = auth.uid())
$$;

create policy "members read" on public.projects for select to authenticated
  using (public.is_org_member(org_id));
create policy "editors write" on public.projects for insert to authenticated
  with check (exists (select 1 from organization_members
                      where org_id = projects.org_id and user_id = auth.uid() and role in ('owner', 'editor')));
create policy "owners delete" on public.projects for delete to authenticated
  using (exists (select 1 from public.organization_members
                 where organization_members.org_id = projects.org_id and user_id = (select auth.uid())
                   and role = 'owner'));
grant select, insert, delete on public.projects to authenticated;
"""


def test_unqualified_columns_read_as_postgresql_resolves_them(tmp_path):
    """`exists (select 1 from members where org_id = projects.org_id and user_id = auth.uid())`
    and a helper written the same way map onto levels like their qualified spellings."""
    build("inline_exists", tmp_path)
    for path in (tmp_path / "supabase/migrations").glob("*projects*"):
        path.unlink()
    (tmp_path / "supabase/migrations/20250212120000_projects.sql").write_text(UNQUALIFIED)
    adoption = adopt(tmp_path, ["projects"])
    spec = adoption.specs[Path("schema/projects.yaml")]
    assert "access: {select: reader, insert: writer, update: nobody, delete: owner}" in spec, spec
    assert not [n for n in adoption.notes if "cannot map" in str(n)]


def test_adopt_init_reads_the_project_file_from_the_migrations(tmp_path, capsys):
    """No hand-written project.yaml: adopt --init finds the membership and tenant tables, the
    roles from the CHECK and a level per run of roles; then the tables adopt and generate with
    no narrowing (every policy maps onto a level)."""
    from tenantspec.cli import main

    build("inline_exists", tmp_path)
    (tmp_path / "schema" / "project.yaml").unlink()
    assert main(["--root", str(tmp_path), "adopt", "--init", "projects", "tasks"]) == 0
    project = (tmp_path / "schema" / "project.yaml").read_text()
    assert "members:\n    table: organization_members\n    workspace_column: org_id\n    user_column: user_id\n" \
           "    role_column: role" in project
    assert "    owner: [owner]\n    editor_or_above: [owner, editor]\n    member: [owner, editor, viewer]" in project
    assert 'seed: {name: "organizations name {label}", created_by: "{user}"}' in project
    assert "access: {select: member, insert: editor_or_above, update: editor_or_above, delete: owner}" in \
        (tmp_path / "schema" / "projects.yaml").read_text()
    assert main(["--root", str(tmp_path), "generate"]) == 0
    assert main(["--root", str(tmp_path), "adopt", "--init"]) == 2
    assert "adopt --init does not overwrite it" in capsys.readouterr().err


def test_adopt_init_gives_each_user_the_sign_up_metadata_a_new_user_trigger_reads(tmp_path, capsys):
    """A trigger on auth.users names each new user's personal organization after
    `raw_user_meta_data ->> 'first_name'`: auth.users is declared with that metadata, and every
    user the proof makes carries it, so the trigger finds a name."""
    from tenantspec.cli import main
    from tenantspec.spec.load import load_project
    from tenantspec.testing.world import USERS, build_world

    build("inline_exists", tmp_path)
    (tmp_path / "schema" / "project.yaml").unlink()
    (tmp_path / "supabase/migrations/20250301000000_sign_up.sql").write_text(
        "create function public.handle_new_user() returns trigger language plpgsql security definer\n"
        "set search_path = '' as $$\n"
        "begin\n"
        "  insert into public.organizations (name) values (NEW.raw_user_meta_data->>'first_name' || ' Personal');\n"
        "  return new;\n"
        "end $$;\n"
        "create trigger on_auth_user_created after insert on auth.users\n"
        "  for each row execute function public.handle_new_user();\n")
    assert main(["--root", str(tmp_path), "adopt", "--init", "projects"]) == 0, capsys.readouterr().err
    project = YAML(typ="safe").load((tmp_path / "schema" / "project.yaml").read_text())
    users = project["external"]["tables"]["auth.users"]
    assert users == {"columns": {"id": "uuid", "email": "text", "raw_user_meta_data": "jsonb"},
                     "seed": {"raw_user_meta_data": '{"first_name": "first_name {label}"}'}}, users
    world = build_world(load_project(tmp_path))
    metadata = [row.values["raw_user_meta_data"] for row in world.rows[USERS]]
    assert metadata and all(m.startswith('{"first_name": "first_name ') for m in metadata)
    assert len(set(metadata)) == len(metadata), "each user's own"


def test_adopt_init_reads_roles_from_an_enum_and_declares_it(tmp_path, capsys):
    """The membership's role column is an enum type: its values are the roles, the enum is
    declared external, and the adopted tables generate with no narrowing: what a level cannot
    say (a feature flag, a time window) is kept as written."""
    from tenantspec.cli import main

    build("real_patterns", tmp_path)
    (tmp_path / "schema" / "project.yaml").unlink()
    assert main(["--root", str(tmp_path), "adopt", "--init", "invitations", "notes", "profiles"]) == 0
    project = (tmp_path / "schema" / "project.yaml").read_text()
    assert "# from the enum type public.account_role of account_user.account_role" in project
    assert "    owner: [owner]\n    member: [owner, member]" in project
    assert "  enums:\n    account_role: [owner, member]" in project
    notes = (tmp_path / "schema" / "notes.yaml").read_text()
    assert "tenancy: {column: account_id, user: user_id}" in notes
    assert "access: {select: member, insert: {own: member}, update: {own: member}, delete: {any: owner, own: member}}" \
        in notes
    invitations = (tmp_path / "schema" / "invitations.yaml").read_text()
    assert "name: Owners invite while team accounts are on, command: insert" in invitations
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr().err
    assert main(["--root", str(tmp_path), "diff"]) == 0
    assert "No changes pending" in capsys.readouterr().out


ROLES_TABLE = """\
create table public.accounts (id uuid primary key default gen_random_uuid(), name varchar(255) not null);
create table public.roles (
  name varchar(50) primary key,
  hierarchy_level int not null unique check (hierarchy_level > 0)
);
insert into public.roles (name, hierarchy_level) values ('member', 3), ('owner', 1);
insert into public.roles (name, hierarchy_level) values ('billing', 2);
create table public.accounts_memberships (
  user_id uuid references auth.users on delete cascade not null,
  account_id uuid references public.accounts (id) on delete cascade not null,
  account_role varchar(50) references public.roles (name) not null,
  primary key (user_id, account_id)
);
create table public.invoices (
  id uuid primary key default gen_random_uuid(),
  account_id uuid not null references public.accounts (id),
  total numeric not null
);
create index invoices_account_id_idx on public.invoices (account_id);
alter table public.invoices enable row level security;
create policy invoices_read on public.invoices for select to authenticated using (
  exists (select 1 from accounts_memberships where account_id = invoices.account_id and user_id = auth.uid()));
create policy invoices_pay on public.invoices for update to authenticated using (
  exists (select 1 from accounts_memberships where account_id = invoices.account_id and user_id = auth.uid()
          and account_role <> 'member'));
"""


def test_adopt_init_reads_roles_from_a_roles_table(tmp_path, capsys):
    """The role column references a lookup table whose rows the migrations insert: those
    rows are the roles, ranked by its hierarchy column (1 the most powerful)."""
    from tenantspec.cli import main

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(ROLES_TABLE)
    assert main(["--root", str(tmp_path), "adopt", "--init", "invoices"]) == 0, capsys.readouterr().err
    project = (tmp_path / "schema" / "project.yaml").read_text()
    assert "# from the rows the migrations insert into roles, ordered by roles.hierarchy_level" in project
    assert "    owner: [owner]\n    billing_or_above: [owner, billing]\n    member: [owner, billing, member]" in project
    assert "role_column: account_role" in project
    spec = (tmp_path / "schema" / "invoices.yaml").read_text()
    assert "access: {select: member, insert: nobody, update: billing_or_above, delete: nobody}" in spec, spec
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr().err


JWT_CLAIMS = APP_TABLES.format(helpers=HELPER_SPELLINGS["sql, columns unqualified"]) + """\
create table public.projects (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  name text not null
);
create index projects_workspace_id_idx on public.projects (workspace_id);
alter table public.projects enable row level security;
create policy projects_select on public.projects for select to authenticated
  using (workspace_id = ((auth.jwt() -> 'app_metadata') ->> 'workspace_id')::uuid);
create policy projects_update on public.projects for update to authenticated
  using (workspace_id in (select workspace_id from workspace_members where user_id = auth.uid() and role = 'owner'));
"""


def test_policies_on_token_claims_are_kept_and_the_rest_maps(tmp_path, capsys):
    """``workspace_id = (auth.jwt() -> 'app_metadata' ->> 'workspace_id')::uuid`` trusts a
    claim of the token, which no level says: that policy is kept as written, its note says
    why, and the command beside it maps."""
    from tenantspec.cli import main

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(JWT_CLAIMS)
    assert main(["--root", str(tmp_path), "adopt", "--init", "projects"]) == 0
    err = capsys.readouterr().err
    assert "policy 'projects_select': workspace_id = CAST(auth.jwt() -> 'app_metadata' ->> 'workspace_id' AS uuid) " \
           "tests a claim of the user's token (auth.jwt()) instead of a membership" in err
    spec = (tmp_path / "schema/projects.yaml").read_text()
    assert "access: {select: nobody, insert: nobody, update: owner, delete: nobody}" in spec, spec
    assert "- {name: projects_select, command: select, using: workspace_id = CAST(auth.jwt()" in spec
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr().err


def test_adopt_init_stops_without_a_membership_table(tmp_path, capsys):
    from tenantspec.cli import main

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_messages.sql").write_text(
        "create table public.chats (id uuid primary key);\n"
        "create table public.messages (id uuid primary key, chat_id uuid references public.chats,\n"
        "  user_id uuid references auth.users, role text not null);\n")
    assert main(["--root", str(tmp_path), "adopt", "--init"]) == 2
    assert "no table of supabase/migrations ties a user" in capsys.readouterr().err
    assert not (tmp_path / "schema").exists()


def test_helpers_made_before_the_first_migration_are_read_from_the_baseline(tmp_path):
    """The membership helpers live in the baseline (made in the dashboard), not in the folder:
    adopt reads them from tests/baseline.sql; without it, it names the helpers it cannot read."""
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    for path in (root / "tests/cases/handwritten_migrations").glob("*.sql"):
        shutil.copy(path, tmp_path / "supabase/migrations" / path.name)
    (tmp_path / "schema").mkdir()
    shutil.copy(CASES / "handwritten" / "project.yaml", tmp_path / "schema" / "project.yaml")
    blind = adopt(tmp_path, ["robot_jobs"])
    assert "access: {select: nobody" in blind.specs[Path("schema/robot_jobs.yaml")]
    assert any("is_workspace_member(), which policy" in str(n) and "is created by no migration" in str(n)
               for n in blind.notes)
    (tmp_path / "tests").mkdir()
    shutil.copy(root / "tests/cases/app/tests/baseline.sql", tmp_path / "tests" / "baseline.sql")
    seen = adopt(tmp_path, ["robot_jobs"])
    spec = seen.specs[Path("schema/robot_jobs.yaml")]
    assert "access: {select: member, insert: member, update: member, delete: nobody}" in spec, spec
    assert not any("is created by no migration" in str(n) for n in seen.notes)


def test_a_composite_primary_key_adopts_as_it_is(tmp_path, capsys):
    """``primary key (assistant_id, collection_id)`` as a table constraint: both columns say
    ``primary_key``, and the correction leaves the key alone."""
    from tenantspec.cli import main

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(APP_TABLES.format(
        helpers=HELPER_SPELLINGS["sql, columns unqualified"]) + """\
create table public.config_tags (
  config_id uuid not null references public.carrier_configs (id) on delete cascade,
  tag text not null,
  created_at timestamptz not null default now(),
  primary key (config_id, tag)
);
alter table public.config_tags enable row level security;
create policy "Members read tags" on public.config_tags for select using (
  exists (select 1 from public.carrier_configs c where c.id = config_tags.config_id and is_workspace_member(c.workspace_id)));
""")
    assert main(["--root", str(tmp_path), "adopt", "--init", "carrier_configs", "config_tags"]) == 0
    spec = (tmp_path / "schema/config_tags.yaml").read_text()
    assert "config_id:  {type: uuid, primary_key: true, references:" in spec, spec
    assert "tag:        {type: text, primary_key: true}" in spec, spec
    capsys.readouterr()
    main(["--root", str(tmp_path), "diff"])
    out = capsys.readouterr().out
    assert "config_tags_pkey" not in out and "primary key" not in out.split("SQL (")[0], out


def test_unpinned_security_definer_helpers_are_named_with_their_fix(tmp_path, capsys):
    """A SECURITY DEFINER helper with no search_path (the most common spelling) is named with
    its location and the statement that pins it; a pinned one is not."""
    from tenantspec.cli import main

    helpers = HELPER_SPELLINGS["sql, columns unqualified"] + HELPER_SPELLINGS["sql, positional parameters"].replace(
        "is_workspace_member", "is_member_pinned").replace("is_workspace_admin", "is_admin_pinned")
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(APP_TABLES.format(helpers=helpers))
    assert main(["--root", str(tmp_path), "adopt", "--init", "carrier_configs"]) == 0
    err = capsys.readouterr().err
    assert "20240101000000_app.sql:10:1: public.is_workspace_member(uuid) is SECURITY DEFINER with no search_path" in err
    assert "`alter function public.is_workspace_admin(uuid) set search_path = ''`" in err
    assert "pinned(uuid) is SECURITY DEFINER" not in err


def test_the_pinning_note_names_the_tables_the_helper_reads(tmp_path, capsys):
    """The fix names the app's own tables as the helper's body must qualify them, whatever
    the membership table is called."""
    from tenantspec.cli import main

    text = APP_TABLES.format(helpers=HELPER_SPELLINGS["sql, columns unqualified"]).replace(
        "workspace_members", "crew_seats")
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(text)
    assert main(["--root", str(tmp_path), "adopt", "--init", "carrier_configs"]) == 0
    err = capsys.readouterr().err
    assert "once its body qualifies every name (public.crew_seats)" in err, err
    assert "workspace_members" not in err, err


def test_a_security_definer_helper_pinned_to_public_is_named_as_the_proof_does(tmp_path, capsys):
    """``set search_path = public`` is not the proof's ``''``: adopt names it too."""
    from tenantspec.cli import main

    helpers = HELPER_SPELLINGS["plpgsql, return exists"]  # the admin helper says search_path = public
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(APP_TABLES.format(helpers=helpers))
    assert main(["--root", str(tmp_path), "adopt", "--init", "carrier_configs"]) == 0
    err = capsys.readouterr().err
    assert "public.is_workspace_admin(uuid) is SECURITY DEFINER with search_path 'public'," in err, err
    assert "public.is_workspace_member(uuid) is SECURITY DEFINER with no search_path," in err


AUTHORS = """\
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'member')),
  unique (org_id, user_id)
);
create index org_members_user_id_idx on public.org_members (user_id);
create function public.is_org_admin(o uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.org_members m where m.org_id = o and m.user_id = auth.uid() and m.role in ('owner', 'admin'))
$$;
create table public.tickets (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id) on delete cascade,
  created_by uuid not null default auth.uid() references auth.users (id),
  body text not null
);
create index tickets_org_id_idx on public.tickets (org_id);
create index tickets_created_by_idx on public.tickets (created_by);
alter table public.tickets enable row level security;
create policy tickets_select on public.tickets for select to authenticated
  using (is_org_admin(org_id) or created_by = auth.uid());
create policy tickets_insert on public.tickets for insert to authenticated with check ({insert});
"""


@pytest.mark.parametrize("insert, mapped", [
    ("is_org_admin(org_id) and created_by = auth.uid()", True),  # only members ever wrote a row
    ("created_by = auth.uid()", False),  # anyone files a ticket: its author reads it on purpose
    # an insert policy kept as written (a time window): who may write rows is not known
    ("is_org_admin(org_id) and extract(hour from now()) between 8 and 18", False),
])
def test_authors_outside_the_workspace_are_closed_out_only_when_they_were_members(insert, mapped, tmp_path, capsys):
    """``is_org_admin(org_id) or created_by = auth.uid()`` lets the author in from outside the
    workspace. Where only members may write rows, that author is a former member and the spec
    closes the door; where anyone may write one (an intake form), the policies are kept."""
    from tenantspec.cli import main

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(AUTHORS.replace("{insert}", insert))
    assert main(["--root", str(tmp_path), "adopt", "--init", "tickets"]) == 0
    spec = (tmp_path / "schema/tickets.yaml").read_text()
    err = capsys.readouterr().err
    if mapped:
        assert "access: {select: {any: admin_or_above, own: member}, insert: {own: admin_or_above}," in spec, spec
        assert "public.tickets select: users outside the row's workspace" in err and "closes that" in err
    else:
        assert "name: tickets_select, command: select" in spec, spec
        assert "closes that" not in err


def test_a_personal_accounts_rows_keep_their_policies(tmp_path, capsys):
    """``org_id = auth.uid() or is_org_admin(org_id)``: a personal account's id is its user's,
    and that user need be no member: the policy is kept, nobody loses their own account's rows."""
    from tenantspec.cli import main

    sql = AUTHORS.replace("{insert}", "is_org_admin(org_id)").replace(
        "using (is_org_admin(org_id) or created_by = auth.uid());", "using (org_id = auth.uid() or is_org_admin(org_id));")
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(sql)
    assert main(["--root", str(tmp_path), "adopt", "--init", "tickets"]) == 0
    spec = (tmp_path / "schema/tickets.yaml").read_text()
    assert "- {name: tickets_select, command: select, using: org_id = auth.uid() OR is_org_admin(org_id)}" in spec, spec


PERMISSIONS = """\
create type public.app_permissions as enum ('roles.manage', 'billing.manage', 'members.manage', 'invites.manage');
create table public.accounts (id uuid primary key default gen_random_uuid(), name varchar(255) not null);
create table public.roles (name varchar(50) primary key, hierarchy_level int not null unique);
insert into public.roles (name, hierarchy_level) values ('owner', 1), ('member', 2);
create table public.accounts_memberships (
  user_id uuid references auth.users on delete cascade not null,
  account_id uuid references public.accounts (id) on delete cascade not null,
  account_role varchar(50) references public.roles (name) not null,
  primary key (user_id, account_id)
);
create table public.role_permissions (
  id bigint generated by default as identity primary key,
  role varchar(50) references public.roles (name) not null,
  permission public.app_permissions not null,
  unique (role, permission)
);
insert into public.role_permissions (role, permission) values
  ('owner', 'roles.manage'), ('owner', 'billing.manage'), ('owner', 'members.manage'), ('owner', 'invites.manage'),
  ('member', 'invites.manage');
create or replace function public.has_permission(user_id uuid, account_id uuid, permission_name public.app_permissions)
returns boolean set search_path = '' as $$
begin
  return exists (
    select 1 from public.accounts_memberships
      join public.role_permissions on accounts_memberships.account_role = role_permissions.role
    where accounts_memberships.user_id = has_permission.user_id
      and accounts_memberships.account_id = has_permission.account_id
      and role_permissions.permission = has_permission.permission_name);
end;
$$ language plpgsql;
create table public.invitations (
  id serial primary key,
  email varchar(255) not null,
  account_id uuid references public.accounts (id) on delete cascade not null,
  role varchar(50) references public.roles (name) not null
);
create index on public.invitations (account_id);
alter table public.invitations enable row level security;
create policy invitations_read on public.invitations for select to authenticated
  using (public.has_permission((select auth.uid()), account_id, 'invites.manage'::public.app_permissions));
create policy invitations_delete on public.invitations for delete to authenticated
  using (public.has_permission((select auth.uid()), account_id, 'members.manage'::public.app_permissions));
"""


def test_helpers_reading_a_permissions_table_map_onto_the_roles_holding_the_permission(tmp_path, capsys):
    """``has_permission(auth.uid(), account_id, 'members.manage')`` joins the membership to a
    table of (role, permission) rows the migrations insert: the roles holding that permission
    are the ones let through, and the user argument is the caller's."""
    from tenantspec.cli import main

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(PERMISSIONS)
    assert main(["--root", str(tmp_path), "adopt", "--init", "invitations"]) == 0, capsys.readouterr().err
    spec = (tmp_path / "schema/invitations.yaml").read_text()
    assert "access: {select: member, insert: nobody, update: nobody, delete: owner}" in spec, spec
    assert "policies:" not in spec
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr().err


OWN_SCHEMA = """\
create schema if not exists basejump;
grant usage on schema basejump to authenticated, service_role;
create type basejump.account_role as enum ('owner', 'member');
create table if not exists basejump.accounts (
  id uuid unique not null default extensions.uuid_generate_v4(),
  primary_owner_user_id uuid references auth.users not null default auth.uid(),
  name text,
  slug text unique,
  personal_account boolean default false not null,
  created_at timestamp with time zone,
  primary key (id)
);
create table if not exists basejump.account_user (
  user_id uuid references auth.users on delete cascade not null,
  account_id uuid references basejump.accounts on delete cascade not null,
  account_role basejump.account_role not null,
  constraint account_user_pkey primary key (user_id, account_id)
);
create or replace function basejump.has_role_on_account(account_id uuid, account_role basejump.account_role default null)
returns boolean language sql security definer set search_path = public as $$
  select exists(
    select 1 from basejump.account_user wu
    where wu.user_id = auth.uid()
      and wu.account_id = has_role_on_account.account_id
      and (wu.account_role = has_role_on_account.account_role or has_role_on_account.account_role is null)
  );
$$;
grant execute on function basejump.has_role_on_account(uuid, basejump.account_role) to authenticated;
alter table basejump.accounts enable row level security;
alter table basejump.account_user enable row level security;
create table if not exists basejump.invitations (
  id uuid unique not null default extensions.uuid_generate_v4(),
  account_role basejump.account_role not null,
  account_id uuid references basejump.accounts (id) on delete cascade not null,
  token text unique not null default extensions.uuid_generate_v4()::text,
  invited_by_user_id uuid references auth.users not null,
  account_name text,
  updated_at timestamp with time zone,
  created_at timestamp with time zone,
  invitation_type text not null,
  primary key (id)
);
alter table basejump.invitations enable row level security;
create policy "Invitations viewable by account owners" on basejump.invitations
  for select to authenticated using (created_at > (now() - interval '24 hours') and basejump.has_role_on_account(account_id, 'owner') = true);
create policy "Invitations can be created by account owners" on basejump.invitations
  for insert to authenticated with check (basejump.has_role_on_account(account_id, 'owner') = true);
create policy "Invitations can be deleted by account owners" on basejump.invitations
  for delete to authenticated using (basejump.has_role_on_account(account_id, 'owner') = true);
create table public.projects (
  id uuid primary key default gen_random_uuid(),
  account_id uuid not null references basejump.accounts (id) on delete cascade,
  name text not null,
  created_at timestamptz not null default now()
);
alter table public.projects enable row level security;
create policy "Members read projects" on public.projects for select to authenticated using (basejump.has_role_on_account(account_id) = true);
create policy "Members add projects" on public.projects for insert to authenticated with check (basejump.has_role_on_account(account_id));
create policy "Owners delete projects" on public.projects for delete to authenticated using (basejump.has_role_on_account(account_id, 'owner'));
"""


def test_adopt_init_finds_the_membership_in_a_schema_of_the_apps_own(tmp_path, capsys):
    """Accounts and their users in a schema of their own (``basejump.account_user``): the
    project file names them qualified, declares the enum, and the app's tables in public map
    through ``basejump.has_role_on_account(account_id) = true``."""
    from tenantspec.cli import main

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(OWN_SCHEMA)
    assert main(["--root", str(tmp_path), "adopt", "--init", "projects"]) == 0, capsys.readouterr().err
    project = (tmp_path / "schema/project.yaml").read_text()
    assert "  workspaces: basejump.accounts\n  members:\n    table: basejump.account_user\n" in project
    assert "    basejump.account_role: [owner, member]" in project
    spec = (tmp_path / "schema/projects.yaml").read_text()
    assert "access: {select: member, insert: member, update: nobody, delete: owner}" in spec, spec
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr().err


ORG_ITEMS = """\
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (
  org_id uuid not null references public.orgs (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'member')),
  primary key (org_id, user_id)
);
create index org_members_user_id_idx on public.org_members (user_id);
create function public.my_orgs() returns uuid[] language sql stable security definer set search_path = '' as $$
  select array_agg(org_id) from public.org_members where user_id = auth.uid()
$$;
create function public.my_admin_orgs() returns uuid[] language plpgsql stable security definer set search_path = '' as $$
begin
  return array(select org_id from public.org_members where user_id = auth.uid() and role in ('owner', 'admin'));
end $$;
create function public.org_role(o uuid) returns text language plpgsql stable security definer set search_path = '' as $$
begin
  return (select m.role from public.org_members m where m.org_id = o and m.user_id = auth.uid());
end $$;
create table public.items (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id) on delete cascade,
  name text not null
);
create index items_org_id_idx on public.items (org_id);
alter table public.items enable row level security;
create policy items_select on public.items for select to authenticated using ({using});
"""


@pytest.mark.parametrize("using, level", [
    ("org_id = any (public.my_orgs())", "member"),
    ("org_id = any (public.my_admin_orgs())", "admin_or_above"),
    ("auth.uid() is not null and org_id in (select org_id from org_members where user_id = auth.uid())", "member"),
    ("auth.uid() = any (select user_id from org_members where org_id = items.org_id and role <> 'member')",
     "admin_or_above"),
    ("exists (select 1 from org_members m join orgs o on o.id = m.org_id"
     " where o.id = items.org_id and m.user_id = auth.uid())", "member"),
    ("public.org_role(org_id) in ('owner', 'admin')", "admin_or_above"),
    ("public.org_role(org_id) is not null", "member"),
    ("coalesce(public.org_role(org_id), 'owner') = 'owner'", None),  # no membership passes: kept
    ("(select count(*) from org_members m where m.org_id = items.org_id and m.user_id = auth.uid()) > 0", "member"),
    ("exists (select 1 from org_members where org_members.org_id = items.org_id"
     " and org_members.user_id = (select auth.uid()) and org_members.role = any ('{owner,admin}'::text[]))",
     "admin_or_above"),
    ("org_id in (select o.id from orgs o join org_members m on m.org_id = o.id where m.user_id = auth.uid())",
     "member"),
    ("public.org_role(org_id) is not null is true", "member"),
    ("coalesce(public.org_role(org_id) in ('owner', 'admin'), false)", "admin_or_above"),
    # open past the workspace: every signed-in user, in the spellings real apps use
    ("true", "signed_in"),
    ("auth.uid() is not null", "signed_in"),
    ("(select auth.uid()) is not null", "signed_in"),
    ("auth.role() = 'authenticated'", "signed_in"),
    ("(select auth.role()) = 'authenticated'", "signed_in"),
    ("auth.uid() is not null or org_id = any (public.my_orgs())", "signed_in"),
])
def test_policy_spellings_real_apps_use_map_onto_levels(using, level, tmp_path):
    """Array-returning helpers (``= any (f())``), ``auth.uid() is not null`` guards, member-id
    subqueries, joins to the tenant table and tests of a role a helper selects read as the
    membership they test; a test a missing membership passes is kept as written."""
    from tenantspec.cli import main

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(ORG_ITEMS.replace("{using}", using))
    assert main(["--root", str(tmp_path), "adopt", "--init", "items"]) == 0
    spec = (tmp_path / "schema/items.yaml").read_text()
    assert f"access: {{select: {level or 'nobody'}, insert: nobody, update: nobody, delete: nobody}}" in spec, spec
    assert ("policies:" in spec) == (level is None), spec


DUMP = """\
SET statement_timeout = 0;
SET lock_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
CREATE TYPE "public"."organization_member_role" AS ENUM ('owner', 'admin', 'member', 'readonly');
ALTER TYPE "public"."organization_member_role" OWNER TO "postgres";
CREATE OR REPLACE FUNCTION "public"."get_organization_admin_ids"("organization_id" "uuid") RETURNS TABLE("member_id" "uuid")
    LANGUAGE "plpgsql" SECURITY DEFINER
    SET "search_path" TO 'public'
    AS $_$
BEGIN
  RETURN QUERY SELECT organization_members.member_id FROM organization_members
  WHERE organization_members.organization_id = $1
    AND (organization_members.member_role = 'admin' OR organization_members.member_role = 'owner');
END;
$_$;
CREATE OR REPLACE FUNCTION "public"."get_organization_member_ids"("organization_id" "uuid") RETURNS TABLE("member_id" "uuid")
    LANGUAGE "plpgsql" SECURITY DEFINER
    SET "search_path" TO 'public'
    AS $_$
BEGIN
  RETURN QUERY SELECT organization_members.member_id FROM organization_members WHERE organization_members.organization_id = $1;
END;
$_$;
SET default_tablespace = '';
SET default_table_access_method = "heap";
CREATE TABLE IF NOT EXISTS "public"."organizations" (
    "id" "uuid" DEFAULT "gen_random_uuid"() NOT NULL,
    "created_at" timestamp with time zone DEFAULT "now"() NOT NULL,
    "title" character varying DEFAULT 'Test Organization'::character varying NOT NULL,
    "slug" character varying(255) DEFAULT ("gen_random_uuid"())::"text" NOT NULL
);
ALTER TABLE "public"."organizations" OWNER TO "postgres";
CREATE TABLE IF NOT EXISTS "public"."organization_members" (
    "id" bigint NOT NULL,
    "created_at" timestamp with time zone DEFAULT "now"() NOT NULL,
    "member_id" "uuid" NOT NULL,
    "member_role" "public"."organization_member_role" NOT NULL,
    "organization_id" "uuid" NOT NULL
);
ALTER TABLE "public"."organization_members" OWNER TO "postgres";
ALTER TABLE "public"."organization_members" ALTER COLUMN "id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME "public"."organization_members_id_seq"
    START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1
);
CREATE TABLE IF NOT EXISTS "public"."projects" (
    "id" "uuid" DEFAULT "gen_random_uuid"() NOT NULL,
    "name" "text" NOT NULL,
    "created_at" timestamp with time zone DEFAULT "now"() NOT NULL,
    "organization_id" "uuid" NOT NULL,
    "created_by" "uuid"
);
ALTER TABLE "public"."projects" OWNER TO "postgres";
CREATE TABLE IF NOT EXISTS "public"."project_comments" (
    "id" bigint NOT NULL,
    "created_at" timestamp with time zone DEFAULT "now"(),
    "text" "text" NOT NULL,
    "user_id" "uuid" NOT NULL,
    "project_id" "uuid" NOT NULL
);
ALTER TABLE "public"."project_comments" ALTER COLUMN "id" ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME "public"."project_comments_id_seq" START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1);
ALTER TABLE ONLY "public"."organizations" ADD CONSTRAINT "organizations_pkey" PRIMARY KEY ("id");
ALTER TABLE ONLY "public"."organizations" ADD CONSTRAINT "organizations_slug_key" UNIQUE ("slug");
ALTER TABLE ONLY "public"."organization_members" ADD CONSTRAINT "organization_members_pkey" PRIMARY KEY ("id");
ALTER TABLE ONLY "public"."organization_members" ADD CONSTRAINT "organization_members_member_id_organization_id_key" UNIQUE ("member_id", "organization_id");
ALTER TABLE ONLY "public"."projects" ADD CONSTRAINT "projects_pkey" PRIMARY KEY ("id");
ALTER TABLE ONLY "public"."project_comments" ADD CONSTRAINT "project_comments_pkey" PRIMARY KEY ("id");
CREATE INDEX "idx_projects_organization_id" ON "public"."projects" USING "btree" ("organization_id");
ALTER TABLE ONLY "public"."organization_members" ADD CONSTRAINT "organization_members_member_id_fkey" FOREIGN KEY ("member_id") REFERENCES "auth"."users"("id") ON DELETE CASCADE;
ALTER TABLE ONLY "public"."organization_members" ADD CONSTRAINT "organization_members_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE CASCADE;
ALTER TABLE ONLY "public"."projects" ADD CONSTRAINT "projects_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE CASCADE;
ALTER TABLE ONLY "public"."projects" ADD CONSTRAINT "projects_created_by_fkey" FOREIGN KEY ("created_by") REFERENCES "auth"."users"("id") ON DELETE SET NULL;
ALTER TABLE ONLY "public"."project_comments" ADD CONSTRAINT "project_comments_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE CASCADE;
ALTER TABLE ONLY "public"."project_comments" ADD CONSTRAINT "project_comments_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE CASCADE;
CREATE POLICY "All organization members can read projects" ON "public"."projects" FOR SELECT TO "authenticated" USING ((( SELECT "auth"."uid"() AS "uid") IN ( SELECT "get_organization_member_ids"."member_id" FROM "public"."get_organization_member_ids"("projects"."organization_id") "get_organization_member_ids"("member_id"))));
CREATE POLICY "Org admins can create projects" ON "public"."projects" FOR INSERT TO "authenticated" WITH CHECK ((( SELECT "auth"."uid"() AS "uid") IN ( SELECT "get_organization_admin_ids"."member_id" FROM "public"."get_organization_admin_ids"("projects"."organization_id") "get_organization_admin_ids"("member_id"))));
CREATE POLICY "Org admins or creator can update" ON "public"."projects" FOR UPDATE TO "authenticated" USING (((( SELECT "auth"."uid"() AS "uid") IN ( SELECT "get_organization_admin_ids"."member_id" FROM "public"."get_organization_admin_ids"("projects"."organization_id") "get_organization_admin_ids"("member_id"))) OR ("created_by" = ( SELECT "auth"."uid"() AS "uid"))));
CREATE POLICY "Members read comments" ON "public"."project_comments" FOR SELECT TO "authenticated" USING ((EXISTS ( SELECT 1 FROM "public"."projects" "p" WHERE (("p"."id" = "project_comments"."project_id") AND (( SELECT "auth"."uid"() AS "uid") IN ( SELECT "get_organization_member_ids"."member_id" FROM "public"."get_organization_member_ids"("p"."organization_id") "get_organization_member_ids"("member_id")))))));
CREATE POLICY "Members comment as themselves" ON "public"."project_comments" FOR INSERT TO "authenticated" WITH CHECK ((("user_id" = ( SELECT "auth"."uid"() AS "uid")) AND (EXISTS ( SELECT 1 FROM "public"."projects" "p" WHERE (("p"."id" = "project_comments"."project_id") AND (( SELECT "auth"."uid"() AS "uid") IN ( SELECT "get_organization_member_ids"."member_id" FROM "public"."get_organization_member_ids"("p"."organization_id") "get_organization_member_ids"("member_id"))))))));
CREATE POLICY "Authors delete comments" ON "public"."project_comments" FOR DELETE TO "authenticated" USING (("user_id" = ( SELECT "auth"."uid"() AS "uid")));
CREATE POLICY "Fresh projects for members" ON "public"."projects" FOR SELECT TO "authenticated" USING ((("created_at" > ("now"() - '1 day'::interval)) AND (( SELECT "auth"."uid"() AS "uid") IN ( SELECT "g"."member_id" FROM "public"."get_organization_member_ids"("projects"."organization_id") "g"("member_id")))));
ALTER TABLE "public"."organizations" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "public"."organization_members" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "public"."projects" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "public"."project_comments" ENABLE ROW LEVEL SECURITY;
GRANT USAGE ON SCHEMA "public" TO "postgres";
GRANT USAGE ON SCHEMA "public" TO "anon";
GRANT USAGE ON SCHEMA "public" TO "authenticated";
GRANT USAGE ON SCHEMA "public" TO "service_role";
GRANT ALL ON FUNCTION "public"."get_organization_member_ids"("organization_id" "uuid") TO "anon";
GRANT ALL ON FUNCTION "public"."get_organization_member_ids"("organization_id" "uuid") TO "authenticated";
GRANT ALL ON FUNCTION "public"."get_organization_member_ids"("organization_id" "uuid") TO "service_role";
GRANT ALL ON FUNCTION "public"."get_organization_admin_ids"("organization_id" "uuid") TO "authenticated";
GRANT ALL ON TABLE "public"."organizations" TO "anon";
GRANT ALL ON TABLE "public"."organizations" TO "authenticated";
GRANT ALL ON TABLE "public"."organizations" TO "service_role";
GRANT ALL ON TABLE "public"."organization_members" TO "anon";
GRANT ALL ON TABLE "public"."organization_members" TO "authenticated";
GRANT ALL ON TABLE "public"."organization_members" TO "service_role";
GRANT ALL ON TABLE "public"."projects" TO "anon";
GRANT ALL ON TABLE "public"."projects" TO "authenticated";
GRANT ALL ON TABLE "public"."projects" TO "service_role";
GRANT ALL ON TABLE "public"."project_comments" TO "anon";
GRANT ALL ON TABLE "public"."project_comments" TO "authenticated";
GRANT ALL ON TABLE "public"."project_comments" TO "service_role";
ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" GRANT ALL ON TABLES  TO "postgres";
ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" GRANT ALL ON TABLES  TO "anon";
RESET ALL;
"""


def test_a_dump_of_member_id_helpers_maps_and_its_kept_policy_generates(tmp_path, capsys):
    """A `supabase db diff` dump whose policies ask ``auth.uid() in (select ... from
    get_organization_admin_ids(organization_id) ...)``, a helper whose roles are an OR of
    equalities; a policy kept as written (a time window) reads the function's rows by their
    alias, which the verifier accepts."""
    from tenantspec.cli import main

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240601000000_remote_schema.sql").write_text(DUMP)
    assert main(["--root", str(tmp_path), "adopt", "--init", "projects", "project_comments"]) == 0
    projects = (tmp_path / "schema/projects.yaml").read_text()
    assert "access: {select: member, insert: admin_or_above, update: {any: admin_or_above, own: member}, " \
           "delete: nobody}" in projects, projects
    assert "name: Fresh projects for members, command: select" in projects
    comments = (tmp_path / "schema/project_comments.yaml").read_text()
    assert "access: {select: member, insert: {own: member}, update: nobody, delete: {own: member}}" in comments
    capsys.readouterr()
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr().err


def test_adopt_init_reads_the_membership_from_the_baseline(tmp_path, capsys):
    """The app's workspaces, members and helpers predate the migrations (tests/baseline.sql):
    adopt --init finds the membership there, and the hand-written tables map onto its levels."""
    from tenantspec.cli import main

    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    for file in sorted((CASES.parent.parent / "cases" / "handwritten_migrations").glob("*.sql")):
        shutil.copy(file, migrations / file.name)
    (tmp_path / "tests").mkdir()
    shutil.copy(CASES.parent.parent / "baseline.sql", tmp_path / "tests" / "baseline.sql")
    assert main(["--root", str(tmp_path), "adopt", "--init", "carrier_configs", "robot_jobs", "robot_job_items"]) == 0
    err = capsys.readouterr().err
    assert "tests/baseline.sql:16:1: workspace_members is the membership table" in err, err
    spec = (tmp_path / "schema" / "carrier_configs.yaml").read_text()
    assert "access: {select: member, insert: admin_or_above, update: admin_or_above, delete: admin_or_above}" in spec


def test_a_table_without_row_level_security_keeps_its_members_and_closes_to_everyone_else(tmp_path, capsys):
    """No `enable row level security`: under the legacy grants everyone reaches every row.
    Members keep every command, the note says who else got in, and the correction (RLS on)
    generates without --allow-narrowing."""
    from tenantspec.cli import main

    sql = ORG_ITEMS.split("alter table public.items enable row level security;")[0]
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(sql)
    assert main(["--root", str(tmp_path), "adopt", "--init", "items"]) == 0
    err = capsys.readouterr().err
    assert "public.items: row-level security is off, so its grants let anon, members of other workspaces, " \
           "signed-in users of no workspace delete, insert, select, update every workspace's rows" in err, err
    spec = (tmp_path / "schema/items.yaml").read_text()
    assert "access: {select: member, insert: member, update: member, delete: member}" in spec, spec
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr().err


def test_a_kept_policy_that_let_anon_in_says_anon_loses_it(tmp_path, capsys):
    """``for select to anon, authenticated using (published)`` is kept for signed-in users
    only (hand-written policies are TO authenticated): the note says anon loses it."""
    from tenantspec.cli import main

    sql = ORG_ITEMS.replace("  name text not null\n);", "  name text not null,\n  published boolean not null default false\n);")
    sql = sql.replace("create policy items_select on public.items for select to authenticated using ({using});",
                      "create policy items_public on public.items for select to anon, authenticated using (published);")
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(sql)
    assert main(["--root", str(tmp_path), "adopt", "--init", "items"]) == 0
    err = capsys.readouterr().err
    assert "public.items: policy 'items_public' let anon in too; the spec keeps it for signed-in users" in err, err
    assert "- {name: items_public, command: select, using: published}" in (tmp_path / "schema/items.yaml").read_text()


def test_statements_adoption_does_not_read_are_named_with_their_line(tmp_path, capsys):
    """A replica identity, disabled triggers and a DO block running built SQL on an adopted
    table are named with file:line; an owner change (nothing a spec is about) is not."""
    from tenantspec.cli import main

    sql = ORG_ITEMS.replace("{using}", "org_id = any (public.my_orgs())") + """\
alter table public.items replica identity full;
alter table public.items owner to postgres;
alter table public.items disable trigger all;
do $$ begin execute format('alter table public.items add column %I int', current_setting('app.legacy')); end $$;
"""
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(sql)
    assert main(["--root", str(tmp_path), "adopt", "--init", "items"]) == 0
    err = capsys.readouterr().err
    lines = sql.splitlines()
    for statement, words in (("replica identity full", "sets its replica identity"),
                             ("disable trigger all", "disables its triggers"),
                             ("do $$", "a DO block that runs SQL built at run time (execute) names items")):
        line = next(i for i, text in enumerate(lines, start=1) if statement in text)
        assert f"20240101000000_app.sql:{line}:1: " in err and words in err, err
    assert "owner to" not in err.lower() and "ChangeOwner" not in err


TEAM_ROLE = """\
create type public.team_role as enum ('owner', 'editor', 'viewer');
create type public.member_status as enum ('invited', 'active');
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null);
create table public.team_users (
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  status public.member_status not null default 'invited',
  team_role public.team_role not null default 'viewer',
  primary key (team_id, user_id)
);
create table public.docs (id uuid primary key default gen_random_uuid(), team_id uuid not null references public.teams (id), body text);
alter table public.docs enable row level security;
create policy d on public.docs for select to authenticated using (team_id in (select team_id from team_users where user_id = auth.uid() and team_role <> 'viewer'));
"""


def test_adopt_init_finds_a_role_column_by_its_name_and_type(tmp_path, capsys):
    """``team_role public.team_role`` beside another enum column (a status): the column named
    for a role is the role, and its enum's values are the roles."""
    from tenantspec.cli import main

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(TEAM_ROLE)
    assert main(["--root", str(tmp_path), "adopt", "--init", "docs"]) == 0
    assert "team_users is the membership table: user_id is the user, team_id the teams row, team_role the role" \
        in capsys.readouterr().err
    assert "access: {select: editor_or_above, insert: nobody," in (tmp_path / "schema/docs.yaml").read_text()


def test_adopt_init_orders_roles_written_least_powerful_first(tmp_path, capsys):
    """``check (role in ('member', 'admin', 'owner'))``: the levels run from the owner down,
    as the names say, and the note says the order was read that way."""
    from tenantspec.cli import main

    sql = ORG_ITEMS.replace("check (role in ('owner', 'admin', 'member'))", "check (role in ('member', 'admin', 'owner'))")
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(
        sql.replace("{using}", "org_id = any (public.my_admin_orgs())"))
    assert main(["--root", str(tmp_path), "adopt", "--init", "items"]) == 0
    project = (tmp_path / "schema/project.yaml").read_text()
    assert "ordered by what their names usually mean (owner, admin, member): check the order" in project
    assert "    owner: [owner]\n    admin_or_above: [owner, admin]\n    member: [owner, admin, member]" in project
    assert "access: {select: admin_or_above," in (tmp_path / "schema/items.yaml").read_text()


def test_adopt_init_adds_a_level_for_each_role_set_the_policies_use(tmp_path, capsys):
    """``role in ('owner', 'billing')`` is no run of roles from the top: adopt --init adds the
    level ``owner_or_billing`` (with a note), and the policy maps onto it."""
    from tenantspec.cli import main

    sql = ORG_ITEMS.replace("check (role in ('owner', 'admin', 'member'))",
                            "check (role in ('owner', 'admin', 'billing', 'member'))").replace(
        "{using}", "org_id in (select org_id from org_members where user_id = auth.uid() and role in ('owner', 'billing'))")
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(sql)
    assert main(["--root", str(tmp_path), "adopt", "--init", "items"]) == 0
    assert "levels owner_or_billing: sets of roles the policies let through" in capsys.readouterr().err
    assert "    owner_or_billing: [owner, billing]" in (tmp_path / "schema/project.yaml").read_text()
    spec = (tmp_path / "schema/items.yaml").read_text()
    assert "access: {select: owner_or_billing, insert: nobody, update: nobody, delete: nobody}" in spec, spec
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("name", ["handwritten", "inline_exists"])
def test_adopting_a_corrected_chain_again_gives_back_the_same_specs(name, tmp_path, capsys):
    """Adoption reads what generation writes: after the correction, adopting the tables again
    (carried workspace columns, composite same-workspace keys and all) leaves nothing pending."""
    from tenantspec.cli import main

    tables = build(name, tmp_path)
    write_outputs(tmp_path, adopt(tmp_path, tables).specs)
    write_outputs(tmp_path, plan_project(tmp_path, "adopt", WHEN).outputs)
    for table in tables:
        (tmp_path / "schema" / f"{table}.yaml").unlink()
    write_outputs(tmp_path, adopt(tmp_path, tables).specs)
    capsys.readouterr()
    assert main(["--root", str(tmp_path), "diff"]) == 0, capsys.readouterr().out


def test_adopt_init_takes_a_membership_whose_user_is_a_profile(tmp_path, capsys):
    """``team_members.user_id references profiles (id)``, where ``profiles.id references
    auth.users``: the profile is the user, not the tenant."""
    from tenantspec.cli import main

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text("""\
create table public.profiles (id uuid primary key references auth.users (id) on delete cascade, full_name text);
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null);
create table public.team_members (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  role text not null check (role in ('owner', 'member')),
  unique (team_id, user_id)
);
create table public.docs (id uuid primary key default gen_random_uuid(), team_id uuid not null references public.teams (id));
alter table public.docs enable row level security;
create policy docs_read on public.docs for select to authenticated
  using (team_id in (select team_id from team_members where user_id = auth.uid()));
""")
    assert main(["--root", str(tmp_path), "adopt", "--init", "docs"]) == 0
    assert "team_members is the membership table: user_id is the user, team_id the teams row" in capsys.readouterr().err
    assert "access: {select: member," in (tmp_path / "schema/docs.yaml").read_text()


def test_integer_keys_are_unique_across_both_workspaces_in_the_proof_world(tmp_path):
    """``id bigint generated by default as identity`` on the membership table and on an
    adopted table (a `db diff` dump): the proof's rows number such keys across the table,
    not within each workspace, so the template database can be seeded."""
    from tenantspec.cli import main
    from tenantspec.spec.load import load_project
    from tenantspec.testing.world import build_world

    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240601000000_remote_schema.sql").write_text(DUMP)
    assert main(["--root", str(tmp_path), "adopt", "--init", "projects", "project_comments"]) == 0
    world = build_world(load_project(tmp_path))
    for table in ("organization_members", "project_comments"):
        ids = [row.values["id"] for name, rows in world.rows.items() if name.name == table for row in rows]
        assert len(ids) > 2 and len(set(ids)) == len(ids), (table, ids)


def test_generate_after_adopt_reads_helpers_from_the_baseline_and_names_the_ones_it_cannot(tmp_path, capsys):
    """The membership helpers were made in the dashboard (tests/baseline.sql): the review reads
    them as adopt did, so the correction takes nothing away. Without the baseline, the refusal
    names the function it could not read and where its SQL goes."""
    from tenantspec.cli import main

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    for path in (root / "tests/cases/handwritten_migrations").glob("*.sql"):
        shutil.copy(path, tmp_path / "supabase/migrations" / path.name)
    (tmp_path / "tests").mkdir()
    shutil.copy(root / "tests/baseline.sql", tmp_path / "tests" / "baseline.sql")
    assert main(["--root", str(tmp_path), "adopt", "--init", "carrier_configs", "robot_jobs", "robot_job_items"]) == 0
    (tmp_path / "tests/baseline.sql").rename(tmp_path / "baseline.sql")
    capsys.readouterr()
    assert main(["--root", str(tmp_path), "generate"]) == 2
    err = capsys.readouterr().err
    assert "carrier_configs update: agent would lose it (unknown -> denied); before, tenantspec could not tell: " \
           "policy 'Admins can update carrier configs': cannot read is_workspace_admin(workspace_id): " \
           "public.is_workspace_admin() is created in no file tenantspec reads; put the SQL that creates it in " \
           "the baseline" in err, err
    (tmp_path / "baseline.sql").rename(tmp_path / "tests/baseline.sql")
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr().err
    assert len(list((tmp_path / "supabase/migrations").glob("*.sql"))) == 3  # the two, and the correction


def test_external_tables_get_seeds_for_their_required_columns(tmp_path):
    """A table an adopted one references is declared external with values the proof writes
    into its required columns, so nobody is asked for them one at a time: a profile keyed by
    its user is that user, a name is a label, an enum its first value."""
    build("app_shapes", tmp_path)
    (tmp_path / "supabase/migrations/20250401000000_profiles.sql").write_text(
        "create type public.profile_kind as enum ('staff', 'guest');\n"
        "create table public.profiles (id uuid primary key references auth.users (id), full_name text not null,\n"
        "  kind public.profile_kind not null, bio text, created_at timestamptz not null default now());\n"
        "create table public.notes (id uuid primary key default gen_random_uuid(),\n"
        "  org_id uuid not null references public.organizations (id),\n"
        "  author_id uuid not null references public.profiles (id), body text);\n"
        "alter table public.notes enable row level security;\n")
    adoption = adopt(tmp_path, ["notes"])
    project = adoption.specs[Path("schema/project.yaml")]
    declared = YAML(typ="safe").load(project)["external"]["tables"]["profiles"]
    assert declared["seed"] == {"id": "{user}", "full_name": "profiles full_name {label}", "kind": "staff"}
    write_outputs(tmp_path, adoption.specs)
    from tenantspec.spec.load import load_project
    from tenantspec.testing.world import build_world

    world = build_world(load_project(tmp_path))
    profiles = [row.values for name, rows in world.rows.items() if name.name == "profiles" for row in rows]
    assert profiles and all(p["kind"] == "staff" for p in profiles)


def test_a_reference_to_a_profile_keyed_by_its_user_is_no_same_workspace_reference(tmp_path):
    """A profile keyed by its user may carry an organization (the one the user has open), but
    it names a user, and users span workspaces: sharing a row with a user of another workspace
    stays allowed (no same_workspace, no check added), while a reference to another
    workspace-scoped table is kept within the row's workspace."""
    build("app_shapes", tmp_path)
    (tmp_path / "supabase/migrations/20250401000000_shares.sql").write_text(
        "create table public.profiles (id uuid primary key references auth.users (id),\n"
        "  org_id uuid references public.organizations (id));\n"
        "create table public.folders (id uuid primary key default gen_random_uuid(),\n"
        "  org_id uuid not null references public.organizations (id));\n"
        "create table public.shares (id uuid primary key default gen_random_uuid(),\n"
        "  org_id uuid not null references public.organizations (id),\n"
        "  folder_id uuid not null references public.folders (id),\n"
        "  shared_with uuid not null references public.profiles (id));\n"
        "alter table public.shares enable row level security;\n")
    adoption = adopt(tmp_path, ["shares"])
    spec = adoption.specs[Path("schema/shares.yaml")]
    shared_with = next(line for line in spec.splitlines() if line.strip().startswith("shared_with:"))
    folder = next(line for line in spec.splitlines() if line.strip().startswith("folder_id:"))
    assert "same_workspace" not in shared_with and "same_workspace: true" in folder, spec
    assert not any("shares.shared_with references" in str(n) for n in adoption.notes)


def test_external_seeds_satisfy_bounds_and_json_schemas_their_checks_state(tmp_path):
    """A required count a CHECK bounds (`total > 0`) is seeded at its bound; a required jsonb a
    CHECK holds to a JSON Schema (pg_jsonschema) is seeded with a document the schema accepts."""
    from tenantspec.catalog.json_schema import document

    schema = {"type": "object", "required": ["total", "chapters"],
              "properties": {"total": {"type": "integer", "minimum": 1}, "chapters": {"type": "array"}}}
    build("app_shapes", tmp_path)
    (tmp_path / "supabase/migrations/20250401000000_outlines.sql").write_text(
        "create extension if not exists pg_jsonschema with schema extensions;\n"
        "create table public.outlines (id uuid primary key default gen_random_uuid(),\n"
        "  org_id uuid not null references public.organizations (id),\n"
        "  total integer not null check (total > 0), pages numeric not null, weight int not null,\n"
        f"  body jsonb not null constraint body_shape check (extensions.jsonb_matches_schema('{json.dumps(schema)}', body)),\n"
        "  constraint weight_range check (weight between 3 and 9));\n"
        "alter table public.outlines add constraint pages_positive check (2 < pages);\n"
        "create table public.notes (id uuid primary key default gen_random_uuid(),\n"
        "  org_id uuid not null references public.organizations (id),\n"
        "  outline_id uuid not null references public.outlines (id), body text);\n"
        "alter table public.notes enable row level security;\n")
    adoption = adopt(tmp_path, ["notes"])
    declared = YAML(typ="safe").load(adoption.specs[Path("schema/project.yaml")])["external"]["tables"]["outlines"]
    assert declared["seed"] == {"total": "1", "pages": "3", "weight": "3", "body": json.dumps(document(schema))}
    assert json.loads(declared["seed"]["body"]) == {"total": 1, "chapters": []}


def test_adopt_init_takes_the_parent_most_tables_hang_from_as_the_tenant(tmp_path, capsys):
    """A membership naming two parents (a study and the invite code a participant joined with,
    declared first) ties users to the study: the table most of the schema references."""
    from tenantspec.cli import main

    sql = """
create table public.studies (id uuid primary key default gen_random_uuid(), title text not null);
create table public.invites (code text primary key, study_id uuid not null references public.studies (id));
create table public.participants (
  invite_code text references public.invites (code),
  user_id uuid not null references auth.users (id),
  study_id uuid not null references public.studies (id),
  primary key (study_id, user_id)
);
create table public.answers (id uuid primary key default gen_random_uuid(),
  study_id uuid not null references public.studies (id), body text);
create table public.reports (id uuid primary key default gen_random_uuid(),
  study_id uuid not null references public.studies (id), body text);
alter table public.answers enable row level security;
create policy answers_select on public.answers for select to authenticated using (
  exists (select 1 from public.participants p where p.study_id = answers.study_id and p.user_id = auth.uid()));
"""
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(sql)
    assert main(["--root", str(tmp_path), "adopt", "--init"]) == 0
    project = (tmp_path / "schema/project.yaml").read_text()
    assert "workspaces: studies" in project and "workspace_column: study_id" in project, project


def test_adopt_init_seeds_what_a_sign_up_trigger_keys_by_the_user_and_the_memberships_required_columns(
        tmp_path, capsys):
    """``public.users`` has no foreign key to auth.users: a trigger on a new user fills it with
    ``new.id``. A tenant's required reference to it is a user (``{user}``), and a membership's
    required columns get values too, never its user, role or the column that counts it."""
    from tenantspec.cli import main

    sql = """
create table public.users (id uuid primary key, email text);
create function public.handle_new_user() returns trigger language plpgsql security definer
set search_path = '' as $$
begin
  insert into public.users (id, email) values (new.id, new.email);
  return new;
end $$;
create trigger on_auth_user_created after insert on auth.users
  for each row execute function public.handle_new_user();
create table public.teams (id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references public.users (id), name text not null);
create table public.team_members (
  team_id uuid not null references public.teams (id),
  user_id uuid not null references public.users (id),
  role text not null check (role in ('admin', 'member')),
  is_active boolean not null,
  picked_topics text[] not null,
  primary key (team_id, user_id)
);
create table public.notes (id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id), body text);
alter table public.notes enable row level security;
create policy notes_select on public.notes for select to authenticated using (exists (
  select 1 from public.team_members m where m.team_id = notes.team_id and m.user_id = auth.uid() and m.is_active));
"""
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(sql)
    assert main(["--root", str(tmp_path), "adopt", "--init"]) == 0
    project = (tmp_path / "schema/project.yaml").read_text()
    teams = next(line for line in project.splitlines() if line.strip().startswith("teams:"))
    members = next(line for line in project.splitlines() if line.strip().startswith("team_members:"))
    assert 'owner_id: "{user}"' in teams, project
    assert 'seed: {picked_topics: "{}"}' in members, project


@pytest.mark.parametrize("predicate, sole", [("role = 'owner'", "owner"), ("role in ('owner')", "owner"),
                                             ("role = 'member'", "member"),
                                             # one row a team that is not its owner: one member
                                             ("role <> 'owner'", "member"),
                                             ("role in ('owner', 'member')", None)])
def test_adopt_init_reads_a_role_a_unique_index_gives_one_member_a_workspace(predicate, sole, tmp_path, capsys):
    from tenantspec.cli import main

    sql = f"""
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (org_id uuid not null references public.orgs (id),
  user_id uuid not null references auth.users (id),
  role text not null check (role in ('owner', 'member')), primary key (org_id, user_id));
create unique index one_per_org on public.org_members (org_id) where {predicate};
"""
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20240101000000_app.sql").write_text(sql)
    assert main(["--root", str(tmp_path), "adopt", "--init"]) == 0
    project = (tmp_path / "schema/project.yaml").read_text()
    assert (f"    sole_role: {sole}\n" in project) if sole else "sole_role" not in project, project


def test_a_table_of_no_workspace_naming_its_user_is_seeded_a_row_per_user(tmp_path):
    """messages (no workspace) name their user and their chat: declared external, the user is
    `{user}`, and the world writes one message per signed-in user, each in a chat of the world."""
    from tenantspec.spec.load import load_project
    from tenantspec.testing.world import build_world

    build("app_shapes", tmp_path)
    (tmp_path / "supabase/migrations/20250401000000_chats.sql").write_text(
        "create table public.chats (id uuid primary key default gen_random_uuid(), title text);\n"
        "create table public.messages (id uuid primary key default gen_random_uuid(),\n"
        "  chat_id uuid not null references public.chats (id) on delete cascade,\n"
        "  user_id uuid not null references auth.users (id), content text not null);\n"
        "create table public.notes (id uuid primary key default gen_random_uuid(),\n"
        "  org_id uuid not null references public.organizations (id),\n"
        "  message_id uuid not null references public.messages (id), body text);\n"
        "alter table public.notes enable row level security;\n")
    adoption = adopt(tmp_path, ["notes"])
    declared = YAML(typ="safe").load(adoption.specs[Path("schema/project.yaml")])["external"]["tables"]["messages"]
    assert declared["seed"]["user_id"] == "{user}" and declared["references"]["chat_id"]["table"] == "chats"
    write_outputs(tmp_path, adoption.specs)
    world = build_world(load_project(tmp_path))
    messages = [row.values for name, rows in world.rows.items() if name.name == "messages" for row in rows]
    chats = {row.values["id"] for name, rows in world.rows.items() if name.name == "chats" for row in rows}
    users = {str(p.user_id) for p in world.personas.values() if p.user_id and not p.claimed_role}
    assert {m["user_id"] for m in messages} == users and all(m["chat_id"] in chats for m in messages)
