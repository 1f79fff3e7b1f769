-- A note belongs to an organization, or, with no organization, to the user who wrote it.
create table public.notes (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid references public.organizations (id) on delete cascade,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  body text not null
);
create index notes_organization_idx on public.notes (organization_id);
create index notes_user_idx on public.notes (user_id);
alter table public.notes enable row level security;

create policy "read notes" on public.notes for select to authenticated using (
  (organization_id is null and user_id = (select auth.uid())) or public.is_member_of(organization_id));
create policy "write notes" on public.notes for insert to authenticated with check (
  (organization_id is null and user_id = (select auth.uid())) or public.is_member_of(organization_id));
create policy "edit notes" on public.notes for update to authenticated
  using ((organization_id is null and user_id = (select auth.uid())) or public.is_member_of(organization_id))
  with check ((organization_id is null and user_id = (select auth.uid())) or public.is_member_of(organization_id));
-- only personal notes are deleted through the API; an organization's stay
create policy "delete own notes" on public.notes for delete to authenticated using (
  organization_id is null and user_id = (select auth.uid()));
