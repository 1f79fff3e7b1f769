begin;
select plan(5);

select has_table('public', 'notes', 'notes exist');
select policies_are('public', 'notes', array['members read their team''s notes', 'authors write their own notes']);

set local role authenticated;
set local request.jwt.claims to '{"sub": "aaaaaaaa-0000-0000-0000-000000000001", "role": "authenticated"}';

select results_eq('select body from public.notes', array['Ana''s note'], 'Ana reads her team''s note only');
select lives_ok($$insert into public.notes (team_id, body) values ('aaaaaaaa-1111-0000-0000-000000000000', 'more')$$,
                'Ana writes in her team');
select throws_ok($$insert into public.notes (team_id, body) values ('bbbbbbbb-1111-0000-0000-000000000000', 'x')$$,
                 '42501', null, 'but not in Ben''s');

select * from finish();
rollback;
