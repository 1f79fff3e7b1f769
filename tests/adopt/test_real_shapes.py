"""Adoption on the shapes real multi-tenant apps keep their tenancy in: memberships found by
the policies that consult them, helpers written the ways apps write them, names PostgreSQL
allows and tenantspec cannot say, SQL the parser refuses. Whatever the input: no traceback, no
spec the loader refuses, and what cannot be said stays hand-written with its reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tenantspec.adopt.tables import adopt
from tenantspec.cli import main
from tenantspec.plan.pipeline import plan_project, write_outputs
from tenantspec.spec.load import load_project

CASES = Path(__file__).parent / "cases"


def project_of(root: Path, **files: str) -> Path:
    migrations = root / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    for name, text in files.items():
        (migrations / f"{name}.sql").write_text(text)
    (root / "schema").mkdir()
    return root


def init(root: Path, capsys) -> tuple[int, str, str]:
    code = main(["--root", str(root), "adopt", "--init"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_adopt_init_writes_the_membership_without_a_role_as_the_case_has_it(tmp_path, capsys):
    """team_users has no role and no foreign key to auth.users; team_invites ties a user to a
    team too (invited_by) and sorts first: the policies' helper reads team_users, so it wins."""
    shutil.copytree(CASES / "team_no_role" / "migrations", tmp_path / "supabase" / "migrations")
    (tmp_path / "schema").mkdir()
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    assert (tmp_path / "schema/project.yaml").read_text() == (CASES / "team_no_role/project.yaml").read_text()
    assert "team_users is the membership table: user_id is the user, team_id the teams row, no role column " \
           "(every member alike); 1 policies and helpers consult it" in err, err
    project = load_project(tmp_path)
    assert project.tenancy.members.role_column is None and project.tenancy.roles == ("member",)


def test_adopt_with_no_names_adopts_every_table_it_can_trace(tmp_path, capsys):
    shutil.copytree(CASES / "team_no_role" / "migrations", tmp_path / "supabase" / "migrations")
    (tmp_path / "schema").mkdir()
    shutil.copy(CASES / "team_no_role/project.yaml", tmp_path / "schema/project.yaml")
    (tmp_path / "supabase/migrations/20250401000000_settings.sql").write_text(
        "create table public.app_settings (key text primary key, value jsonb not null);\n")
    adoption = adopt(tmp_path, [])
    assert sorted(str(p) for p in adoption.specs) == [
        "schema/boards.yaml", "schema/cards.yaml", "schema/team_invites.yaml"]
    assert any("public.app_settings stays hand-written" in str(n) and "no column references teams" in str(n)
               for n in adoption.notes), adoption.notes
    write_outputs(tmp_path, adoption.specs)
    assert main(["--root", str(tmp_path), "adopt"]) == 2  # nothing left but what cannot be traced
    err = capsys.readouterr().err
    assert "public.app_settings stays hand-written" in err and "no table was adopted" in err, err


ROLE_BY_POLICY = """\
create table public.organizations (id uuid primary key default gen_random_uuid(), name text not null);
-- a text role with no CHECK: the roles are the values the policies compare it with
create table public.user_organization_roles (
  user_id uuid not null references auth.users (id),
  organization_id uuid not null references public.organizations (id),
  role text not null default 'member',
  unique (user_id, organization_id)
);
-- a table that ties a user to an organization too, never consulted by a policy
create table public.products (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id),
  created_by uuid references auth.users (id),
  kind text check (kind in ('Produto', 'Serviço'))
);
create table public.accounts (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id),
  name text not null
);
alter table public.accounts enable row level security;
create policy "read accounts" on public.accounts for select to authenticated using (
  exists (select 1 from public.user_organization_roles r
          where r.organization_id = accounts.organization_id and r.user_id = auth.uid()));
create policy "write accounts" on public.accounts for update to authenticated using (
  exists (select 1 from public.user_organization_roles r
          where r.organization_id = accounts.organization_id and r.user_id = auth.uid()
            and r.role in ('owner', 'admin')));
"""


def test_the_membership_is_the_table_the_policies_consult_and_its_roles_what_they_name(tmp_path, capsys):
    project_of(tmp_path, **{"20250719000000_schema": ROLE_BY_POLICY})
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    project = load_project(tmp_path)
    assert project.tenancy.members.table.name == "user_organization_roles"
    # no CHECK lists the roles: `unlisted` stands for the others, and the level of every role lets any member in
    assert project.tenancy.levels == {"owner": ("owner",), "admin_or_above": ("owner", "admin"),
                                      "member_or_above": ("owner", "admin", "member"),
                                      "member": ("owner", "admin", "member", "unlisted")}, project.tenancy.levels
    assert project.tenancy.members.open_roles
    assert "the values policies and helpers compare user_organization_roles.role with" in \
        (tmp_path / "schema/project.yaml").read_text()


def test_roles_that_are_no_identifiers_get_level_names_the_loader_takes(tmp_path, capsys):
    text = ROLE_BY_POLICY.replace("'owner', 'admin'", "'OWNER', 'Admin Geral'")
    project_of(tmp_path, **{"20250719000000_schema": text})
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    assert load_project(tmp_path).tenancy.levels == {
        "owner": ("OWNER",), "admin_geral_or_above": ("OWNER", "Admin Geral"),
        "member_or_above": ("OWNER", "Admin Geral", "member"), "member": ("OWNER", "Admin Geral", "member", "unlisted")}


QUOTED = ROLE_BY_POLICY + """\
create table public."Ledger-2024" (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id),
  "TotalAmount" numeric not null
);
alter table public."Ledger-2024" enable row level security;
create policy "read ledger" on public."Ledger-2024" for select to authenticated using (
  exists (select 1 from public.user_organization_roles r
          where r.organization_id = "Ledger-2024".organization_id and r.user_id = auth.uid()));
"""


