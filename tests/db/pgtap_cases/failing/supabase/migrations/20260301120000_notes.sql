-- A team's notes: members read them, only their author edits one.
create table public.teams (
  id uuid primary key default gen_random_uuid(),
  name text not null
);

create table public.team_members (
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  primary key (team_id, user_id)
);

create table public.notes (
  id bigint generated always as identity primary key,
  team_id uuid not null references public.teams (id) on delete cascade,
  author_id uuid not null default auth.uid() references auth.users (id),
  body text not null
);

alter table public.teams enable row level security;
alter table public.team_members enable row level security;
alter table public.notes enable row level security;

create policy "members read their team's notes" on public.notes for select to authenticated
  using (team_id in (select team_id from public.team_members where user_id = (select auth.uid())));
create policy "authors write their own notes" on public.notes for insert to authenticated
  with check (author_id = (select auth.uid())
              and team_id in (select team_id from public.team_members where user_id = (select auth.uid())));
create policy "members see their memberships" on public.team_members for select to authenticated
  using (user_id = (select auth.uid()));

grant select, insert on public.notes to authenticated;
grant select on public.team_members to authenticated;
