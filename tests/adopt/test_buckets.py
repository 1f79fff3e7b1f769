"""Buckets adopted from hand-written migrations: one whose policies say the user's own folder
becomes a bucket spec whose generated policies replace them, taking nothing away; one whose
policies say more (public reads, a helper of the app's) stays as written, with the reason."""

from __future__ import annotations

from tenantspec.cli import main
from tenantspec.plan.pipeline import plan_project
from tenantspec.plan.review import access_changes, narrowings
from tenantspec.spec.load import load_project

TEAMS = """\
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null);
create table public.team_members (
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'member' check (role in ('owner', 'member')),
  primary key (team_id, user_id)
);
create index team_members_user_id_idx on public.team_members (user_id);
alter table public.teams enable row level security;
alter table public.team_members enable row level security;
create policy "members read their teams" on public.teams for select to authenticated
  using (id in (select team_id from public.team_members where user_id = (select auth.uid())));
create policy "members read their memberships" on public.team_members for select to authenticated
  using (user_id = (select auth.uid()));
create table public.notes (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  body text not null
);
create index notes_team_id_idx on public.notes (team_id);
alter table public.notes enable row level security;
create policy "members read notes" on public.notes for select to authenticated
  using (team_id in (select team_id from public.team_members where user_id = (select auth.uid())));
"""

# Supabase's docs write a user's avatar folder this way; the logos bucket lets anyone read.
STORAGE = """\
insert into storage.buckets (id, name, public, file_size_limit) values ('avatars', 'avatars', true, 1048576);
create policy "Avatar owners read theirs" on storage.objects for select
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = auth.uid()::text);
create policy "Users upload their avatar" on storage.objects for insert to authenticated
  with check (bucket_id = 'avatars' and (select auth.uid())::text = (storage.foldername(name))[1]);
create policy "Users replace their avatar" on storage.objects for update to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = auth.uid()::text);
create policy "Users delete their avatar" on storage.objects for delete to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = auth.uid()::text);

insert into storage.buckets (id, name, public) values ('logos', 'logos', true);
create policy "Anyone reads logos" on storage.objects for select using (bucket_id = 'logos');
"""


def test_a_bucket_of_the_users_own_folders_adopts_and_its_correction_takes_nothing_away(tmp_path, capsys):
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20260101000000_teams.sql").write_text(TEAMS)
    (migrations / "20260102000000_storage.sql").write_text(STORAGE)
    (tmp_path / "schema").mkdir()
    assert main(["--root", str(tmp_path), "adopt", "--init"]) == 0
    assert main(["--root", str(tmp_path), "adopt"]) == 0
    err = capsys.readouterr().err
    assert "storage bucket avatars: adopted (select: own, insert: own, update: own, delete: own)" in err
    assert "storage bucket logos stays as written: policy 'Anyone reads logos' says what no rule says" in err
    avatars = load_project(tmp_path).buckets["avatars"]
    assert (avatars.folder, avatars.public, avatars.file_size_limit) == ("user", True, 1048576)
    assert avatars.replaces == ("Avatar owners read theirs", "Users delete their avatar", "Users replace their avatar",
                                "Users upload their avatar")
    generation = plan_project(tmp_path)
    summaries = [step.summary for step in generation.plan.steps if step.summary.startswith("storage")]
    assert "storage: drop policy Users upload their avatar (replaced by its bucket's generated policies)" in summaries
    assert "storage: policy avatars_insert (insert)" in summaries
    assert not any("logos" in s for s in summaries), "the logos bucket is left as it was"
    assert not [c for c in access_changes(generation) if c.table.startswith("bucket ")], "own before, own after"
    assert narrowings(generation) == []
    assert main(["--root", str(tmp_path), "generate"]) == 0
    assert main(["--root", str(tmp_path), "db", "apply"]) == 0
    capsys.readouterr()
    assert main(["--root", str(tmp_path), "generate"]) == 0
    assert capsys.readouterr().out.strip().endswith("up to date")
