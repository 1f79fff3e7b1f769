-- Documents of a tenant: everyone of the tenant reads and writes them; editors and admins
-- change them, admins alone delete.
create table public.documents (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  title text not null
);
create index documents_tenant_idx on public.documents (tenant_id);
alter table public.documents enable row level security;

create policy "tenant reads" on public.documents for select to authenticated
  using (tenant_id = ((select auth.jwt()) -> 'app_metadata' ->> 'tenant_id')::uuid);
create policy "tenant writes" on public.documents for insert to authenticated
  with check (tenant_id = ((select auth.jwt()) -> 'app_metadata' ->> 'tenant_id')::uuid);
create policy "editors change" on public.documents for update to authenticated
  using (tenant_id = ((select auth.jwt()) -> 'app_metadata' ->> 'tenant_id')::uuid
         and ((select auth.jwt()) -> 'app_metadata' ->> 'role') in ('admin', 'editor'))
  with check (tenant_id = ((select auth.jwt()) -> 'app_metadata' ->> 'tenant_id')::uuid
              and ((select auth.jwt()) -> 'app_metadata' ->> 'role') in ('admin', 'editor'));
create policy "admins delete" on public.documents for delete to authenticated
  using (tenant_id = ((select auth.jwt()) -> 'app_metadata' ->> 'tenant_id')::uuid
         and ((select auth.jwt()) -> 'app_metadata' ->> 'role') = 'admin');
