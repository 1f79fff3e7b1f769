-- The unnamed keys above were named by PostgreSQL: tickets_workspace_id_fkey and
-- tickets_assigned_to_fkey. Drop them by those names and add them back right.
alter table only public.tickets drop constraint tickets_assigned_to_fkey;
alter table only public.tickets
  add constraint tickets_assigned_to_fkey foreign key (assigned_to) references auth.users (id) on delete set null;
create index tickets_assigned_to_idx on public.tickets (assigned_to);

alter table public.tickets
  drop constraint tickets_workspace_id_fkey,
  add foreign key (workspace_id) references public.workspaces (id) on delete cascade;
