-- pg_net's schema, tables and functions with its signatures, so migrations that call it from
-- triggers apply. A call raises, naming itself: the stand-in sends no HTTP request and invents
-- no request id.
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
language plpgsql volatile as $$
begin
  raise exception 'pg_net net.http_get() is not available on the tenantspec stand-in: no request is sent'
    using errcode = '0A000';
end
$$;

create function net.http_post(url text, body jsonb default '{}'::jsonb, params jsonb default '{}'::jsonb,
                              headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
                              timeout_milliseconds integer default 5000) returns bigint
language plpgsql volatile as $$
begin
  raise exception 'pg_net net.http_post() is not available on the tenantspec stand-in: no request is sent'
    using errcode = '0A000';
end
$$;

create function net.http_delete(url text, params jsonb default '{}'::jsonb, headers jsonb default '{}'::jsonb,
                                timeout_milliseconds integer default 5000) returns bigint
language plpgsql volatile as $$
begin
  raise exception 'pg_net net.http_delete() is not available on the tenantspec stand-in: no request is sent'
    using errcode = '0A000';
end
$$;

create function net._http_collect_response(request_id bigint, async boolean default true)
returns net.http_response_result language plpgsql volatile as $$
begin
  raise exception 'pg_net net._http_collect_response() is not available on the tenantspec stand-in'
    using errcode = '0A000';
end
$$;

grant usage on schema net to postgres, anon, authenticated, service_role;
grant execute on all functions in schema net to postgres, anon, authenticated, service_role;
