-- A public table left open: RLS never enabled.
create table public.t (id uuid primary key);
revoke all on table public.t from public, anon, authenticated;
