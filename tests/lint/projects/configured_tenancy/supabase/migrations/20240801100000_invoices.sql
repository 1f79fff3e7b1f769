-- Invoices of an account. public.accounts and public.is_account_member(uuid) exist
-- before these migrations.
create schema if not exists api;
grant usage on schema api to anon, authenticated;

create table public.invoices (
  id uuid primary key default gen_random_uuid(),
  account_id uuid not null references public.accounts (id) on delete cascade,
  number text not null,
  total_cents bigint not null,
  unique (account_id, number)
);

create table public.invoice_lines (
  id uuid primary key default gen_random_uuid(),
  invoice_id uuid not null references public.invoices (id) on delete cascade,
  description text not null,
  amount_cents bigint not null
);
create index invoice_lines_invoice_id_idx on public.invoice_lines (invoice_id);

alter table public.invoices enable row level security;
alter table public.invoice_lines enable row level security;
revoke all on table public.invoices, public.invoice_lines from public, anon, authenticated;
grant select, insert on table public.invoices, public.invoice_lines to authenticated;

-- Wrapping a call that is given the row's column in (select ...) does not make it run
-- once: the subquery reads the row, so it still runs for every row.
create policy invoices_select on public.invoices for select to authenticated
  using ((select public.is_account_member(account_id)));
create policy invoices_insert on public.invoices for insert to authenticated
  with check ((select public.is_account_member(account_id)));

create policy invoice_lines_select on public.invoice_lines for select to authenticated
  using (invoice_id in (select i.id from public.invoices i));
create policy invoice_lines_insert on public.invoice_lines for insert to authenticated
  with check (true);

create view api.open_invoices as
  select id, account_id, number, total_cents from public.invoices;
