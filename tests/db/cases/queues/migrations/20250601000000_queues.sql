-- Supabase Queues: a queue made in a migration, and a trigger that enqueues work.
create extension if not exists pgmq;
create extension if not exists pg_hashids with schema extensions;

select pgmq.create('emails');

create table public.signups (id bigint primary key generated always as identity, email text not null);

create function public.enqueue_welcome() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  perform pgmq.send('emails', jsonb_build_object('to', new.email));
  return null;
end;
$$;

create trigger signups_enqueue after insert on public.signups
  for each row execute function public.enqueue_welcome();
