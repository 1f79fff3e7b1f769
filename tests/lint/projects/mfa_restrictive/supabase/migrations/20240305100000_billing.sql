-- Teams, their members, and invoices only a member with a second factor may touch.
create schema if not exists private;
grant usage on schema private to authenticated;

create table public.teams (
  id bigint generated always as identity primary key,
  name text not null
);

create table public.team_members (
  team_id bigint not null references public.teams (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  primary key (team_id, user_id)
);
create index team_members_user_id_idx on public.team_members (user_id);

create function private.my_team_ids()
returns setof bigint
language sql stable security definer
set search_path = ''
as $$
  select tm.team_id from public.team_members tm where tm.user_id = (select auth.uid())
$$;
revoke execute on function private.my_team_ids() from public, anon;
grant execute on function private.my_team_ids() to authenticated;

create table public.invoices (
  id bigint generated always as identity primary key,
  team_id bigint not null references public.teams (id) on delete cascade,
  amount_cents integer not null check (amount_cents >= 0),
  issued_at timestamptz not null default now()
);
create index invoices_team_id_idx on public.invoices (team_id);

alter table public.teams enable row level security;
alter table public.team_members enable row level security;
alter table public.invoices enable row level security;
revoke all on table public.teams, public.team_members, public.invoices from public, anon, authenticated;
grant select on table public.teams, public.team_members to authenticated;
grant select, insert, update on table public.invoices to authenticated;

create policy teams_select on public.teams for select to authenticated
  using (id = any (array(select private.my_team_ids())));
create policy team_members_select on public.team_members for select to authenticated
  using (team_id = any (array(select private.my_team_ids())));

create policy invoices_select on public.invoices for select to authenticated
  using (team_id = any (array(select private.my_team_ids())));
create policy invoices_insert on public.invoices for insert to authenticated
  with check (team_id = any (array(select private.my_team_ids())));
create policy invoices_update on public.invoices for update to authenticated
  using (team_id = any (array(select private.my_team_ids())))
  with check (team_id = any (array(select private.my_team_ids())));

-- Restrictive: on top of the policies above, every request must come from a session
-- that passed multi-factor authentication. It narrows access and never widens it.
create policy invoices_require_mfa on public.invoices as restrictive for all to authenticated
  using ((select auth.jwt() ->> 'aal') = 'aal2')
  with check ((select auth.jwt() ->> 'aal') = 'aal2');
