-- pg_net's schema, tables and functions with its signatures. A request is queued as pg_net
-- queues it (a row of net.http_request_queue, its id returned) and never sent: no worker runs
-- here, as no pg_cron job does, so no response ever arrives and collecting one raises.
\echo Use "CREATE EXTENSION pg_net" to load this file. \quit

create schema if not exists net;

create type net.request_status as enum ('PENDING', 'SUCCESS', 'ERROR');
create type net.http_response as (status_code integer, headers jsonb, body text);
create type net.http_response_result as (status net.request_status, message text, response net.http_response);

create unlogged table net.http_request_queue (
  id bigserial, method text not null, url text not null, headers jsonb not null,
  body bytea, timeout_milliseconds integer not null
);
create unlogged table net._http_response (
  id bigint, status_code integer, content_type text, headers jsonb, content text,
  timed_out boolean, error_msg text, created timestamptz not null default now()
);

create function net.http_get(url text, params jsonb default '{}'::jsonb, headers jsonb default '{}'::jsonb,
                             timeout_milliseconds integer default 5000) returns bigint
language sql volatile as $$
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values ('GET', url || coalesce((select '?' || string_agg(format('%s=%s', key, value), '&')
                                  from jsonb_each_text(params)), ''), headers, null, timeout_milliseconds)
  returning id
$$;

create function net.http_post(url text, body jsonb default '{}'::jsonb, params jsonb default '{}'::jsonb,
                              headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
                              timeout_milliseconds integer default 5000) returns bigint
language sql volatile as $$
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values ('POST', url || coalesce((select '?' || string_agg(format('%s=%s', key, value), '&')
                                   from jsonb_each_text(params)), ''), headers, convert_to(body::text, 'UTF8'),
          timeout_milliseconds)
  returning id
$$;

create function net.http_delete(url text, params jsonb default '{}'::jsonb, headers jsonb default '{}'::jsonb,
                                timeout_milliseconds integer default 5000) returns bigint
language sql volatile as $$
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values ('DELETE', url || coalesce((select '?' || string_agg(format('%s=%s', key, value), '&')
                                     from jsonb_each_text(params)), ''), headers, null, timeout_milliseconds)
  returning id
$$;

create function net._http_collect_response(request_id bigint, async boolean default true)
returns net.http_response_result language plpgsql volatile as $$
begin
  raise exception 'pg_net net._http_collect_response(): request % has no response on the tenantspec stand-in, '
                  'where no request is sent', request_id using errcode = '0A000';
end
$$;

-- as pg_net's install on the platform grants them, the webhooks' function owner among them
grant usage on schema net to supabase_functions_admin, postgres, anon, authenticated, service_role;
grant execute on all functions in schema net to supabase_functions_admin, postgres, anon, authenticated, service_role;
grant select, insert on net.http_request_queue to supabase_functions_admin, postgres, anon, authenticated, service_role;
grant usage on sequence net.http_request_queue_id_seq to supabase_functions_admin, postgres, anon, authenticated,
  service_role;
