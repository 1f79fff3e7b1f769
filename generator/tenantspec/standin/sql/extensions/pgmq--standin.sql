-- Supabase Queues (pgmq): a queue is a table of messages and an archive table. send, read
-- (with a visibility timeout), delete, archive and drop work on them as pgmq's do; no worker
-- runs beside them here.
\echo Use "CREATE EXTENSION pgmq" to load this file. \quit

create schema if not exists pgmq;

create table pgmq.meta (
  queue_name text primary key,
  is_partitioned boolean not null default false,
  is_unlogged boolean not null default false,
  created_at timestamptz not null default now()
);

create type pgmq.message_record as (
  msg_id bigint, read_ct integer, enqueued_at timestamptz, vt timestamptz, message jsonb
);

create function pgmq.create(queue_name text) returns void language plpgsql volatile as $$
begin
  if queue_name !~ '^[a-z_][a-z0-9_]*$' then
    raise exception 'queue name % must be a lower-case identifier', queue_name using errcode = '22023';
  end if;
  execute format('create table if not exists pgmq.%I (msg_id bigint generated always as identity primary key,'
                 ' read_ct integer not null default 0, enqueued_at timestamptz not null default now(),'
                 ' vt timestamptz not null default now(), message jsonb)', 'q_' || queue_name);
  execute format('create table if not exists pgmq.%I (msg_id bigint primary key, read_ct integer not null,'
                 ' enqueued_at timestamptz not null, archived_at timestamptz not null default now(),'
                 ' vt timestamptz not null, message jsonb)', 'a_' || queue_name);
  insert into pgmq.meta (queue_name) values (queue_name) on conflict do nothing;
end
$$;

create function pgmq.drop_queue(queue_name text) returns boolean language plpgsql volatile as $$
begin
  execute format('drop table if exists pgmq.%I, pgmq.%I', 'q_' || queue_name, 'a_' || queue_name);
  delete from pgmq.meta m where m.queue_name = drop_queue.queue_name;
  return found;
end
$$;

create function pgmq.send(queue_name text, msg jsonb, delay integer default 0) returns bigint
language plpgsql volatile as $$
declare
  id bigint;
begin
  execute format('insert into pgmq.%I (vt, message) values (now() + make_interval(secs => $1), $2) returning msg_id',
                 'q_' || queue_name) into id using delay, msg;
  return id;
end
$$;

create function pgmq.read(queue_name text, vt integer, qty integer) returns setof pgmq.message_record
language plpgsql volatile as $$
begin
  return query execute format(
    'with picked as (select msg_id from pgmq.%1$I where vt <= clock_timestamp() order by msg_id limit $1'
    ' for update skip locked)'
    ' update pgmq.%1$I q set vt = clock_timestamp() + make_interval(secs => $2), read_ct = q.read_ct + 1'
    ' from picked where q.msg_id = picked.msg_id returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message',
    'q_' || queue_name) using qty, vt;
end
$$;

create function pgmq.delete(queue_name text, msg_id bigint) returns boolean language plpgsql volatile as $$
declare
  gone bigint;
begin
  execute format('delete from pgmq.%I where msg_id = $1 returning msg_id', 'q_' || queue_name) into gone using msg_id;
  return gone is not null;
end
$$;

create function pgmq.archive(queue_name text, msg_id bigint) returns boolean language plpgsql volatile as $$
declare
  moved bigint;
begin
  execute format('with gone as (delete from pgmq.%I where msg_id = $1 returning *)'
                 ' insert into pgmq.%I (msg_id, read_ct, enqueued_at, vt, message)'
                 ' select msg_id, read_ct, enqueued_at, vt, message from gone returning msg_id',
                 'q_' || queue_name, 'a_' || queue_name) into moved using msg_id;
  return moved is not null;
end
$$;

grant usage, create on schema pgmq to postgres;
grant usage on schema pgmq to service_role;
grant all on all tables in schema pgmq to postgres, service_role;
grant execute on all functions in schema pgmq to postgres, service_role;
