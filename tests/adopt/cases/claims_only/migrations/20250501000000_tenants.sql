-- No membership table: the server puts each user's tenant and role in the user's app_metadata
-- (through the Auth admin API), and the policies read them from the token.
create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null
);
alter table public.tenants enable row level security;
revoke truncate, references, trigger on public.tenants from anon, authenticated, service_role;
create policy "own tenant" on public.tenants for select to authenticated
  using (id = ((auth.jwt() -> 'app_metadata' ->> 'tenant_id'))::uuid);
