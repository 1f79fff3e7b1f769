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

-- Database webhooks: a trigger function that would call pg_net. A webhook trigger applies;
-- a row it fires for raises, naming it, as pg_net does here.
create schema if not exists supabase_functions authorization supabase_admin;
grant usage on schema supabase_functions to postgres, anon, authenticated, service_role;
create table supabase_functions.hooks (
  id bigserial primary key,
  hook_table_id integer not null,
  hook_name text not null,
  created_at timestamptz not null default now(),
  request_id bigint
);
create function supabase_functions.http_request() returns trigger language plpgsql security definer as $$
begin
  raise exception 'supabase_functions.http_request() is not available on the tenantspec stand-in: no webhook is sent'
    using errcode = '0A000';
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
