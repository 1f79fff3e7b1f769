create table public.schools (
  id uuid primary key default gen_random_uuid(),
  name text not null
);

create table public.school_staff (
  school_id uuid not null references public.schools (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'teacher' check (role in ('principal', 'teacher')),
  primary key (school_id, user_id)
);

create or replace function public.is_principal(p_school uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.school_staff s
                 where s.school_id = p_school and s.user_id = auth.uid() and s.role = 'principal');
$$;

revoke execute on function public.is_principal(uuid) from public, anon;
revoke truncate, references, trigger on public.schools, public.school_staff from anon, authenticated, service_role;

alter table public.schools enable row level security;
alter table public.school_staff enable row level security;
create policy "Staff see their school" on public.school_staff
  for select to authenticated using (user_id = (select auth.uid()));

-- The catalog: anyone browses it, principals keep it.
create table public.courses (
  id uuid primary key default gen_random_uuid(),
  school_id uuid not null references public.schools (id) on delete cascade,
  title text not null
);
create index courses_school_id_idx on public.courses (school_id);
alter table public.courses enable row level security;
create policy "Enable read access for all users" on public.courses for select using (true);
create policy "Principals add courses" on public.courses for insert to authenticated
  with check (public.is_principal(school_id));
create policy "Principals edit courses" on public.courses for update to authenticated
  using (public.is_principal(school_id)) with check (public.is_principal(school_id));

-- A notice board every signed-in user may write on; a notice of no school is for all.
create table public.notices (
  id uuid primary key default gen_random_uuid(),
  school_id uuid references public.schools (id) on delete cascade,
  body text not null
);
create index notices_school_id_idx on public.notices (school_id);
alter table public.notices enable row level security;
create policy "Allow all for authenticated" on public.notices for all to authenticated
  using (true) with check (true);
