-- Tickets. assigned_to was keyed on the wrong table, and the key on workspace_id had no
-- ON DELETE: both are fixed by the next migration.
create table public.tickets (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id),
  assigned_to uuid references public.workspaces (id),
  title text not null
);
create index tickets_workspace_id_idx on public.tickets (workspace_id);

alter table public.tickets enable row level security;
revoke all on table public.tickets from public, anon, authenticated;
grant select, insert, update on table public.tickets to authenticated;

create policy tickets_select on public.tickets for select to authenticated
  using (workspace_id = any (array(select private.my_workspace_ids())));
create policy tickets_insert on public.tickets for insert to authenticated
  with check (workspace_id = any (array(select private.my_workspace_ids())));
create policy tickets_update on public.tickets for update to authenticated
  using (workspace_id = any (array(select private.my_workspace_ids())))
  with check (workspace_id = any (array(select private.my_workspace_ids())));
