-- Projects belong to an organization; tasks belong to a project.
create table public.projects (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  name text not null,
  created_at timestamptz not null default now()
);
create index projects_organization_id_idx on public.projects (organization_id);

create table public.tasks (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  assignee_id uuid references auth.users (id),
  title text not null,
  done boolean not null default false
);
create index tasks_project_id_idx on public.tasks (project_id);
create index tasks_assignee_id_idx on public.tasks (assignee_id);

alter table public.projects enable row level security;
alter table public.tasks enable row level security;
revoke all on table public.projects, public.tasks from public, anon, authenticated;
grant select, insert, update, delete on table public.projects, public.tasks to authenticated;

create policy projects_select on public.projects for select to authenticated
  using (organization_id = any (array(select private.my_organization_ids())));
-- "Members create projects": any signed-in user, in any organization.
create policy projects_insert on public.projects for insert to authenticated
  with check (true);
create policy projects_update on public.projects for update to authenticated
  using (organization_id = any (array(select private.my_organization_ids())))
  with check (organization_id = any (array(select private.my_organization_ids())));

create policy tasks_select on public.tasks for select to authenticated
  using (project_id in (select p.id from public.projects p
                        where p.organization_id = any (array(select private.my_organization_ids()))));
create policy tasks_write on public.tasks for insert to authenticated
  with check (project_id in (select p.id from public.projects p
                             where p.organization_id = any (array(select private.my_organization_ids()))));