def test_a_table_tenantspec_cannot_name_stays_hand_written_and_the_rest_adopts(tmp_path, capsys):
    project_of(tmp_path, **{"20250719000000_schema": QUOTED})
    assert init(tmp_path, capsys)[0] == 0
    adoption = adopt(tmp_path, [])
    assert Path("schema/accounts.yaml") in adoption.specs
    assert not any("Ledger" in str(path) for path in adoption.specs)
    assert any("public.Ledger-2024 stays hand-written: tenantspec cannot say it yet" in str(n)
               for n in adoption.notes), \
        [str(n) for n in adoption.notes]
    write_outputs(tmp_path, adoption.specs)
    load_project(tmp_path)  # every spec written is one the loader takes


UNPARSED = """\
create or replace function json(uuid) returns json language sql immutable as $$ select to_json($1::text) $$;
"""


def test_a_statement_the_parser_refuses_is_read_past_and_named(tmp_path, capsys):
    """PostgreSQL 15 took ``create function json(...)``; PostgreSQL 17's grammar does not."""
    project_of(tmp_path, **{"20250719000000_schema": ROLE_BY_POLICY, "20250720000000_json": UNPARSED})
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    assert "20250720000000_json.sql:1:" in err and "tenantspec reads the file without this statement" in err, err
    adoption = adopt(tmp_path, ["accounts"])
    assert any("tenantspec reads the file without this statement" in str(n) for n in adoption.notes)
    write_outputs(tmp_path, adoption.specs)
    generation = plan_project(tmp_path, "adopt")  # names no spec'd table: read past, said in the plan
    assert any("20250720000000_json.sql" in note for note in generation.plan.notes), generation.plan.notes


def test_generate_stops_on_an_unparsed_statement_naming_a_spec_table(tmp_path, capsys):
    project_of(tmp_path, **{"20250719000000_schema": ROLE_BY_POLICY})
    assert init(tmp_path, capsys)[0] == 0
    write_outputs(tmp_path, adopt(tmp_path, ["accounts"]).specs)
    (tmp_path / "supabase/migrations/20250801000000_policy.sql").write_text(
        "create policy if not exists x on public.accounts for select using (true);\n")
    assert main(["--root", str(tmp_path), "generate"]) == 2
    err = capsys.readouterr().err
    assert "20250801000000_policy.sql:1:" in err and "names a table the specs describe" in err, err
    assert "Traceback" not in err


def test_a_guarded_statement_in_a_do_block_is_no_conflict(tmp_path, capsys):
    """``if not exists (...) then alter table ... add constraint`` runs only when the constraint
    is missing: replay does not evaluate the condition, so it reports nothing there."""
    guarded = ROLE_BY_POLICY + """\
alter table public.accounts add constraint accounts_name_key unique (name);
do $$ begin
  if not exists (select 1 from pg_constraint where conname = 'accounts_name_key') then
    alter table public.accounts add constraint accounts_name_key unique (name);
  end if;
end $$;
"""
    project_of(tmp_path, **{"20250719000000_schema": guarded})
    assert init(tmp_path, capsys)[0] == 0
    write_outputs(tmp_path, adopt(tmp_path, ["accounts"]).specs)
    assert main(["--root", str(tmp_path), "diff"]) == 1, capsys.readouterr().err


HELPERS = """\
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (
  org_id uuid not null references public.orgs (id),
  user_id uuid not null references auth.users (id),
  invited_by uuid references auth.users (id),
  role text not null check (role in ('owner', 'admin', 'editor')),
  primary key (org_id, user_id)
);
-- the member's role, one row at most (limit 1), cast to text
create function public.get_role(arg_org uuid, arg_user uuid) returns text language sql stable security definer
  set search_path = '' as $$
  select m.role::text from public.org_members m where m.org_id = arg_org and m.user_id = arg_user limit 1;
$$;
-- a CASE on a constant argument
create function public.has_role(arg_org uuid, required text, arg_user uuid) returns boolean language sql stable
  security definer set search_path = '' as $$
  select case
    when required = 'owner' then coalesce(public.get_role(arg_org, arg_user), '') = 'owner'
    when required = 'admin' then coalesce(public.get_role(arg_org, arg_user), '') in ('admin', 'owner')
    else false
  end;
$$;
-- plpgsql with a setting first
create function public.is_member(arg_user uuid, arg_org uuid) returns boolean language plpgsql volatile
  security definer set search_path = '' as $$
begin
  set local row_security = off;
  return exists (select 1 from public.org_members where user_id = arg_user and org_id = arg_org);
end;
$$;
create table public.docs (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id),
  title text not null
);
alter table public.docs enable row level security;
create policy "read" on public.docs for select to authenticated
  using ((select public.is_member((select auth.uid()), org_id)));
create policy "edit" on public.docs for update to authenticated
  using (public.has_role(org_id, 'admin'::text, (select auth.uid() as uid)));
create policy "remove" on public.docs for delete to authenticated
  using (public.get_role(org_id, (select auth.uid() as uid)) = any (array['owner'::text]));
"""


def test_helpers_written_the_ways_apps_write_them_map_onto_levels(tmp_path, capsys):
    project_of(tmp_path, **{"20250101000000_app": HELPERS})
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    assert "org_members is the membership table: user_id is the user" in err, err
    adoption = adopt(tmp_path, ["docs"])
    spec = adoption.specs[Path("schema/docs.yaml")]
    assert "access: {select: member, insert: nobody, update: admin_or_above, delete: owner}" in spec, spec
    assert "policies:" not in spec, spec


