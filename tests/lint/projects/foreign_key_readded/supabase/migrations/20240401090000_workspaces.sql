create schema if not exists private;
grant usage on schema private to authenticated;

create table public.workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null
);

create table public.workspace_users (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  primary key (workspace_id, user_id)
);
create index workspace_users_user_id_idx on public.workspace_users (user_id);

create function private.my_workspace_ids()
returns setof uuid
language sql stable security definer
set search_path = ''
as $$ select wu.workspace_id from public.workspace_users wu where wu.user_id = (select auth.uid()) $$;
revoke execute on function private.my_workspace_ids() from public, anon;
grant execute on function private.my_workspace_ids() to authenticated;

alter table public.workspaces enable row level security;
alter table public.workspace_users enable row level security;
revoke all on table public.workspaces, public.workspace_users from public, anon, authenticated;
grant select on table public.workspaces, public.workspace_users to authenticated;
create policy workspaces_select on public.workspaces for select to authenticated
  using (id = any (array(select private.my_workspace_ids())));
create policy workspace_users_select on public.workspace_users for select to authenticated
  using (workspace_id = any (array(select private.my_workspace_ids())));
