-- A membership that stops counting when it is switched off (is_active), as clinics keep theirs.
create type public.clinic_role as enum ('admin', 'clinician', 'front_office');

create table public.clinics (
  id uuid primary key default gen_random_uuid(),
  name text not null
);
create table public.clinic_memberships (
  id uuid primary key default gen_random_uuid(),
  clinic_id uuid not null references public.clinics (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role public.clinic_role not null default 'clinician',
  is_active boolean not null default true,
  unique (clinic_id, user_id)
);
create index clinic_memberships_user_id_idx on public.clinic_memberships (user_id);

create or replace function public.is_clinic_admin(p_clinic uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.clinic_memberships cm
    where cm.clinic_id = p_clinic and cm.user_id = (select auth.uid())
      and cm.role = 'admin' and cm.is_active
  );
$$;
revoke execute on function public.is_clinic_admin(uuid) from public, anon;
grant execute on function public.is_clinic_admin(uuid) to authenticated;
revoke truncate, references, trigger on public.clinics, public.clinic_memberships from anon, authenticated, service_role;

create table public.patients (
  id uuid primary key default gen_random_uuid(),
  clinic_id uuid not null references public.clinics (id) on delete cascade,
  full_name text not null
);
create index patients_clinic_id_idx on public.patients (clinic_id);
alter table public.patients enable row level security;

create policy "Active staff read patients" on public.patients for select to authenticated using (
  exists (select 1 from public.clinic_memberships cm
          where cm.clinic_id = patients.clinic_id and cm.user_id = (select auth.uid()) and cm.is_active = true));
create policy "Active staff add patients" on public.patients for insert to authenticated with check (
  exists (select 1 from public.clinic_memberships cm
          where cm.clinic_id = patients.clinic_id and cm.user_id = (select auth.uid()) and cm.is_active = true));
create policy "Active staff edit patients" on public.patients for update to authenticated
  using (exists (select 1 from public.clinic_memberships cm
                 where cm.clinic_id = patients.clinic_id and cm.user_id = (select auth.uid()) and cm.is_active = true))
  with check (exists (select 1 from public.clinic_memberships cm
                      where cm.clinic_id = patients.clinic_id and cm.user_id = (select auth.uid()) and cm.is_active = true));
create policy "Admins remove patients" on public.patients for delete to authenticated
  using ((select public.is_clinic_admin(clinic_id)));