@pytest.mark.parametrize("body", [
    # an INSERT ... RETURNING INTO is no test of membership: read as unknown, never a traceback
    "declare v uuid; begin insert into public.orgs (name) values ('x') returning id into v; return true; end;",
    "begin perform pg_sleep(0); return null; end;",
])
def test_helper_bodies_no_reader_takes_leave_the_policy_kept(tmp_path, capsys, body):
    text = HELPERS + f"""\
create function public.odd(o uuid) returns boolean language plpgsql security definer set search_path = '' as $$
{body}
$$;
create policy "odd" on public.docs for insert to authenticated with check (public.odd(org_id));
"""
    project_of(tmp_path, **{"20250101000000_app": text})
    assert init(tmp_path, capsys)[0] == 0
    spec = adopt(tmp_path, ["docs"]).specs[Path("schema/docs.yaml")]
    assert "name: odd" in spec and "insert: nobody" in spec, spec


def test_adopt_init_reads_the_condition_a_membership_counts_under(tmp_path, capsys):
    """Most policies and the helper test ``cm.is_active``: members.active says it."""
    shutil.copytree(CASES / "active_members" / "migrations", tmp_path / "supabase" / "migrations")
    (tmp_path / "schema").mkdir()
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    assert (tmp_path / "schema/project.yaml").read_text() == (CASES / "active_members/project.yaml").read_text()
    assert load_project(tmp_path).tenancy.members.active == "is_active"


@pytest.mark.parametrize("active, message", [
    ("is_active or is_owner", "say the condition as the columns' values joined by `and`"),
    ("archived_at is null", "archived_at is not a column of public.clinic_memberships"),
    ("is_active = ", "active: not a SQL expression"),
])
def test_an_active_condition_the_proof_cannot_write_is_refused_where_it_stands(tmp_path, active, message):
    from tenantspec.errors import TenantspecError

    (tmp_path / "schema").mkdir()
    text = (CASES / "active_members/project.yaml").read_text().replace("active: is_active", f"active: {active}")
    (tmp_path / "schema/project.yaml").write_text(text)
    with pytest.raises(TenantspecError) as raised:
        load_project(tmp_path)
    line = text.splitlines().index(f"    active: {active}") + 1
    assert f"schema/project.yaml:{line}:13: " in str(raised.value) and message in str(raised.value), str(raised.value)


NESTED = """\
create table public.organization (id uuid primary key default gen_random_uuid(), name text not null);
create table public.organizationmember (
  id bigint generated by default as identity primary key,
  organization_id uuid not null references public.organization (id),
  profile_id uuid not null references auth.users (id),
  role text not null check (role in ('admin', 'tutor', 'student'))
);
-- a second level inside the organization: course groups and their members
create table public."group" (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organization (id),
  name text not null
);
create table public.groupmember (
  id bigint generated by default as identity primary key,
  group_id uuid not null references public."group" (id),
  profile_id uuid not null references auth.users (id),
  role text not null check (role in ('tutor', 'student'))
);
create table public.lesson (
  id uuid primary key default gen_random_uuid(),
  group_id uuid not null references public."group" (id),
  title text not null
);
alter table public.lesson enable row level security;
create policy "group reads" on public.lesson for select to authenticated using (exists (
  select 1 from public.groupmember gm where gm.group_id = lesson.group_id and gm.profile_id = auth.uid()));
create policy "group writes" on public.lesson for update to authenticated using (exists (
  select 1 from public.groupmember gm where gm.group_id = lesson.group_id and gm.profile_id = auth.uid()
    and gm.role = 'tutor'));
create policy "org admins read groups" on public."group" for select to authenticated using (exists (
  select 1 from public.organizationmember om where om.organization_id = "group".organization_id
    and om.profile_id = auth.uid() and om.role = 'admin'));
"""


def test_a_membership_of_a_level_inside_the_tenant_is_not_the_tenancy(tmp_path, capsys):
    """Policies consult the course groups' members more often, but a group lies in an
    organization: the organization's membership is the tenancy."""
    project_of(tmp_path, **{"20231115000000_schema": NESTED})
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    assert load_project(tmp_path).tenancy.members.table.name == "organizationmember", err


@pytest.mark.parametrize("check, test", [
    ("check (roles <@ array['owner', 'admin', 'member']::text[])", "m.roles && array['owner', 'admin']"),
    ("", "'admin' = any (m.roles) or 'owner' = any (m.roles)"),  # roles named only where the policies test them
])
def test_adopt_init_finds_roles_kept_in_an_array(tmp_path, capsys, check, test):
    """A member holds several roles in one text[] column: init says role_array, takes the roles
    from the CHECK or from what the policies test, and the policies map onto its levels."""
    project_of(tmp_path, **{"20250101000000_init": (
        "create table public.teams (id uuid primary key default gen_random_uuid(), name text not null);\n"
        "create table public.team_members (\n"
        "  team_id uuid not null references public.teams (id) on delete cascade,\n"
        "  user_id uuid not null references auth.users (id) on delete cascade,\n"
        f"  roles text[] not null default '{{member}}', primary key (team_id, user_id){', ' + check if check else ''});\n"
        "create table public.projects (id uuid primary key default gen_random_uuid(),\n"
        "  team_id uuid not null references public.teams (id), name text not null);\n"
        "alter table public.projects enable row level security;\n"
        "create policy projects_select on public.projects for select to authenticated using (exists (\n"
        "  select 1 from public.team_members m where m.team_id = projects.team_id and m.user_id = auth.uid()));\n"
        "create policy projects_update on public.projects for update to authenticated using (exists (\n"
        "  select 1 from public.team_members m where m.team_id = projects.team_id and m.user_id = auth.uid()\n"
        f"  and ({test})));\n")})
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    members = load_project(tmp_path).tenancy.members
    assert (members.role_column, members.role_array) == ("roles", True)
    assert {"owner", "admin"} <= set(load_project(tmp_path).tenancy.roles)
    adoption = adopt(tmp_path, ["projects"])
    write_outputs(tmp_path, adoption.specs)
    project = load_project(tmp_path)
    access = project.tables[next(iter(project.tables))].access
    assert set(project.tenancy.levels[access["select"]]) == set(project.tenancy.roles), access
    assert set(project.tenancy.levels[access["update"]]) == {"owner", "admin"}, access


