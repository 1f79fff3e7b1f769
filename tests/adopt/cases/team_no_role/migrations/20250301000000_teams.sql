-- Teams and who is in them: every member of a team may do the same things.
create table public.teams (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  created_at timestamptz not null default now()
);

-- Invitations go out by email; the inviter is a user.
create table public.team_invites (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  email text not null,
  invited_by uuid not null references auth.users (id),
  created_at timestamptz not null default now()
);

-- No role: a member is a member.
create table public.team_users (
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null,
  joined_at timestamptz not null default now(),
  primary key (team_id, user_id)
);

create or replace function public.is_team_member(p_team_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.team_users tu
    where tu.team_id = p_team_id and tu.user_id = (select auth.uid())
  );
$$;

alter table public.teams enable row level security;
alter table public.team_users enable row level security;
alter table public.team_invites enable row level security;

create policy "Members see their teams" on public.teams
  for select to authenticated using ((select public.is_team_member(id)));
create policy "Members see who is in their teams" on public.team_users
  for select to authenticated using ((select public.is_team_member(team_id)));
create policy "Members see invitations" on public.team_invites
  for select to authenticated using ((select public.is_team_member(team_id)));
create policy "Members invite" on public.team_invites
  for insert to authenticated with check ((select public.is_team_member(team_id)));

revoke execute on function public.is_team_member(uuid) from public, anon;
grant execute on function public.is_team_member(uuid) to authenticated;
revoke truncate, references, trigger on public.teams, public.team_users from anon, authenticated, service_role;
