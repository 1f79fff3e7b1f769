-- Projects and their tasks. Policies look the membership up inline, per row.
create table public.projects (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  title text not null,
  state text not null default 'open' check (state = any (array['open', 'closed', 'archived'])),
  created_at timestamptz not null default now()
);

-- Both serve lookups by organization; the first repeats the second's leading column.
create index projects_org_idx on public.projects (org_id);
create index projects_org_created_idx on public.projects (org_id, created_at);

create table public.tasks (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  assignee_id uuid references auth.users (id) on delete set null,
  body text not null,
  done boolean not null default false,
  due_on date
);

create index on public.tasks (project_id);
create index tasks_assignee_idx on public.tasks (assignee_id);

alter table public.projects enable row level security;
alter table public.tasks enable row level security;

create policy "projects are visible to members" on public.projects
  for select to authenticated
  using (exists (
    select 1 from public.organization_members m
    where m.org_id = projects.org_id and m.user_id = auth.uid()
  ));

create policy "editors create projects" on public.projects
  for insert to authenticated
  with check (exists (
    select 1 from public.organization_members m
    where m.org_id = projects.org_id and m.user_id = auth.uid() and m.role in ('owner', 'editor')
  ));

create policy "editors update projects" on public.projects
  for update to authenticated
  using (exists (
    select 1 from public.organization_members m
    where m.org_id = projects.org_id and m.user_id = auth.uid() and m.role in ('owner', 'editor')
  ));

create policy "owners delete projects" on public.projects
  for delete to authenticated
  using (exists (
    select 1 from public.organization_members m
    where m.org_id = projects.org_id and m.user_id = auth.uid() and m.role = 'owner'
  ));

create policy "tasks are visible to members" on public.tasks
  for select to authenticated
  using (exists (
    select 1 from public.projects p
    join public.organization_members m on m.org_id = p.org_id
    where p.id = tasks.project_id and m.user_id = auth.uid()
  ));

create policy "editors write tasks" on public.tasks
  for all to authenticated
  using (exists (
    select 1 from public.projects p
    where p.id = tasks.project_id
      and exists (select 1 from public.organization_members m
                  where m.org_id = p.org_id and m.user_id = auth.uid() and m.role in ('owner', 'editor'))
  ));

grant select, insert, update, delete on public.projects, public.tasks to authenticated;
grant select, insert, update, delete on public.projects, public.tasks to service_role;
