-- Realtime's schema as the realtime service leaves it: broadcast messages with row level
-- security on (projects authorize private channels with policies on realtime.messages), and
-- the functions that send to a channel from SQL. A message is a row here, as there; no
-- realtime server reads it.
create schema if not exists realtime authorization supabase_admin;
grant usage on schema realtime to postgres, anon, authenticated, service_role;

create table realtime.messages (
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp without time zone not null default now(),
  inserted_at timestamp without time zone not null default now(),
  id uuid not null default gen_random_uuid(),
  primary key (id, inserted_at)
);
alter table realtime.messages enable row level security;

-- The channel a broadcast authorization check runs for.
create function realtime.topic() returns text language sql stable as $$
  select nullif(current_setting('realtime.topic', true), '')::text
$$;

create function realtime.send(payload jsonb, event text, topic text, private boolean default true) returns void
language sql volatile security definer set search_path = '' as $$
  insert into realtime.messages (payload, event, topic, private, extension)
  values (payload, event, topic, private, 'broadcast')
$$;

create function realtime.broadcast_changes(topic_name text, event_name text, operation text, table_name text,
                                           table_schema text, new record, old record, level text default 'ROW')
returns void language plpgsql volatile security definer set search_path = '' as $$
begin
  perform realtime.send(
    jsonb_build_object('old_record', case when old is null then null else to_jsonb(old) end,
                       'record', case when new is null then null else to_jsonb(new) end,
                       'operation', operation, 'table', table_name, 'schema', table_schema),
    event_name, topic_name, true);
end
$$;

alter table realtime.messages owner to supabase_realtime_admin;
grant select, insert, update on realtime.messages to postgres, anon, authenticated, service_role;
grant execute on function realtime.topic() to postgres, anon, authenticated, service_role;
grant execute on function realtime.send(jsonb, text, text, boolean),
  realtime.broadcast_changes(text, text, text, text, text, record, record, text) to postgres, service_role;

-- Database webhooks: the trigger function calls pg_net with the trigger's arguments (url,
-- method, headers, params, timeout) and records the request in hooks; pg_net queues it and
-- sends nothing here. Without pg_net a row it fires for fails, as on the platform.
create schema if not exists supabase_functions authorization supabase_admin;
grant usage on schema supabase_functions to postgres, anon, authenticated, service_role;
create table supabase_functions.hooks (
  id bigserial primary key,
  hook_table_id integer not null,
  hook_name text not null,
  created_at timestamptz not null default now(),
  request_id bigint
);
create function supabase_functions.http_request() returns trigger language plpgsql security definer
set search_path = supabase_functions as $$
declare
  url text := TG_ARGV[0];
  method text := TG_ARGV[1];
  headers jsonb := case when TG_ARGV[2] is null or TG_ARGV[2] = 'null' then '{"Content-Type": "application/json"}'
                   else TG_ARGV[2]::jsonb end;
  params jsonb := case when TG_ARGV[3] is null or TG_ARGV[3] = 'null' then '{}' else TG_ARGV[3]::jsonb end;
  timeout integer := case when TG_ARGV[4] is null or TG_ARGV[4] = 'null' then 1000 else TG_ARGV[4]::integer end;
  request bigint;
begin
  if url is null or url = 'null' then
    raise exception 'url argument is missing';
  end if;
  if method = 'GET' then
    request := net.http_get(url, params, headers, timeout);
  elsif method = 'POST' then
    request := net.http_post(url, jsonb_build_object('old_record', to_jsonb(old), 'record', to_jsonb(new), 'type', TG_OP,
                                                     'table', TG_TABLE_NAME, 'schema', TG_TABLE_SCHEMA),
                             params, headers, timeout);
  else
    raise exception 'method argument % is invalid', method;
  end if;
  insert into supabase_functions.hooks (hook_table_id, hook_name, request_id) values (TG_RELID, TG_NAME, request);
  return new;
end
$$;
alter function supabase_functions.http_request() owner to supabase_functions_admin;
alter table supabase_functions.hooks owner to supabase_functions_admin;
grant execute on function supabase_functions.http_request() to postgres, anon, authenticated, service_role;
-- as the webhooks migration of Supabase's image leaves the schema: its own history table,
-- the functions admin holding everything in it, new objects granted to the API roles
create table supabase_functions.migrations (version text primary key, inserted_at timestamptz not null default now());
insert into supabase_functions.migrations (version) values ('initial');
alter table supabase_functions.migrations owner to supabase_functions_admin;
grant all privileges on schema supabase_functions to supabase_functions_admin;
alter default privileges in schema supabase_functions grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema supabase_functions grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges in schema supabase_functions grant all on sequences to postgres, anon, authenticated, service_role;
