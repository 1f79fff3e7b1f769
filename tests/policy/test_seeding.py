"""The proof's world on a real server, where the app's own triggers act while it is seeded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tenantspec.cli import main

ROOT = Path(__file__).resolve().parents[2]

PROFILES = """-- a profile for every new user, made by the app's trigger on auth.users
create table public.profiles (id uuid primary key references auth.users (id) on delete cascade,
  display_name text not null);
alter table public.profiles enable row level security;
grant select on public.profiles to service_role;
create function public.handle_new_user() returns trigger language plpgsql security definer
set search_path = '' as $$
begin
  insert into public.profiles (id, display_name) values (new.id, 'new user');
  return new;
end $$;
revoke execute on function public.handle_new_user() from public, anon, authenticated;
create trigger on_auth_user_created after insert on auth.users
  for each row execute function public.handle_new_user();
"""


def test_a_row_a_trigger_made_while_seeding_takes_the_worlds_values(tmp_path, capsys):
    assert main(["--root", str(tmp_path), "init", "--workspaces", "teams", "--roles", "owner,member",
                 "--table", "projects"]) == 0
    last = sorted((tmp_path / "supabase/migrations").glob("*.sql"))[-1]
    version = int(last.name.split("_")[0]) + 1  # after init's, before the column generate adds next
    (last.parent / f"{version}_profiles.sql").write_text(PROFILES)
    project = tmp_path / "schema/project.yaml"
    project.write_text(project.read_text().replace(
        "  functions:\n",
        "    profiles:\n      columns: {id: uuid, display_name: text}\n"
        "      seed: {id: '{user}', display_name: 'Name {label}'}\n  functions:\n", 1))
    spec = tmp_path / "schema/projects.yaml"
    spec.write_text(spec.read_text().replace(
        "columns:\n", "columns:\n  author_id: {type: uuid, references: {table: profiles, on_delete: set null}}\n", 1
    ).replace("indexes:\n", "indexes:\n  - columns: [author_id]\n", 1))
    (tmp_path / "tests/policy/cases").mkdir(parents=True)
    (tmp_path / "tests/policy/cases/profiles.yaml").write_text(
        "# the seeded profiles hold the world's values, not the trigger's\n"
        "- case: profiles carry the world's names\n"
        "  as: service_role\n"
        "  steps:\n"
        "    - sql: >-\n"
        "        select count(*) > 0 and count(*) = count(*) filter (where display_name like 'Name %%')\n"
        "        from public.profiles\n"
        "      returns: [[true]]\n")
    capsys.readouterr()
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr()
    result = subprocess.run([sys.executable, "-m", "tenantspec", "prove", "--", "-q", "-k", "test_case"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "generator"), "TENANTSPEC_PRIVILEGES": "2026"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "the project's case files" in result.stdout


PLANS = """-- every new team starts on the launch plan, a row of a table no migration fills
create table public.tiers (name text primary key{limits});
create table public.team_plans (team_id uuid primary key references public.teams (id) on delete cascade,
  tier text not null references public.tiers (name));
create function public.start_plan() returns trigger language plpgsql security definer
set search_path = '' as $$
begin
  insert into public.team_plans (team_id, tier) values (new.id, 'launch');
  return new;
end $$;
revoke execute on function public.start_plan() from public, anon, authenticated;
create trigger on_team_created after insert on public.teams for each row execute function public.start_plan();
"""


def test_a_trigger_that_cannot_write_while_seeding_is_named_with_the_table_it_wrote(tmp_path, capsys):
    assert main(["--root", str(tmp_path), "init", "--workspaces", "teams", "--roles", "owner,member",
                 "--table", "projects"]) == 0
    last = sorted((tmp_path / "supabase/migrations").glob("*.sql"))[-1]
    # a tier's limits are a range, of which the world makes no value: the lookup row cannot be made
    (last.parent / f"{int(last.name.split('_')[0]) + 1}_plans.sql").write_text(
        PLANS.replace("{limits}", ", seats int4range not null"))
    capsys.readouterr()
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr()
    result = subprocess.run([sys.executable, "-m", "tenantspec", "prove", "--", "-q", "-x"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "generator"), "TENANTSPEC_PRIVILEGES": "2026"})
    assert result.returncode != 0
    assert "creating a row of public.teams" in result.stdout
    assert ("The row of public.team_plans was written by a trigger of public.teams (or a function it calls)"
            in result.stdout), result.stdout[-3000:]
    assert "external.tables.public.teams.seed" not in result.stdout, "the seed of teams is not what is missing"


AUDIT = """-- every new project is logged under the name of the user who made it
create table public.project_log (project_id uuid not null, made_by text not null);
grant select on public.project_log to service_role;
alter table public.project_log enable row level security;
create function public.log_project() returns trigger language plpgsql security definer
set search_path = '' as $$
declare
  maker record;
