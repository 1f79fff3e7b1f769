-- Organizations, their members, and the helpers policies use to know which
-- organizations the signed-in user belongs to. The helpers live in a schema the API does
-- not expose, run as their owner with an empty search_path, and are called once per
-- statement as (select ...) initPlans.
create schema if not exists private;
grant usage on schema private to authenticated;

create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 100),
  created_by uuid not null default auth.uid() references auth.users (id),
  created_at timestamptz not null default now()
);
create index organizations_created_by_idx on public.organizations (created_by);

create table public.organization_members (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'member' check (role in ('owner', 'admin', 'member')),
  created_at timestamptz not null default now(),
  primary key (organization_id, user_id)
);
create index organization_members_user_id_idx on public.organization_members (user_id);

create function private.my_organization_ids()
returns setof uuid
language sql stable security definer
set search_path = ''
as $$
  select m.organization_id from public.organization_members m
  where m.user_id = (select auth.uid())
$$;

create function private.my_admin_organization_ids()
returns setof uuid
language sql stable security definer
set search_path = ''
as $$
  select m.organization_id from public.organization_members m
  where m.user_id = (select auth.uid()) and m.role in ('owner', 'admin')
$$;

revoke execute on function private.my_organization_ids(), private.my_admin_organization_ids() from public, anon;
grant execute on function private.my_organization_ids(), private.my_admin_organization_ids() to authenticated;

alter table public.organizations enable row level security;
alter table public.organization_members enable row level security;
revoke all on table public.organizations, public.organization_members from public, anon, authenticated;
grant select, insert, update on table public.organizations to authenticated;
grant select, insert, delete on table public.organization_members to authenticated;

create policy organizations_select on public.organizations for select to authenticated
  using (id = any (array(select private.my_organization_ids())));
create policy organizations_insert on public.organizations for insert to authenticated
  with check (created_by = (select auth.uid()));
create policy organizations_update on public.organizations for update to authenticated
  using (id = any (array(select private.my_admin_organization_ids())))
  with check (id = any (array(select private.my_admin_organization_ids())));

create policy organization_members_select on public.organization_members for select to authenticated
  using (organization_id = any (array(select private.my_organization_ids())));
create policy organization_members_insert on public.organization_members for insert to authenticated
  with check (organization_id = any (array(select private.my_admin_organization_ids())));
create policy organization_members_delete on public.organization_members for delete to authenticated
  using (user_id = (select auth.uid())
         or organization_id = any (array(select private.my_admin_organization_ids())));
