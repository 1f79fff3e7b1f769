set statement_timeout = '5s';
create table public.tags (id bigint primary key generated always as identity, name text not null);
