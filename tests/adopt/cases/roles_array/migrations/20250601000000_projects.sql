-- A member of a project holds several roles at once (onlook-style role arrays).
create table public.projects (
  id uuid primary key default gen_random_uuid(),
  name text not null
);
create table public.user_projects (
  user_id uuid not null references auth.users (id) on delete cascade,
  project_id uuid not null references public.projects (id) on delete cascade,
  roles text[] not null default '{viewer}',
  primary key (user_id, project_id)
);
create index user_projects_project_id_idx on public.user_projects (project_id);

create or replace function public.has_project_role(p_project uuid, p_roles text[])
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.user_projects up
    where up.project_id = p_project and up.user_id = (select auth.uid()) and up.roles && p_roles
  );
$$;
revoke execute on function public.has_project_role(uuid, text[]) from public, anon;
grant execute on function public.has_project_role(uuid, text[]) to authenticated;
revoke truncate, references, trigger on public.projects, public.user_projects from anon, authenticated, service_role;

create table public.canvases (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  title text not null
);
create index canvases_project_id_idx on public.canvases (project_id);
alter table public.canvases enable row level security;

create policy "Viewers and up read canvases" on public.canvases for select to authenticated
  using ((select public.has_project_role(project_id, array['owner', 'editor', 'viewer'])));
create policy "Editors add canvases" on public.canvases for insert to authenticated
  with check ((select public.has_project_role(project_id, array['owner', 'editor'])));
create policy "Editors change canvases" on public.canvases for update to authenticated
  using ((select public.has_project_role(project_id, array['owner', 'editor'])))
  with check ((select public.has_project_role(project_id, array['owner', 'editor'])));
create policy "Owners remove canvases" on public.canvases for delete to authenticated
  using (exists (select 1 from public.user_projects up
                 where up.project_id = canvases.project_id and up.user_id = (select auth.uid())
                   and 'owner' = any (up.roles)));
