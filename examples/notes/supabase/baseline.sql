-- What the notes app had before these migrations: organizations, their members and labels.

create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  created_by uuid not null references auth.users (id) on delete cascade
);

create table public.organization_members (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  member_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('editor', 'viewer')),
  primary key (organization_id, member_id)
);

create index organization_members_member_id_idx on public.organization_members (member_id);

create table public.labels (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  name text not null
);

create index labels_organization_id_idx on public.labels (organization_id);

alter table public.organizations enable row level security;
alter table public.organization_members enable row level security;
alter table public.labels enable row level security;

create policy organizations_select on public.organizations for select to authenticated
  using (id in (select m.organization_id from public.organization_members m where m.member_id = (select auth.uid())));

create policy organization_members_select on public.organization_members for select to authenticated
  using (member_id = (select auth.uid()));

create policy labels_select on public.labels for select to authenticated
  using (organization_id in (select m.organization_id from public.organization_members m
                             where m.member_id = (select auth.uid())));

revoke all on table public.organizations, public.organization_members, public.labels
  from public, anon, authenticated, service_role;
grant select on table public.organizations, public.organization_members, public.labels to authenticated;
grant select, insert, update, delete
  on table public.organizations, public.organization_members, public.labels to service_role;
