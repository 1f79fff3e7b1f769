-- What the forum had before these migrations: teams, their members, the feature flags, and
-- the trigger function that logs comments to the team's feed and keeps a topic's count.

create table public.teams (
  id uuid primary key default gen_random_uuid(),
  name text not null
);

create table public.team_members (
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('moderator', 'writer')),
  primary key (team_id, user_id)
);

create index team_members_user_id_idx on public.team_members (user_id);

create table public.features (
  name text primary key,
  enabled boolean not null default false
);

insert into public.features (name, enabled) values ('reactions', true);

create function public.feature_enabled(feature text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((select f.enabled from public.features as f where f.name = feature), false)
$$;

alter table public.teams enable row level security;
alter table public.team_members enable row level security;
alter table public.features enable row level security;

create policy teams_select on public.teams for select to authenticated
  using (id in (select m.team_id from public.team_members m where m.user_id = (select auth.uid())));

create policy team_members_select on public.team_members for select to authenticated
  using (user_id = (select auth.uid()));

revoke all on table public.teams, public.team_members, public.features
  from public, anon, authenticated, service_role;
grant select on table public.teams, public.team_members to authenticated;
grant select, insert, update, delete on table public.teams, public.team_members, public.features to service_role;

-- The team's activity feed, written by triggers only.
create table public.team_activity (
  id bigint generated always as identity primary key,
  team_id uuid not null references public.teams (id) on delete cascade,
  actor_id uuid,
  what text not null,
  at timestamptz not null default now()
);

create index team_activity_team_id_idx on public.team_activity (team_id);

alter table public.team_activity enable row level security;
revoke all on table public.team_activity from public, anon, authenticated, service_role;
grant select on table public.team_activity to service_role;

create function public.log_comment_activity()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.team_activity (team_id, actor_id, what) values (new.team_id, auth.uid(), 'commented');
    update public.topics set comments = comments + 1 where id = new.topic_id;
    return new;
  end if;
  update public.topics set comments = comments - 1 where id = old.topic_id;
  -- A comment removed with its team leaves no trace: the team's feed goes with it.
  insert into public.team_activity (team_id, actor_id, what)
  select t.id, auth.uid(), 'removed a comment' from public.teams as t where t.id = old.team_id;
  return old;
end
$$;

revoke execute on function public.log_comment_activity() from public, anon, authenticated;