def test_domains_adopt_with_their_base_types_declared(tmp_path, capsys):
    """`create domain` types (over a base type, an enum or another domain) are declared under
    external.domains, the columns keep them, the correction leaves them alone, and the proof's
    world writes values of the base type (an enum's values through its domain)."""
    shutil.copytree(CASES / "team_no_role" / "migrations", tmp_path / "supabase" / "migrations")
    (tmp_path / "schema").mkdir()
    shutil.copy(CASES / "team_no_role/project.yaml", tmp_path / "schema/project.yaml")
    (tmp_path / "supabase/migrations/20250401000000_labels.sql").write_text(
        "create domain public.short_name as text check (length(value) <= 40);\n"
        "create type public.label_color as enum ('red', 'green');\n"
        "create domain public.color as public.label_color;\n"
        "create domain public.colors as public.color[];\n"
        "create table public.labels (id uuid primary key default gen_random_uuid(),\n"
        "  team_id uuid not null references public.teams (id) on delete cascade,\n"
        "  name public.short_name not null, color public.color not null, palette public.colors);\n"
        "create index labels_team_id_idx on public.labels (team_id);\n"
        "alter table public.labels enable row level security;\n")
    adoption = adopt(tmp_path, ["labels"])
    assert "schema/labels.yaml" in {str(p) for p in adoption.specs}, adoption.notes
    write_outputs(tmp_path, adoption.specs)
    project = load_project(tmp_path)
    assert {str(k): v for k, v in project.domains.items()} == {
        "public.short_name": "text", "public.color": "public.label_color", "public.colors": "public.color[]"}
    assert project.base_type("colors") == "public.label_color[]" and project.base_type("public.short_name") == "text"
    generation = plan_project(tmp_path, "adopt")
    assert "short_name" not in "".join(generation.migrations.values()), "the correction leaves the domains be"
    from tenantspec.testing.world import build_world

    world = build_world(project)
    labels = world.facts[next(n for n in world.facts if n.name == "labels")]
    assert labels.columns["name"] == "text" and labels.one_of.get("color") == ("red", "green")


def test_a_workspace_the_database_computes_stays_hand_written(tmp_path):
    """org_id generated from the parent row cannot become a carried column in place."""
    shutil.copytree(CASES / "team_no_role" / "migrations", tmp_path / "supabase" / "migrations")
    (tmp_path / "schema").mkdir()
    shutil.copy(CASES / "team_no_role/project.yaml", tmp_path / "schema/project.yaml")
    (tmp_path / "supabase/migrations/20250401000000_items.sql").write_text(
        "create function public.team_of(board uuid) returns uuid language sql immutable as\n"
        "  $$ select '00000000-0000-0000-0000-000000000000'::uuid $$;\n"
        "create table public.items (id uuid primary key default gen_random_uuid(),\n"
        "  board_id uuid not null references public.boards (id) on delete cascade,\n"
        "  team_id uuid generated always as (public.team_of(board_id)) stored, body text);\n"
        "create index items_board_id_idx on public.items (board_id);\n"
        "alter table public.items enable row level security;\n")
    adoption = adopt(tmp_path, [])
    assert "schema/items.yaml" not in {str(p) for p in adoption.specs}
    assert any("public.items stays hand-written" in str(n) and "generated column" in str(n)
               for n in adoption.notes), adoption.notes


def test_the_table_an_access_token_hook_reads_is_the_membership(tmp_path, capsys):
    """Tenancy kept in the JWT: policies read claims, never a table; the custom access token
    hook (EXECUTE granted to supabase_auth_admin) fills them from user_roles, whose user_id has
    no foreign key. init takes user_roles, and the roles from the hook's CASE ranking them."""
    shutil.copytree(CASES / "claims_token" / "migrations", tmp_path / "supabase" / "migrations")
    (tmp_path / "schema").mkdir()
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    tenancy = load_project(tmp_path).tenancy
    assert (tenancy.members.table.name, tenancy.members.user_column, tenancy.members.workspace_column) == \
        ("user_roles", "user_id", "tenant_id"), tenancy.members
    assert tenancy.levels == {"admin": ("admin",), "editor_or_above": ("admin", "editor"),
                              "viewer_or_above": ("admin", "editor", "viewer"),
                              "member": ("admin", "editor", "viewer", "unlisted")}, tenancy.levels
    assert (tenancy.members.claim_workspace, tenancy.members.claim_role) == ("tenant_id", "user_role")


def test_a_membership_naming_an_account_of_the_apps_own_finds_the_user_through_it(tmp_path, capsys):
    """memberships.account_id references accounts (id), whose unique auth_user_id references
    auth.users: init writes user_through, and the policies' four spellings of "the user's
    account" read as the membership they are."""
    shutil.copytree(CASES / "user_through" / "migrations", tmp_path / "supabase" / "migrations")
    (tmp_path / "schema").mkdir()
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    members = load_project(tmp_path).tenancy.members
    assert (members.table.name, members.user_column, members.role_column) == ("memberships", "account_id", "role")
    assert (members.user_through.table.name, members.user_through.key, members.user_through.user_column) == \
        ("accounts", "id", "auth_user_id"), members
    adoption = adopt(tmp_path, ["projects", "invoices"])
    assert "access: {select: member, insert: member, update: admin, delete: admin}" in \
        adoption.specs[Path("schema/projects.yaml")]
    assert "policies:" not in adoption.specs[Path("schema/invoices.yaml")]


