begin;
select plan(2);
set local role authenticated;
set local request.jwt.claims to '{"sub": "aaaaaaaa-0000-0000-0000-000000000001", "role": "authenticated"}';
select is((select count(*) from public.notes), 2::bigint, 'Ana sees both notes');
select ok(true, 'a passing one');
select * from finish();
rollback;
