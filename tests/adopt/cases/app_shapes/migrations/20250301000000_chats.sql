-- Shapes real apps write: default privileges for every schema, a primary key made from an
-- index (as `supabase db diff` writes it), a unique that repeats the primary key.
alter default privileges revoke execute on functions from public;

create table public.chats (
  id uuid not null default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  title text
);
create unique index chats_pkey on public.chats using btree (id);
alter table public.chats add constraint chats_pkey primary key using index chats_pkey;
alter table public.chats enable row level security;

-- No policy yet: only the service reads chats.
create table public.invitations (
  id uuid primary key unique default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  email text not null
);
alter table public.invitations enable row level security;

create policy "owners read invitations" on public.invitations for select to authenticated
  using (exists (select 1 from public.organization_members m
                 where m.org_id = invitations.org_id and m.user_id = auth.uid() and m.role = 'owner'));

revoke all on public.chats, public.invitations from public, anon, authenticated, service_role;
grant select on public.chats, public.invitations to authenticated;
grant select, insert, update, delete on public.chats, public.invitations to service_role;
