-- Keep updated_at current. This one forgot to pin search_path: a SECURITY DEFINER
-- trigger function still resolves names through the search_path of whoever fires it.
create or replace function public.touch_updated_at()
returns trigger
language plpgsql
security definer
as $$
begin
  new.updated_at = now();
  return new;
end;
$$;

create trigger profiles_touch_updated_at
  before update on public.profiles
  for each row execute function public.touch_updated_at();

-- An event trigger function is no more callable than a row trigger's.
create function public.log_ddl()
returns event_trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  raise notice 'ddl: %', tg_tag;
end;
$$;
