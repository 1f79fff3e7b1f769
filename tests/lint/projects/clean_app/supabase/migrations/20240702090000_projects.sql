-- Projects and their tasks. A task's project and assignee are checked against the
-- user's organizations, so no row can point into another organization.
create table public.projects (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  name text not null,
  created_at timestamptz not null default now(),
  unique (organization_id, id)
);

create table public.tasks (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  project_id uuid not null,
  assignee_id uuid references auth.users (id) on delete set null,
  title text not null,
  done boolean not null default false,
  updated_at timestamptz not null default now(),
  -- the project must belong to the task's own organization
  foreign key (organization_id, project_id) references public.projects (organization_id, id) on delete cascade
);
create index tasks_organization_id_project_id_idx on public.tasks (organization_id, project_id);
create index tasks_assignee_id_idx on public.tasks (assignee_id);

create function public.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at = now();
  return new;
end;
$$;

create trigger tasks_set_updated_at
  before update on public.tasks
  for each row execute function public.set_updated_at();

alter table public.projects enable row level security;
alter table public.tasks enable row level security;
revoke all on table public.projects, public.tasks from public, anon, authenticated;
grant select, insert, update, delete on table public.projects, public.tasks to authenticated;

create policy projects_select on public.projects for select to authenticated
  using (organization_id = any (array(select private.my_organization_ids())));
create policy projects_insert on public.projects for insert to authenticated
  with check (organization_id = any (array(select private.my_admin_organization_ids())));
create policy projects_update on public.projects for update to authenticated
  using (organization_id = any (array(select private.my_admin_organization_ids())))
  with check (organization_id = any (array(select private.my_admin_organization_ids())));
create policy projects_delete on public.projects for delete to authenticated
  using (organization_id = any (array(select private.my_admin_organization_ids())));

create policy tasks_select on public.tasks for select to authenticated
  using (organization_id = any (array(select private.my_organization_ids())));
create policy tasks_insert on public.tasks for insert to authenticated
  with check (organization_id = any (array(select private.my_organization_ids())));
create policy tasks_update on public.tasks for update to authenticated
  using (organization_id = any (array(select private.my_organization_ids())))
  with check (organization_id = any (array(select private.my_organization_ids())));
create policy tasks_delete on public.tasks for delete to authenticated
  using (organization_id = any (array(select private.my_admin_organization_ids())));