def test_without_the_grant_to_supabase_auth_admin_no_function_is_a_hook(tmp_path, capsys):
    """Without the grant, no function fills the token from user_roles: no table keeps the
    membership as far as the migrations say, and the claims the policies read carry it alone."""
    text = "".join(path.read_text() for path in sorted((CASES / "claims_token/migrations").glob("*.sql")))
    assert "to supabase_auth_admin;" in text
    project_of(tmp_path, **{"20250101000000_app": text.replace(
        "grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;", "")})
    code, _, err = init(tmp_path, capsys)
    assert code == 0 and "no table keeps the membership" in err, err
    members = load_project(tmp_path).tenancy.members
    assert (members.table, members.claim_workspace, members.claim_role) == (None, "tenant_id", "user_role"), members


def test_a_folder_whose_policies_read_no_claim_and_no_membership_stops(tmp_path, capsys):
    project_of(tmp_path, **{"20250101000000_app": """\
create table public.todos (id uuid primary key default gen_random_uuid(), title text not null);
alter table public.todos enable row level security;
create policy "anyone" on public.todos for select to authenticated using (true);
"""})
    code, _, err = init(tmp_path, capsys)
    assert code == 2 and "no table of supabase/migrations ties a user" in err, err


def test_roles_a_policy_passes_to_a_helper_parameter_are_roles(tmp_path, capsys):
    """``role = role_name`` in the helper, ``is_org_role(org_id, 'admin')`` in the policies: the
    constants passed are roles of the text column no CHECK lists."""
    project_of(tmp_path, **{"20250101000000_app": """\
create table public.org (id integer generated always as identity primary key, name text not null);
create table public.user_orgs (
  user_id uuid not null references auth.users (id),
  org_id integer not null references public.org (id),
  role text not null,
  primary key (user_id, org_id)
);
create function public.is_org_role(oid integer, role_name text) returns boolean language sql stable
  security definer set search_path = '' as $$
  select exists (select from public.user_orgs where user_id = auth.uid() and org_id = oid and role = role_name);
$$;
create table public.accounts (id integer generated always as identity primary key,
  org_id integer not null references public.org (id), name text not null);
alter table public.accounts enable row level security;
create policy read on public.accounts for select to authenticated using (public.is_org_role(org_id, 'auditor'));
create policy write on public.accounts for insert to authenticated with check (public.is_org_role(org_id, 'manager'::text));
"""})
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    assert set(load_project(tmp_path).tenancy.roles) == {"auditor", "manager", "unlisted"}, err


def test_roles_kept_as_ids_of_a_roles_table_are_read_by_their_names(tmp_path, capsys):
    """``role_id int references roles (id)``, the ids stated in the inserts and ranked by a
    level column: init writes role_values, orders the roles by rank, and adopt reads
    ``role_id = 10`` and ``role_id <> 30`` as the roles those ids stand for."""
    project_of(tmp_path, **{"20250101000000_app": """\
create table public.org (id uuid primary key default gen_random_uuid(), name text not null);
create table public.roles (id integer primary key, label text not null unique, level integer not null);
insert into public.roles (id, label, level) values (30, 'viewer', 3), (10, 'boss', 1), (20, 'clerk', 2);
create table public.org_members (
  user_id uuid not null references auth.users (id),
  org_id uuid not null references public.org (id),
  role_id integer not null references public.roles (id),
  primary key (user_id, org_id)
);
create table public.ledgers (id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.org (id), name text not null);
alter table public.ledgers enable row level security;
create policy read on public.ledgers for select to authenticated using (exists (
  select 1 from public.org_members m where m.org_id = ledgers.org_id and m.user_id = auth.uid()));
create policy write on public.ledgers for insert to authenticated with check (exists (
  select 1 from public.org_members m where m.org_id = ledgers.org_id and m.user_id = auth.uid() and m.role_id <> 30));
create policy wipe on public.ledgers for delete to authenticated using (exists (
  select 1 from public.org_members m where m.org_id = ledgers.org_id and m.user_id = auth.uid() and m.role_id = 10));
"""})
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    members = load_project(tmp_path).tenancy.members
    assert members.role_values == (("boss", 10), ("clerk", 20), ("viewer", 30)), members
    assert load_project(tmp_path).tenancy.levels == {
        "boss": ("boss",), "clerk_or_above": ("boss", "clerk"), "member": ("boss", "clerk", "viewer")}
    spec = adopt(tmp_path, ["ledgers"]).specs[Path("schema/ledgers.yaml")]
    assert "access: {select: member, insert: clerk_or_above, update: nobody, delete: boss}" in spec and "policies:" not in spec, spec


def test_ids_a_roles_table_leaves_to_its_sequence_are_not_guessed_when_a_row_states_one(tmp_path, capsys):
    """One insert states its id and the other leaves it to the sequence: the ids are unknown,
    so the roles are not read from that table."""
    project_of(tmp_path, **{"20250101000000_app": """\
create table public.org (id uuid primary key default gen_random_uuid(), name text not null);
create table public.roles (id serial primary key, name text not null);
insert into public.roles (id, name) values (1, 'admin');
insert into public.roles (name) values ('member');
create table public.org_members (
  user_id uuid not null references auth.users (id),
  org_id uuid not null references public.org (id),
  role_id integer not null references public.roles (id),
  primary key (user_id, org_id)
);
create table public.ledgers (id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.org (id), name text not null);
alter table public.ledgers enable row level security;
create policy read on public.ledgers for select to authenticated using (exists (
  select 1 from public.org_members m where m.org_id = ledgers.org_id and m.user_id = auth.uid() and m.role_id = 1));
"""})
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    assert load_project(tmp_path).tenancy.members.role_values == (), err


