-- The app's own tenancy, hand-written: organizations and their members.
create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  created_by uuid not null references auth.users (id),
  created_at timestamptz not null default now()
);

create table public.organization_members (
  org_id uuid not null references public.organizations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('owner', 'editor', 'viewer')),
  primary key (org_id, user_id)
);

create index organization_members_user_id_idx on public.organization_members (user_id);

alter table public.organizations enable row level security;
alter table public.organization_members enable row level security;

create policy "members read their organizations" on public.organizations
  for select to authenticated
  using (exists (select 1 from public.organization_members m
                 where m.org_id = organizations.id and m.user_id = auth.uid()));

create policy "members read memberships" on public.organization_members
  for select to authenticated
  using (user_id = auth.uid());

revoke all on public.organizations, public.organization_members from public, anon, authenticated, service_role;
grant select on public.organizations, public.organization_members to authenticated;
grant select, insert, update, delete on public.organizations, public.organization_members to service_role;
