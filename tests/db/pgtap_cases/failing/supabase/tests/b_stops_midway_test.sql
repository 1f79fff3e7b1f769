begin;
select plan(2);
select ok(true, 'before the error');
select * from public.no_such_table;
select ok(true, 'never reached');
select * from finish();
rollback;