begin
  if auth.uid() is not null then
    select p.display_name into maker from public.profiles p where p.id = auth.uid();
  end if;
  -- the record is unassigned without a signed-in user: server code cannot make projects
  insert into public.project_log (project_id, made_by) values (new.id, maker.display_name);
  return new;
end $$;
revoke execute on function public.log_project() from public, anon, authenticated;
"""


def test_a_row_a_trigger_writes_only_for_a_signed_in_user_is_seeded_as_a_member(tmp_path, capsys):
    """A trigger reading the signed-in user's profile fails for rows written with no user;
    the world writes such a row as a member of its workspace would through the API, and the
    proof goes on to find that server code cannot make one."""
    assert main(["--root", str(tmp_path), "init", "--workspaces", "teams", "--roles", "owner,member",
                 "--table", "projects"]) == 0
    migrations = sorted((tmp_path / "supabase/migrations").glob("*.sql"))
    version = int(migrations[-1].name.split("_")[0]) + 1
    (migrations[-1].parent / f"{version}_profiles_log.sql").write_text(
        PROFILES + AUDIT + "create trigger projects_log after insert on public.projects\n"
                           "  for each row execute function public.log_project();\n")
    project = tmp_path / "schema/project.yaml"
    project.write_text(project.read_text().replace("  functions:\n", "  functions:\n    - log_project()\n", 1))
    spec = tmp_path / "schema/projects.yaml"
    spec.write_text(spec.read_text() + "triggers:\n  - {name: projects_log, timing: after, events: [insert], "
                                       "function: log_project}\n")
    capsys.readouterr()
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr()
    result = subprocess.run([sys.executable, "-m", "tenantspec", "prove", "--", "-q", "-k", "probes_surface"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "generator"), "TENANTSPEC_PRIVILEGES": "2026"})
    assert "could not be built" not in result.stdout, result.stdout[-3000:]
    # seeded, the proof runs, and finds what the trigger does to server code (no user): it fails
    assert result.returncode == 1, result.stdout[-3000:]
    assert "projects: service_role: insert a row into A  expected 1 row, got error 55000" in result.stdout


def test_a_lookup_row_a_trigger_needs_and_no_migration_inserts_is_made_while_seeding(tmp_path, capsys):
    """The new team's plan references tier 'launch', which the app's seed file would add: the
    world adds it (its key, other required columns by type) and the proof runs."""
    assert main(["--root", str(tmp_path), "init", "--workspaces", "teams", "--roles", "owner,member",
                 "--table", "projects"]) == 0
    last = sorted((tmp_path / "supabase/migrations").glob("*.sql"))[-1]
    (last.parent / f"{int(last.name.split('_')[0]) + 1}_plans.sql").write_text(
        PLANS.replace("{limits}", ", seats integer not null"))
    capsys.readouterr()
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr()
    result = subprocess.run([sys.executable, "-m", "tenantspec", "prove", "--", "-q", "-k", "probes_surface"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "generator"), "TENANTSPEC_PRIVILEGES": "2026"})
    assert "could not be built" not in result.stdout, result.stdout[-3000:]
    assert result.returncode == 0, result.stdout[-3000:]


def test_a_role_one_member_a_workspace_holds_is_seeded_once_a_workspace(tmp_path, capsys):
    """`unique (team_id) where role = 'owner'`: with `sole_role: owner` the world gives each
    team one owner and no user owns two; without it seeding meets the index."""
    assert main(["--root", str(tmp_path), "init", "--workspaces", "teams", "--roles", "owner,member",
                 "--table", "projects"]) == 0
    last = sorted((tmp_path / "supabase/migrations").glob("*.sql"))[-1]
    (last.parent / f"{int(last.name.split('_')[0]) + 1}_owners.sql").write_text(
        "create unique index one_owner_per_team on public.team_members (team_id) where role = 'owner';\n")
    capsys.readouterr()
    assert main(["--root", str(tmp_path), "generate"]) == 0, capsys.readouterr()

    def prove():
        return subprocess.run([sys.executable, "-m", "tenantspec", "prove", "--", "-q", "-k", "probes_surface"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "generator"),
                                   "TENANTSPEC_PRIVILEGES": "2026"})

    result = prove()
    assert result.returncode != 0 and "one_owner_per_team" in result.stdout, result.stdout[-3000:]
    project = tmp_path / "schema/project.yaml"
    project.write_text(project.read_text().replace("    role_column: role\n",
                                                   "    role_column: role\n    sole_role: owner\n", 1))
    result = prove()
    assert result.returncode == 0, result.stdout[-3000:]
