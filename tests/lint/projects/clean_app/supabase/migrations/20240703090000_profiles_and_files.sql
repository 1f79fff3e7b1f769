-- Profiles, created on sign-up, and project files in a private bucket laid out as
-- <organization id>/<file name>.
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  display_name text,
  updated_at timestamptz not null default now()
);

alter table public.profiles enable row level security;
revoke all on table public.profiles from public, anon, authenticated;
grant select, update on table public.profiles to authenticated;

create policy profiles_select on public.profiles for select to authenticated
  using (id = (select auth.uid()));
create policy profiles_update on public.profiles for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));

create function public.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, display_name) values (new.id, new.raw_user_meta_data ->> 'name');
  return new;
end;
$$;

create trigger on_auth_user_created
  after insert on auth.users
  for each row execute function public.handle_new_user();

insert into storage.buckets (id, name, public) values ('project-files', 'project-files', false);

create policy "Members read their organizations' files" on storage.objects for select to authenticated
  using (bucket_id = 'project-files'
         and (storage.foldername(name))[1] = any (array(select id::text from private.my_organization_ids() as id)));
create policy "Members upload to their organizations' folders" on storage.objects for insert to authenticated
  with check (bucket_id = 'project-files'
              and (storage.foldername(name))[1] = any (array(select id::text from private.my_organization_ids() as id)));
create policy "Admins delete their organizations' files" on storage.objects for delete to authenticated
  using (bucket_id = 'project-files'
         and (storage.foldername(name))[1] = any (array(select id::text from private.my_admin_organization_ids() as id)));
