-- Stripe state, kept for service_role (the billing Edge Function) alone, and invoices
-- members read only from a session with a second factor.
create table public.stripe_events (
  id text primary key,
  payload jsonb not null,
  received_at timestamptz not null default now()
);
alter table public.stripe_events enable row level security;
revoke all on table public.stripe_events from public, anon, authenticated;

create table public.invoices (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  amount_cents integer not null check (amount_cents >= 0),
  issued_at timestamptz not null default now()
);
create index invoices_organization_id_idx on public.invoices (organization_id);

alter table public.invoices enable row level security;
revoke all on table public.invoices from public, anon, authenticated;
grant select on table public.invoices to authenticated;

create policy invoices_select on public.invoices for select to authenticated
  using (organization_id = any (array(select private.my_admin_organization_ids())));
create policy invoices_require_mfa on public.invoices as restrictive for select to authenticated
  using ((select auth.jwt() ->> 'aal') = 'aal2');
