-- Two users, one team each, a note in each team.
insert into auth.users (id, email) values
  ('aaaaaaaa-0000-0000-0000-000000000001', 'ana@example.com'),
  ('bbbbbbbb-0000-0000-0000-000000000002', 'ben@example.com');
insert into public.teams (id, name) values
  ('aaaaaaaa-1111-0000-0000-000000000000', 'Ana''s team'),
  ('bbbbbbbb-1111-0000-0000-000000000000', 'Ben''s team');
insert into public.team_members (team_id, user_id) values
  ('aaaaaaaa-1111-0000-0000-000000000000', 'aaaaaaaa-0000-0000-0000-000000000001'),
  ('bbbbbbbb-1111-0000-0000-000000000000', 'bbbbbbbb-0000-0000-0000-000000000002');
insert into public.notes (team_id, author_id, body) values
  ('aaaaaaaa-1111-0000-0000-000000000000', 'aaaaaaaa-0000-0000-0000-000000000001', 'Ana''s note'),
  ('bbbbbbbb-1111-0000-0000-000000000000', 'bbbbbbbb-0000-0000-0000-000000000002', 'Ben''s note');
