alter table auth.users add column plan text;
