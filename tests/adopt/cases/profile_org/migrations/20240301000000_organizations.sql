-- One organization per user, kept on the user's profile with their role there: the
-- profile is the membership.
create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null
);

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  organization_id uuid references public.organizations (id) on delete set null,
  role text not null default 'member' check (role in ('admin', 'member'))
);

create index profiles_organization_id_idx on public.profiles (organization_id);

alter table public.organizations enable row level security;
alter table public.profiles enable row level security;

create policy "Users read their profile" on public.profiles for select to authenticated
  using (id = (select auth.uid()));

revoke all on table public.organizations, public.profiles from anon, authenticated, service_role;
grant select on table public.organizations, public.profiles to authenticated;
grant select, insert, update, delete on table public.organizations, public.profiles to service_role;

create table public.tickets (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  subject text not null,
  created_at timestamptz not null default now()
);

alter table public.tickets enable row level security;

-- The user's organization, read from their profile.
create policy "Organization reads its tickets" on public.tickets for select to authenticated
  using (organization_id = (select organization_id from profiles where id = auth.uid()));
create policy "Organization files tickets" on public.tickets for insert to authenticated
  with check (organization_id = (select p.organization_id from public.profiles p where p.id = (select auth.uid())));
create policy "Admins close tickets" on public.tickets for delete to authenticated
  using (organization_id in (select p.organization_id from public.profiles p where p.id = auth.uid() and p.role = 'admin'));

grant select, insert, update, delete on table public.tickets to authenticated, service_role;
