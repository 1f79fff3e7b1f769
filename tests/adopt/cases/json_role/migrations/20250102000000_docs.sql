-- Contracts: every member reads, owners and managers add, owners delete.
create table public.contracts (
  id uuid primary key default gen_random_uuid(),
  company_id uuid not null references public.companies (id) on delete cascade,
  title text not null
);
create index contracts_company_idx on public.contracts (company_id);
alter table public.contracts enable row level security;
create policy "members read" on public.contracts for select to authenticated using (
  exists (select 1 from public.company_users cu where cu.company_id = contracts.company_id and cu.user_id = auth.uid()));
create policy "managers write" on public.contracts for insert to authenticated with check (
  exists (select 1 from public.company_users cu where cu.company_id = contracts.company_id and cu.user_id = auth.uid()
          and cu.extra ->> 'role' in ('owner', 'manager')));
create policy "owners delete" on public.contracts for delete to authenticated using (
  public.has_company_role(company_id, array['owner']));
