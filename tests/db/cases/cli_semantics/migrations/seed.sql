insert into public.notes (body) values ('not a migration: the CLI skips this file');
