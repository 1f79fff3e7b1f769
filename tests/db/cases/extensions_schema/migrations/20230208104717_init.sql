CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA "extensions";
CREATE EXTENSION IF NOT EXISTS "pgcrypto" WITH SCHEMA "extensions";
create extension if not exists moddatetime schema extensions;
create extension if not exists pg_trgm with schema extensions;
create extension if not exists unaccent with schema extensions;
create extension if not exists vector with schema extensions;

CREATE TABLE "public"."organizations" (
  "id" UUID PRIMARY KEY DEFAULT extensions.uuid_generate_v4(),
  "title" character varying NOT NULL,
  "invite_token" text NOT NULL DEFAULT encode(gen_random_bytes(16), 'hex'),
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "updated_at" timestamptz NOT NULL DEFAULT now()
);

create trigger handle_updated_at before update on public.organizations
  for each row execute procedure moddatetime (updated_at);

create index organizations_title_trgm on public.organizations using gin (title extensions.gin_trgm_ops);

create table public.sections (
  id bigint primary key generated always as identity,
  organization_id uuid not null references public.organizations (id) on delete cascade,
  content text not null,
  embedding extensions.vector(3)
);
create index on public.sections using hnsw (embedding extensions.vector_ip_ops);

create or replace function public.slugify(value text) returns text
language sql immutable strict set search_path = '' as $$
  select trim(both '-' from regexp_replace(lower(extensions.unaccent(value)), '[^a-z0-9]+', '-', 'g'))
$$;
