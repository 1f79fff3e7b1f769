-- Organizations and their members; a user may also keep notes and reminders of their own,
-- outside any organization.
create table public.organizations (id uuid primary key default gen_random_uuid(), name text not null);
create table public.organization_members (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('owner', 'member')),
  primary key (organization_id, user_id)
);
create index organization_members_user_idx on public.organization_members (user_id);
alter table public.organizations enable row level security;
alter table public.organization_members enable row level security;
revoke truncate, references, trigger on public.organizations, public.organization_members
  from anon, authenticated, service_role;

create function public.is_member_of(org uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.organization_members m where m.organization_id = org and m.user_id = auth.uid())
$$;
revoke execute on function public.is_member_of(uuid) from public, anon;
grant execute on function public.is_member_of(uuid) to authenticated;
