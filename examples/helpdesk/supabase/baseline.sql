-- Teams and their members, from before the helpdesk's migrations.
create table public.teams (
  id uuid primary key default gen_random_uuid(),
  name text not null
);

create table public.team_members (
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('lead', 'support')),
  primary key (team_id, user_id)
);

create index team_members_user_id_idx on public.team_members (user_id);

alter table public.teams enable row level security;
alter table public.team_members enable row level security;
revoke all on table public.teams, public.team_members from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.teams, public.team_members to service_role;