def test_names_in_upper_or_mixed_case_adopt_as_postgresql_keeps_them(tmp_path, capsys):
    """Quoted names keep their case: an enum ``app."teamRoles"``, columns ``"teamId"``, a table
    ``"Documents"``. The project file and spec name them as they are, the generated SQL quotes
    them, and a second generate writes nothing."""
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    (tmp_path / "supabase" / "migrations" / "20250101000000_app.sql").write_text("""\
create schema app;
create type app."teamRoles" as enum ('OWNER', 'MEMBER');
create table app.teams (id uuid primary key default gen_random_uuid(), "teamName" text not null);
create table app.users_on_team (
  "userId" uuid not null references auth.users (id),
  "teamId" uuid not null references app.teams (id),
  role app."teamRoles" not null default 'MEMBER',
  primary key ("userId", "teamId")
);
create table app."Documents" (id uuid primary key default gen_random_uuid(),
  "teamId" uuid not null references app.teams (id), "Title" text not null);
create index on app."Documents" ("teamId");
alter table app."Documents" enable row level security;
grant usage on schema app to authenticated, service_role;
grant select, insert on app."Documents" to authenticated;
grant all on app."Documents" to service_role;
create policy "team reads" on app."Documents" for select to authenticated using (
  exists (select 1 from app.users_on_team m where m."teamId" = "Documents"."teamId" and m."userId" = auth.uid()));
create policy "owners write" on app."Documents" for insert to authenticated with check (
  exists (select 1 from app.users_on_team m where m."teamId" = "Documents"."teamId" and m."userId" = auth.uid()
          and m.role = 'OWNER'));
""")
    (tmp_path / "schema").mkdir()
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    project = (tmp_path / "schema/project.yaml").read_text()
    assert "workspace_column: teamId" in project and 'role: app."teamRoles"' in project, project
    assert main(["--root", str(tmp_path), "adopt"]) == 0, capsys.readouterr().err
    spec = (tmp_path / "schema/Documents.yaml").read_text()
    assert "access: {select: member, insert: owner, update: nobody, delete: nobody}" in spec, spec
    (path, sql), = plan_project(tmp_path, "adopt").migrations.items()
    assert 'create policy "Documents_select" on app."Documents"' in sql and \
        'using ("teamId" = any (array(select private.member_workspace_ids())))' in sql, sql
    assert "m.role in ('OWNER')" in sql, sql
    write_outputs(tmp_path, plan_project(tmp_path, "adopt").outputs)
    assert plan_project(tmp_path, None).plan.empty


@pytest.mark.parametrize("body, level", [
    ("select case when exists (select from public.org_members where user_id = auth.uid() and org_id = o) "
     "then true else false end", "member"),
    ("select case when exists (select from public.org_members where user_id = auth.uid() and org_id = o "
     "and role = 'owner') then true end", "owner"),
])
def test_a_case_answering_true_or_false_is_read_as_its_test(tmp_path, capsys, body, level):
    text = HELPERS + f"""\
create function public.in_org(o uuid) returns boolean language sql security definer set search_path = '' as $$
{body}
$$;
create policy "add" on public.docs for insert to authenticated with check (public.in_org(org_id));
"""
    project_of(tmp_path, **{"20250101000000_app": text})
    assert init(tmp_path, capsys)[0] == 0
    spec = adopt(tmp_path, ["docs"]).specs[Path("schema/docs.yaml")]
    assert f"insert: {level}," in spec and "policies:" not in spec, spec


def test_a_case_with_another_fallback_is_not_read_as_its_test(tmp_path, capsys):
    text = HELPERS + """\
create function public.in_org(o uuid) returns boolean language sql security definer set search_path = '' as $$
select case when exists (select from public.org_members where user_id = auth.uid() and org_id = o) then true
  else (select count(*) > 0 from public.orgs) end
$$;
create policy "add" on public.docs for insert to authenticated with check (public.in_org(org_id));
"""
    project_of(tmp_path, **{"20250101000000_app": text})
    assert init(tmp_path, capsys)[0] == 0
    spec = adopt(tmp_path, ["docs"]).specs[Path("schema/docs.yaml")]
    assert "name: add" in spec and "insert: nobody" in spec, spec


OWNED = """\
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null,
  {owner} uuid not null default auth.uid() references auth.users (id));
create table public.team_members (
  team_id uuid not null references public.teams (id),
  user_id uuid not null references auth.users (id),
  role text not null check (role in ('owner', 'member')),
  primary key (team_id, user_id)
);
create table public.docs (id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id), title text not null);
alter table public.docs enable row level security;
create policy "read" on public.docs for select to authenticated using (
  exists (select 1 from public.team_members m where m.team_id = docs.team_id and m.user_id = auth.uid())
  or exists (select 1 from public.teams t where t.id = docs.team_id and {test}));
"""


def test_an_owner_column_the_policies_test_is_a_role_of_its_own(tmp_path, capsys):
    """The members already have an `owner` role: the column's role is named after the column,
    sits above the members, and a policy letting in members or the team's creator maps."""
    project_of(tmp_path, **{"20250101000000_app": OWNED.format(owner="created_by", test="t.created_by = auth.uid()")})
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    tenancy = load_project(tmp_path).tenancy
    assert (tenancy.owner_column, tenancy.owner_role) == ("created_by", "created_by"), err
    assert tenancy.roles[0] == "created_by" and set(tenancy.membership_roles) == {"owner", "member"}
    spec = adopt(tmp_path, ["docs"]).specs[Path("schema/docs.yaml")]
    assert "select: member," in spec and "policies:" not in spec, spec


