-- What a Supabase project's database holds before its first migration, for the schemas apps
-- touch. Run once per database by the cluster's superuser (supabase_admin), after the roles.
-- Sources: Supabase's postgres image (its init scripts and the migration that demotes
-- postgres), the auth and storage services' first migrations, and Supabase's docs; see
-- docs/standin.md. Owners and grants are the platform's: `postgres`, the role migrations run
-- as, is no superuser and owns none of these schemas.

-- The database belongs to postgres, so `public` (owned by pg_database_owner) is postgres's.
-- (the owner is set by the caller: ALTER DATABASE needs the database's name)

-- Extensions live in their own schema, which is on the database's search_path.
create schema if not exists extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
grant all on schema extensions to postgres, dashboard_user;
alter default privileges in schema extensions grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema extensions grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges in schema extensions grant all on sequences to postgres, anon, authenticated, service_role;

grant usage on schema public to postgres, anon, authenticated, service_role;

-- The API's GraphQL entry point (pg_graphql's resolver lives in schema graphql).
create schema if not exists graphql_public;
grant usage on schema graphql_public to postgres, anon, authenticated, service_role;

-- The history `supabase db push` writes: one row per applied migration file.
create schema if not exists supabase_migrations authorization postgres;
create table if not exists supabase_migrations.schema_migrations (
  version text not null primary key,
  statements text[],
  name text
);
alter table supabase_migrations.schema_migrations owner to postgres;

-- Realtime's publication starts empty and belongs to postgres, so migrations can add tables.
create publication supabase_realtime;
alter publication supabase_realtime owner to postgres;
