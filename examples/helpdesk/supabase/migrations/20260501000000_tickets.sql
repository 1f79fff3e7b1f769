-- Tickets and their comments, written by hand.

create schema if not exists app_private;

create function app_private.staff_team_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select m.team_id from public.team_members as m
  where m.user_id = (select auth.uid()) and m.role in ('lead', 'support')
$$;

create function app_private.lead_team_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select m.team_id from public.team_members as m
  where m.user_id = (select auth.uid()) and m.role = 'lead'
$$;

revoke execute on function app_private.staff_team_ids(), app_private.lead_team_ids() from public, anon;
grant execute on function app_private.staff_team_ids(), app_private.lead_team_ids() to authenticated;

create table public.tickets (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  title text not null,
  priority text not null default 'normal' check (priority in ('low', 'normal', 'high')),
  created_at timestamptz not null default now()
);

create index tickets_team_id_idx on public.tickets (team_id);

create table public.ticket_comments (
  id uuid primary key default gen_random_uuid(),
  ticket_id uuid not null references public.tickets (id) on delete cascade,
  body text not null,
  created_at timestamptz not null default now()
);

create index ticket_comments_ticket_id_idx on public.ticket_comments (ticket_id);

create function app_private.staff_ticket_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select t.id from public.tickets as t where t.team_id = any (array(select app_private.staff_team_ids()))
$$;

revoke execute on function app_private.staff_ticket_ids() from public, anon;
grant execute on function app_private.staff_ticket_ids() to authenticated;

alter table public.tickets enable row level security;
alter table public.ticket_comments enable row level security;

create policy tickets_select on public.tickets for select to authenticated
  using (team_id = any (array(select app_private.staff_team_ids())));
create policy tickets_insert on public.tickets for insert to authenticated
  with check (team_id = any (array(select app_private.staff_team_ids())));
create policy tickets_update on public.tickets for update to authenticated
  using (team_id = any (array(select app_private.lead_team_ids())))
  with check (team_id = any (array(select app_private.lead_team_ids())));
create policy tickets_delete on public.tickets for delete to authenticated
  using (team_id = any (array(select app_private.lead_team_ids())));

create policy ticket_comments_select on public.ticket_comments for select to authenticated
  using (ticket_id = any (array(select app_private.staff_ticket_ids())));
create policy ticket_comments_insert on public.ticket_comments for insert to authenticated
  with check (ticket_id = any (array(select app_private.staff_ticket_ids())));

revoke all on table public.tickets, public.ticket_comments from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.tickets to authenticated;
grant select, insert on table public.ticket_comments to authenticated;
grant select, insert, update, delete on table public.tickets, public.ticket_comments to service_role;