def test_an_owner_column_no_policy_tests_is_no_role(tmp_path, capsys):
    project_of(tmp_path, **{"20250101000000_app": OWNED.format(owner="created_by", test="false")})
    assert init(tmp_path, capsys)[0] == 0
    assert load_project(tmp_path).tenancy.owner_column is None


def test_another_tables_own_creator_column_says_nothing_of_the_workspaces_owner(tmp_path, capsys):
    """The teams table has created_by and owned_by; the policies let in a doc's own creator
    (docs.created_by = auth.uid(), many times) and the team's owner (t.owned_by, once): the
    owner column is owned_by, read where the teams table is read."""
    text = OWNED.format(owner="owned_by", test="t.owned_by = auth.uid()").replace(
        "  owned_by uuid not null", "  created_by uuid references auth.users (id),\n  owned_by uuid not null").replace(
        "team_id uuid not null references public.teams (id), title text not null);",
        "team_id uuid not null references public.teams (id), title text not null,\n"
        "  created_by uuid not null default auth.uid() references auth.users (id));")
    text += "".join(f'create policy "own {c}" on public.docs for {c} to authenticated using (created_by = auth.uid());\n'
                    for c in ("update", "delete"))
    project_of(tmp_path, **{"20250101000000_app": text})
    code, _, err = init(tmp_path, capsys)
    assert code == 0, err
    assert load_project(tmp_path).tenancy.owner_column == "owned_by", err


def test_a_grandchild_of_the_workspace_adopts_carrying_it_down(tmp_path, capsys):
    """agents -> sessions -> projects -> orgs, all adopted at once: sessions carries org_id from
    projects and agents from sessions (whose column the adoption adds); agents' index on its
    parent key gives way to the carried key's, and the correction converges."""
    project_of(tmp_path, **{"20250101000000_app": """\
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (
  org_id uuid not null references public.orgs (id),
  user_id uuid not null references auth.users (id),
  role text not null check (role in ('owner', 'member')),
  primary key (org_id, user_id)
);
create table public.projects (id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id), name text not null);
create index projects_org_idx on public.projects (org_id);
create table public.sessions (id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade, started timestamptz not null);
create table public.agents (id uuid primary key default gen_random_uuid(),
  session_id uuid not null references public.sessions (id) on delete cascade, name text not null);
create index agents_session_idx on public.agents (session_id);
alter table public.projects enable row level security;
create policy "members read" on public.projects for select to authenticated using (
  exists (select 1 from public.org_members m where m.org_id = projects.org_id and m.user_id = auth.uid()));
"""})
    assert init(tmp_path, capsys)[0] == 0
    assert main(["--root", str(tmp_path), "adopt"]) == 0, capsys.readouterr().err
    project = load_project(tmp_path)
    assert project.tables["sessions"].tenancy.parent == "project_id"
    agents = project.tables["agents"].tenancy
    assert (agents.parent, agents.strategy, agents.carried) == ("session_id", "carried", "org_id"), agents
    write_outputs(tmp_path, plan_project(tmp_path, "adopt").outputs)
    assert plan_project(tmp_path, None).plan.empty


def test_a_nullable_workspace_column_adopts_and_rows_of_no_workspace_stay_service_roles(tmp_path, capsys):
    """organization_id may be null (rows of no organization): the table adopts with nullable,
    its child reaches the workspace through it (exists: a null cannot be carried); a table whose
    policies let a row's user in wherever the row lies, and test nothing else, is per-user."""
    project_of(tmp_path, **{"20250101000000_app": """\
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (
  org_id uuid not null references public.orgs (id),
  user_id uuid not null references auth.users (id),
  role text not null check (role in ('owner', 'member')),
  primary key (org_id, user_id)
);
create table public.accounts (id uuid primary key default gen_random_uuid(),
  organization_id uuid references public.orgs (id), name text not null);
create index accounts_org_idx on public.accounts (organization_id);
create table public.entries (id uuid primary key default gen_random_uuid(),
  account_id uuid not null references public.accounts (id) on delete cascade, amount numeric not null);
create index entries_account_idx on public.entries (account_id);
create table public.notices (id uuid primary key default gen_random_uuid(),
  organization_id uuid references public.orgs (id), user_id uuid not null references auth.users (id),
  body text not null);
create index notices_org_idx on public.notices (organization_id);
create index notices_user_idx on public.notices (user_id);
alter table public.accounts enable row level security;
alter table public.entries enable row level security;
alter table public.notices enable row level security;
create policy "members" on public.accounts for select to authenticated using (
  exists (select 1 from public.org_members m where m.org_id = accounts.organization_id and m.user_id = auth.uid()));
create policy "members" on public.entries for select to authenticated using (
  exists (select 1 from public.accounts a join public.org_members m on m.org_id = a.organization_id
          where a.id = entries.account_id and m.user_id = auth.uid()));
create policy "mine" on public.notices for select to authenticated using (user_id = auth.uid());
"""})
    assert init(tmp_path, capsys)[0] == 0
    assert main(["--root", str(tmp_path), "adopt"]) == 0
    err = capsys.readouterr().err
    project = load_project(tmp_path)
    accounts, entries = project.tables["accounts"], project.tables["entries"]
    assert (accounts.tenancy.column, accounts.tenancy.nullable) == ("organization_id", True)
    assert accounts.access["select"] == "member", accounts.access
    assert (entries.tenancy.parent, entries.tenancy.strategy) == ("account_id", "exists"), entries.tenancy
    assert entries.access["select"] == "member", entries.access
    # `user_id = auth.uid()` alone lets a user in on the rows naming them, whichever
    # organization they name or none: the row is its user's (a per-user table)
    notices = project.tables["notices"]
    assert (notices.tenancy.user, notices.tenancy.workspace_column, notices.own_level("select")) == \
        ("user_id", None, "own"), (notices.tenancy, notices.access)
    assert not notices.policies, err
    write_outputs(tmp_path, plan_project(tmp_path, "adopt").outputs)
    assert plan_project(tmp_path, None).plan.empty


