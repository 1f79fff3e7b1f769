-- An audit log guarded by a restrictive policy only: restrictive policies narrow the
-- permissive ones and allow nothing alone, so only service_role can use the table.
create table public.audit_log (
  id bigint generated always as identity primary key,
  actor uuid references auth.users (id),
  action text not null,
  at timestamptz not null default now()
);
create index audit_log_actor_idx on public.audit_log (actor);
alter table public.audit_log enable row level security;
revoke all on table public.audit_log from public, anon, authenticated;
grant select on table public.audit_log to authenticated;

create policy audit_log_own_rows on public.audit_log as restrictive for select to authenticated
  using (actor = (select auth.uid()));
