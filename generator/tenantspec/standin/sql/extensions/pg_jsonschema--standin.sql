-- pg_jsonschema's functions with their signatures, so CHECK constraints naming them apply.
-- Validating raises, naming the function: the stand-in never says a document is valid.
\echo Use "CREATE EXTENSION pg_jsonschema" to load this file. \quit

create function @extschema@.json_matches_schema(schema json, instance json) returns boolean
language plpgsql immutable strict parallel safe as $$
begin
  raise exception 'pg_jsonschema json_matches_schema() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;

create function @extschema@.jsonb_matches_schema(schema json, instance jsonb) returns boolean
language plpgsql immutable strict parallel safe as $$
begin
  raise exception 'pg_jsonschema jsonb_matches_schema() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;

create function @extschema@.jsonschema_is_valid(schema json) returns boolean
language plpgsql immutable strict parallel safe as $$
begin
  raise exception 'pg_jsonschema jsonschema_is_valid() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
