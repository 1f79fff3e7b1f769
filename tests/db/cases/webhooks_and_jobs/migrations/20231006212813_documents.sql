create extension if not exists pg_net with schema extensions;
create extension if not exists pg_cron;
create extension if not exists http with schema extensions;

create table public.jobs (
  id bigint primary key generated always as identity,
  payload jsonb not null default '{}'
);

create function private_url() returns text language sql stable as $$
  select decrypted_secret from vault.decrypted_secrets where name = 'project_url'
$$;

select vault.create_secret('http://localhost:54321', 'project_url', 'where the functions live');

create or replace function public.notify_worker() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  request_id bigint;
begin
  select net.http_post(
    url := public.private_url() || '/functions/v1/work',
    headers := jsonb_build_object('Content-Type', 'application/json'),
    body := jsonb_build_object('job', new.id),
    timeout_milliseconds := 3000
  ) into request_id;
  return null;
end;
$$;

create trigger on_job_created after insert on public.jobs
  for each row execute function public.notify_worker();

create function public.ping(url text, out status int, out content text) returns record
language plpgsql security definer as $$
begin
  select result.status::int, result.content::text into status, content
  from extensions.http((
    'GET', url, array[extensions.http_header('accept', 'text/plain')], null, null
  )::extensions.http_request) as result;
end;
$$;

select cron.schedule('nightly-cleanup', '0 3 * * *', $$delete from public.jobs where id < 0$$);
