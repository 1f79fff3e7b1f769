-- The trigger fires for a sign-up as the auth service would write it.
insert into auth.users (id, email, raw_user_meta_data)
values ('7f1c2a36-2a0e-4b7e-9f0e-1d0c3c9a1b11', 'ana@example.com', '{"full_name": "Ana"}');

do $$
begin
  if not exists (select 1 from public.profiles where full_name = 'Ana') then
    raise exception 'the profile trigger did not run';
  end if;
end $$;
