begin;
select plan(2);
set local role anon;
select throws_ok('select * from public.notes', '42501', null, 'anon reads no note');
select todo('anon profiles come later', 1);
select ok(false, 'anon reads a public profile');
select * from finish();
rollback;
