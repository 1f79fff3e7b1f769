-- Drizzle-style schema: no foreign key to auth.users; the app keeps each user's tenant and
-- role in user_roles and copies them into the token with a custom access token hook.
create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null
);
create table public.user_roles (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  role varchar(50) not null,
  unique (user_id, tenant_id)
);
create index user_roles_tenant_idx on public.user_roles (tenant_id);
alter table public.tenants enable row level security;
alter table public.user_roles enable row level security;
revoke truncate, references, trigger on public.tenants, public.user_roles from anon, authenticated, service_role;

create or replace function public.custom_access_token_hook(event jsonb) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  claims jsonb;
  v_role varchar;
  v_tenant uuid;
begin
  -- the least powerful role when a user has several rows
  select role, tenant_id into v_role, v_tenant
  from public.user_roles
  where user_id = (event ->> 'user_id')::uuid
  order by case role when 'viewer' then 1 when 'editor' then 2 when 'admin' then 3 else 99 end
  limit 1;
  claims := event -> 'claims';
  claims := jsonb_set(claims, '{tenant_id}', coalesce(to_jsonb(v_tenant::text), '"none"'));
  claims := jsonb_set(claims, '{user_role}', coalesce(to_jsonb(v_role), '"none"'));
  return jsonb_set(event, '{claims}', claims);
end;
$$;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
revoke execute on function public.custom_access_token_hook(jsonb) from authenticated, anon, public;
grant select on public.user_roles to supabase_auth_admin;
