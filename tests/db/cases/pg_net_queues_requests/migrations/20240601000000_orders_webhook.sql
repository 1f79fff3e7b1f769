-- A database webhook as the dashboard writes it, and pg_net called from a function: each
-- request is queued with its method, url (params appended), headers and body, as pg_net
-- queues it; the webhook's call is recorded in supabase_functions.hooks.
create extension if not exists pg_net with schema extensions;
create table public.orders (id bigint primary key generated always as identity, total integer not null);
create trigger "orders_webhook" after insert on "public"."orders"
  for each row execute function "supabase_functions"."http_request"(
    'https://example.com/hooks/orders', 'POST', '{"Content-Type":"application/json"}', '{"v":"1"}', '1000');

insert into public.orders (total) values (5);

do $$
declare
  queued net.http_request_queue;
  payload jsonb;
begin
  select * into strict queued from net.http_request_queue;
  payload := convert_from(queued.body, 'UTF8')::jsonb;
  if queued.method <> 'POST' or queued.url <> 'https://example.com/hooks/orders?v=1'
      or queued.headers ->> 'Content-Type' <> 'application/json' or queued.timeout_milliseconds <> 1000
      or payload ->> 'type' <> 'INSERT' or payload ->> 'table' <> 'orders'
      or (payload -> 'record' ->> 'total')::integer <> 5 or payload -> 'old_record' <> 'null'::jsonb then
    raise exception 'the webhook queued %', queued;
  end if;
  if not exists (select 1 from supabase_functions.hooks h
                 where h.request_id = queued.id and h.hook_name = 'orders_webhook'
                   and h.hook_table_id = 'public.orders'::regclass::oid) then
    raise exception 'the webhook left no row in supabase_functions.hooks';
  end if;
  if net.http_get('https://example.com/ping', '{"a":"b"}') <= queued.id then
    raise exception 'net.http_get returned no new request id';
  end if;
  if (select url from net.http_request_queue order by id desc limit 1) <> 'https://example.com/ping?a=b' then
    raise exception 'net.http_get did not queue its request';
  end if;
end $$;
