create table public.projects (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  name text not null
);
create index projects_tenant_idx on public.projects (tenant_id);
alter table public.projects enable row level security;

create policy "projects: tenant reads" on public.projects for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
create policy "projects: editors add" on public.projects for insert to authenticated
  with check (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
              and ((select auth.jwt()) ->> 'user_role') in ('admin', 'editor'));
create policy "projects: editors change" on public.projects for update to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
         and ((select auth.jwt()) ->> 'user_role') = any (array['admin', 'editor']))
  with check (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
create policy "projects: admins remove" on public.projects for delete to authenticated
  using (tenant_id = (current_setting('request.jwt.claims', true)::jsonb ->> 'tenant_id')::uuid
         and (current_setting('request.jwt.claims', true)::jsonb ->> 'user_role') = 'admin');

create table public.files (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  project_id uuid not null references public.projects (id) on delete cascade,
  name text not null
);
create index files_tenant_idx on public.files (tenant_id);
create index files_project_idx on public.files (project_id);
alter table public.files enable row level security;
create policy "files: tenant" on public.files for all to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid)
  with check (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
