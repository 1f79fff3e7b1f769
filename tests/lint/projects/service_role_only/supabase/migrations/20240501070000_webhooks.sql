-- Stripe webhook events, written and read only by an Edge Function with the service key.
-- Row-level security on and no policy: service_role bypasses RLS, nobody else gets in.
create table public.stripe_events (
  id text primary key,
  type text not null,
  payload jsonb not null,
  received_at timestamptz not null default now()
);
alter table public.stripe_events enable row level security;
revoke all on table public.stripe_events from public, anon, authenticated;

-- The same idea, but the grants the legacy default privileges gave were never taken back.
create table public.stripe_customers (
  user_id uuid primary key references auth.users (id) on delete cascade,
  customer_id text not null unique
);
alter table public.stripe_customers enable row level security;
