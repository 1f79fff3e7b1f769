-- Accounts and their users, in the style of a team-accounts starter kit.
create type public.account_role as enum ('owner', 'member');

create table public.accounts (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  personal boolean not null default false
);

create table public.account_user (
  account_id uuid not null references public.accounts (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  account_role public.account_role not null,
  primary key (account_id, user_id)
);

create index account_user_user_id_idx on public.account_user (user_id);

create function public.has_role_on_account(account_id uuid, account_role public.account_role default null)
returns boolean
language sql
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.account_user wu
    where wu.user_id = auth.uid()
      and wu.account_id = has_role_on_account.account_id
      and (wu.account_role = has_role_on_account.account_role or has_role_on_account.account_role is null)
  );
$$;

revoke execute on function public.has_role_on_account(uuid, public.account_role) from public, anon;
grant execute on function public.has_role_on_account(uuid, public.account_role) to authenticated;

create table public.settings (
  name text primary key,
  enabled boolean not null default false
);

insert into public.settings (name, enabled) values ('enable_team_accounts', true);

create function public.is_set(field_name text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((select s.enabled from public.settings as s where s.name = field_name), false);
$$;

revoke execute on function public.is_set(text) from public, anon;
grant execute on function public.is_set(text) to authenticated;

alter table public.accounts enable row level security;
alter table public.account_user enable row level security;
alter table public.settings enable row level security;

create policy "Members see their accounts" on public.accounts for select to authenticated
  using (public.has_role_on_account(id));
revoke all on table public.accounts, public.account_user, public.settings from anon, authenticated, service_role;
grant select on table public.accounts, public.account_user to authenticated;
grant select, insert, update, delete on table public.accounts, public.account_user, public.settings to service_role;

create policy "Users see their memberships" on public.account_user for select to authenticated
  using (user_id = auth.uid());
