create table public.invitations (
  id uuid primary key default gen_random_uuid(),
  account_id uuid not null references public.accounts (id) on delete cascade,
  email text not null,
  invited_by uuid references auth.users (id) on delete set null,
  accepted_at timestamptz,
  created_at timestamptz not null default timezone('utc', now())
);

create index invitations_account_id_idx on public.invitations (account_id);

alter table public.invitations enable row level security;

create policy "Owners see invitations" on public.invitations for select to authenticated
  using (public.has_role_on_account(account_id, 'owner'));

create policy "Owners invite while team accounts are on" on public.invitations for insert to authenticated
  with check (public.is_set('enable_team_accounts') and public.has_role_on_account(account_id, 'owner'));

create policy "Fresh invitations can be withdrawn" on public.invitations for delete to authenticated
  using (created_at > now() - interval '24 hours' and public.has_role_on_account(account_id, 'owner') = true);

-- Accepting an invitation makes the membership.
create function public.accept_invitation()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.account_user (account_id, user_id, account_role)
  select new.account_id, u.id, 'member' from auth.users u where u.email = new.email
  on conflict do nothing;
  return new;
end;
$$;

revoke execute on function public.accept_invitation() from public, anon, authenticated;

create trigger on_invitation_accepted
  after update of accepted_at on public.invitations
  for each row
  when (old.accepted_at is null and new.accepted_at is not null)
  execute function public.accept_invitation();

create table public.notes (
  id uuid primary key default gen_random_uuid(),
  account_id uuid not null references public.accounts (id) on delete cascade,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  body text not null
);

create index notes_account_id_idx on public.notes (account_id);
create index notes_user_id_idx on public.notes (user_id);

alter table public.notes enable row level security;

-- an author keeps reading and deleting what they wrote, even after leaving the account
create policy "Members read the account's notes" on public.notes for select to authenticated
  using (public.has_role_on_account(account_id) or user_id = auth.uid());
create policy "Members write notes as themselves" on public.notes for insert to authenticated
  with check (user_id = auth.uid() and public.has_role_on_account(account_id));
create policy "Authors edit their notes" on public.notes for update to authenticated
  using (user_id = (select auth.uid()) and public.has_role_on_account(account_id))
  with check (user_id = (select auth.uid()) and public.has_role_on_account(account_id));
-- a moderation list narrows every command, whatever the other policies let through
create table public.banned_users (user_id uuid primary key references auth.users (id) on delete cascade);
alter table public.banned_users enable row level security;
revoke all on table public.banned_users from anon, authenticated, service_role;
grant select on table public.banned_users to authenticated, service_role;
create policy "Banned users touch no notes" on public.notes as restrictive for all to authenticated
  using (not exists (select 1 from public.banned_users b where b.user_id = auth.uid()));

create policy "Owners and authors delete notes" on public.notes for delete to authenticated
  using (public.has_role_on_account(account_id, 'owner') or user_id = (select auth.uid()));

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  display_name text
);

alter table public.profiles enable row level security;

create policy "Users read their profile" on public.profiles for select using (auth.uid() = id);
create policy "Users update their profile" on public.profiles for update using (auth.uid() = id);
