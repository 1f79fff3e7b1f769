begin;
create table public.notes (id bigint primary key generated always as identity, body text);
commit;
