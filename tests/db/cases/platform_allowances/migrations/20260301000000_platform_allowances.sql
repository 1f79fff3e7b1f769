-- What a `supabase db diff` dump and Supabase's own docs have postgres run, which the
-- platform lets through (supautils' grants; the image's webhooks migration).
create extension if not exists "pgsodium" with schema "pgsodium";

create function public.handle_new_user() returns trigger language plpgsql security definer
set search_path = '' as $$
begin
  return new;
end
$$;
drop trigger if exists on_auth_user_created on auth.users;
create trigger on_auth_user_created after insert on auth.users
  for each row execute function public.handle_new_user();
drop trigger on_auth_user_created on auth.users;
create trigger on_auth_user_created after insert on auth.users
  for each row execute function public.handle_new_user();

-- seeds and dumps turn triggers off while they load
set session_replication_role = replica;
reset session_replication_role;

-- a webhook's table of its own in the functions schema
create table supabase_functions.delivery_notes (id bigint generated always as identity primary key, note text);
grant select on supabase_functions.hooks to service_role;

-- a short code from a key pgsodium derives from the server's root key
create function public.gen_short_secret(char(8), int8 default 1, integer default 56) returns bytea as $$
  select pgsodium.derive_key($2, $3, $1::bytea);
$$ language sql immutable strict parallel safe;
select public.gen_short_secret('_invite_') is not null;