def test_a_member_of_a_role_no_policy_names_keeps_what_every_member_had(tmp_path, capsys):
    """The roles come from what the policies compare: a member holding another value (say
    'client') passed "read accounts" before. The level of every role tests no role, so the
    correction keeps that; the level of some roles tests them."""
    project_of(tmp_path, **{"20250719000000_schema": ROLE_BY_POLICY})
    assert init(tmp_path, capsys)[0] == 0
    adoption = adopt(tmp_path, ["accounts"])
    write_outputs(tmp_path, adoption.specs)
    assert "access: {select: member, insert: nobody, update: admin_or_above, delete: nobody}" in \
        adoption.specs[Path("schema/accounts.yaml")]
    (path, sql), = plan_project(tmp_path, "adopt").migrations.items()
    member = sql[sql.index("function private.member_workspace_ids()"):].split("$$;")[0]
    admin = sql[sql.index("function private.admin_or_above_workspace_ids()"):].split("$$;")[0]
    assert "m.role" not in member and "m.role in ('owner', 'admin')" in admin, sql


@pytest.mark.parametrize("join, level", [
    ("join public.projects p on p.org_id = m.org_id where p.id = tasks.project_id", "member"),
    ("join public.projects p on p.org_id = m.org_id where p.id = tasks.project_id and m.role = 'owner'", "owner"),
    # a join that may pick either of two projects says no single workspace
    ("join public.projects p on p.org_id = m.org_id or p.id = tasks.other_project_id where p.id = tasks.project_id",
     None),
])
def test_the_user_among_the_members_reached_through_joins_maps(tmp_path, capsys, join, level):
    """``auth.uid() in (select m.user_id from members m join parent ... where parent.id = row.fk)``
    reads as the ``exists`` it amounts to."""
    project_of(tmp_path, **{"20250101000000_app": f"""\
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (
  org_id uuid not null references public.orgs (id),
  user_id uuid not null references auth.users (id),
  role text not null check (role in ('owner', 'member')),
  primary key (org_id, user_id)
);
create table public.projects (id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id), name text not null);
create index projects_org_idx on public.projects (org_id);
create table public.tasks (id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id), other_project_id uuid, title text not null);
create index tasks_project_idx on public.tasks (project_id);
alter table public.tasks enable row level security;
create policy "read" on public.tasks for select to authenticated using (
  (select auth.uid()) in (select m.user_id from public.org_members m {join}));
"""})
    assert init(tmp_path, capsys)[0] == 0
    spec = adopt(tmp_path, ["tasks"]).specs[Path("schema/tasks.yaml")]
    if level is None:
        assert "select: nobody" in spec and "name: read" in spec, spec
    else:
        assert f"select: {level}," in spec and "policies:" not in spec, spec


def test_a_required_column_a_check_lists_is_seeded_with_a_listed_value(tmp_path, capsys):
    """The tenant table's required `status` may only hold what its CHECK lists: the seed the
    proof writes it with is the first of those, not a label the CHECK refuses."""
    project_of(tmp_path, **{"20250101000000_app": """\
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null,
  status text not null check (status in ('trial', 'active', 'closed')));
create table public.org_members (
  org_id uuid not null references public.orgs (id),
  user_id uuid not null references auth.users (id),
  role text not null check (role in ('owner', 'member')),
  primary key (org_id, user_id)
);
"""})
    assert init(tmp_path, capsys)[0] == 0
    text = (tmp_path / "schema/project.yaml").read_text()
    assert 'seed: {name: "orgs name {label}", status: trial}' in text, text


def test_a_column_renamed_inside_execute_keeps_its_table_hand_written(tmp_path, capsys):
    """A rename run through EXECUTE of SQL built at run time is not replayed, so a later
    foreign key names a column the replayed table lacks: that table's columns are not known,
    so it stays hand-written, and adoption goes on without a traceback."""
    project_of(tmp_path, **{"20250101000000_app": """\
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (
  org_id uuid not null references public.orgs (id),
  user_id uuid not null references auth.users (id),
  role text not null check (role in ('owner', 'member')),
  primary key (org_id, user_id)
);
create table public.sites (id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id), name text not null);
create table public.leases (id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id), "siteId" uuid);
do $$ begin execute format('alter table public.leases rename column %I to site_id', current_setting('app.old')); end $$;
alter table public.leases add constraint leases_site_fkey foreign key (site_id) references public.sites (id);
alter table public.leases enable row level security;
create policy "members" on public.leases for select to authenticated using (
  exists (select 1 from public.org_members m where m.org_id = leases.org_id and m.user_id = auth.uid()));
"""})
    assert init(tmp_path, capsys)[0] == 0
    code = main(["--root", str(tmp_path), "adopt"])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err, err
    assert "public.leases stays hand-written: foreign key leases_site_fkey names site_id, a column the " \
           "migrations never make as tenantspec reads them" in err, err
    assert (tmp_path / "schema/sites.yaml").is_file() and not (tmp_path / "schema/leases.yaml").exists()
