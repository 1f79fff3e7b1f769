-- Tickets get an assignee, a user who may leave.
alter table public.tickets add column assignee_id uuid references auth.users (id) on delete set null;

create index tickets_assignee_id_idx on public.tickets (assignee_id);
