create table public.rooms (
  id uuid primary key default gen_random_uuid(),
  topic text not null unique,
  created_by uuid not null default auth.uid() references auth.users on delete cascade
);
alter table public.rooms enable row level security;

-- Private channels: members of a room may receive its broadcasts.
create policy "authenticated can receive broadcasts of their rooms"
on "realtime"."messages"
for select
to authenticated
using (
  exists (select 1 from public.rooms r where r.topic = (select realtime.topic()) and r.created_by = (select auth.uid()))
);

create or replace function public.rooms_changes() returns trigger
security definer language plpgsql set search_path = '' as $$
begin
  perform realtime.broadcast_changes('room:' || coalesce(new.topic, old.topic), tg_op, tg_op,
                                     tg_table_name, tg_table_schema, new, old);
  return null;
end;
$$;

create trigger handle_rooms_changes after insert or update or delete on public.rooms
  for each row execute function public.rooms_changes();

-- A database webhook, as the dashboard writes it.
create trigger "rooms_webhook" after insert on "public"."rooms"
  for each row execute function "supabase_functions"."http_request"(
    'https://example.com/hooks/rooms', 'POST', '{"Content-type":"application/json"}', '{}', '5000');
