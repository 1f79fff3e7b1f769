create table public.guides (
  id uuid primary key default gen_random_uuid(),
  school_id uuid not null references public.schools (id) on delete cascade,
  body text
);
create index guides_school_id_idx on public.guides (school_id);
alter table public.guides enable row level security;
create policy "Signed-in users read guides" on public.guides for select
  using (auth.uid() is not null);
create policy "Staff write guides" on public.guides for insert to authenticated
  with check (exists (select 1 from public.school_staff s
                      where s.school_id = guides.school_id and s.user_id = auth.uid()));

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  full_name text
);
alter table public.profiles enable row level security;
create policy "Profiles are viewable by users who are authenticated" on public.profiles
  for select to authenticated using (true);
create policy "Users update their own profile" on public.profiles
  for update using (auth.uid() = id);
