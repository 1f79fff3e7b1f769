-- A company's members keep their role inside a JSON document (extra ->> 'role'), which no CHECK
-- lists; a helper takes the roles it admits as an array.
create table public.companies (id uuid primary key default gen_random_uuid(), name text not null);
create table public.company_users (
  company_id uuid not null references public.companies (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  extra jsonb not null default '{}'::jsonb,
  primary key (company_id, user_id)
);
alter table public.companies enable row level security;
alter table public.company_users enable row level security;
revoke truncate, references, trigger on public.companies, public.company_users from anon, authenticated, service_role;
create function public.has_company_role(cid uuid, roles text[]) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.company_users cu
                 where cu.company_id = cid and cu.user_id = auth.uid() and (cu.extra ->> 'role') = any (roles));
$$;
revoke execute on function public.has_company_role(uuid, text[]) from public, anon;
grant execute on function public.has_company_role(uuid, text[]) to authenticated;
