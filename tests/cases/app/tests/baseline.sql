-- The app's objects that exist before the migrations under test (see the Supabase
-- environment notes): workspaces, their members, orders, the membership helpers and
-- the updated_at trigger function. Applied as the migrating role (postgres) after the
-- Supabase stand-in and before MIGRATIONS_DIR. Grants are stated explicitly so these
-- tables behave the same under either default-privilege regime.

create table public.workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  slug text not null unique,
  owner_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.workspace_members (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'agent' check (role in ('owner', 'admin', 'agent')),
  created_at timestamptz not null default now(),
  unique (workspace_id, user_id)
);

create index workspace_members_workspace_id_idx on public.workspace_members (workspace_id);
create index workspace_members_user_id_idx on public.workspace_members (user_id);
create index workspace_members_role_idx on public.workspace_members (role);

create table public.orders (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  tracking_number text,
  customer_name text,
  shipping_city text,
  total numeric(12, 2) not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index orders_workspace_id_idx on public.orders (workspace_id);

-- Membership helpers: SECURITY DEFINER so policies on workspace_members can use them
-- without recursing into their own RLS.
create function public.is_workspace_member(p_workspace_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.workspace_members as m
    where m.workspace_id = p_workspace_id and m.user_id = (select auth.uid())
  )
$$;

create function public.is_workspace_admin(p_workspace_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.workspace_members as m
    where m.workspace_id = p_workspace_id and m.user_id = (select auth.uid())
      and m.role in ('owner', 'admin')
  )
$$;

revoke execute on function public.is_workspace_member(uuid) from public, anon;
revoke execute on function public.is_workspace_admin(uuid) from public, anon;
grant execute on function public.is_workspace_member(uuid) to authenticated, service_role;
grant execute on function public.is_workspace_admin(uuid) to authenticated, service_role;

create function public.update_updated_at_column()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at = now();
  return new;
end
$$;

create trigger workspaces_set_updated_at
  before update on public.workspaces
  for each row execute function public.update_updated_at_column();

create trigger orders_set_updated_at
  before update on public.orders
  for each row execute function public.update_updated_at_column();

alter table public.workspaces enable row level security;
alter table public.workspace_members enable row level security;
alter table public.orders enable row level security;

-- Workspaces: members read, the owner creates and edits, only the owner deletes.
create policy workspaces_select on public.workspaces
  for select to authenticated
  using (owner_id = (select auth.uid()) or public.is_workspace_member(id));

create policy workspaces_insert on public.workspaces
  for insert to authenticated
  with check (owner_id = (select auth.uid()));

create policy workspaces_update on public.workspaces
  for update to authenticated
  using (public.is_workspace_admin(id))
  with check (public.is_workspace_admin(id));

create policy workspaces_delete on public.workspaces
  for delete to authenticated
  using (owner_id = (select auth.uid()));

-- Members: everyone in a workspace sees its members; owners and admins manage them.
create policy workspace_members_select on public.workspace_members
  for select to authenticated
  using (user_id = (select auth.uid()) or public.is_workspace_member(workspace_id));

create policy workspace_members_insert on public.workspace_members
  for insert to authenticated
  with check (public.is_workspace_admin(workspace_id));

create policy workspace_members_update on public.workspace_members
  for update to authenticated
  using (public.is_workspace_admin(workspace_id))
  with check (public.is_workspace_admin(workspace_id));

create policy workspace_members_delete on public.workspace_members
  for delete to authenticated
  using (public.is_workspace_admin(workspace_id));

-- Orders: any member reads and writes the workspace's orders.
create policy orders_select on public.orders
  for select to authenticated
  using (public.is_workspace_member(workspace_id));

create policy orders_insert on public.orders
  for insert to authenticated
  with check (public.is_workspace_member(workspace_id));

create policy orders_update on public.orders
  for update to authenticated
  using (public.is_workspace_member(workspace_id))
  with check (public.is_workspace_member(workspace_id));

create policy orders_delete on public.orders
  for delete to authenticated
  using (public.is_workspace_admin(workspace_id));

revoke all on table public.workspaces, public.workspace_members, public.orders
  from public, anon, authenticated, service_role;
grant select, insert, update, delete
  on table public.workspaces, public.workspace_members, public.orders to authenticated;
grant select, insert, update, delete
  on table public.workspaces, public.workspace_members, public.orders to service_role;
