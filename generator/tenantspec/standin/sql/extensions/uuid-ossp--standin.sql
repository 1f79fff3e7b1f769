-- uuid-ossp on a server built without it. Version 4 (random) and version 3 (MD5 of namespace
-- and name, RFC 4122) UUIDs and the namespace constants are exact; version 1 (time and MAC)
-- and version 5 (SHA-1, which core PostgreSQL lacks) raise, naming themselves.
\echo Use "CREATE EXTENSION ""uuid-ossp""" to load this file. \quit

create function @extschema@.uuid_nil() returns uuid language sql immutable parallel safe
  as $$ select '00000000-0000-0000-0000-000000000000'::uuid $$;
create function @extschema@.uuid_ns_dns() returns uuid language sql immutable parallel safe
  as $$ select '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid $$;
create function @extschema@.uuid_ns_url() returns uuid language sql immutable parallel safe
  as $$ select '6ba7b811-9dad-11d1-80b4-00c04fd430c8'::uuid $$;
create function @extschema@.uuid_ns_oid() returns uuid language sql immutable parallel safe
  as $$ select '6ba7b812-9dad-11d1-80b4-00c04fd430c8'::uuid $$;
create function @extschema@.uuid_ns_x500() returns uuid language sql immutable parallel safe
  as $$ select '6ba7b814-9dad-11d1-80b4-00c04fd430c8'::uuid $$;

create function @extschema@.uuid_generate_v4() returns uuid language sql volatile parallel safe
  as $$ select pg_catalog.gen_random_uuid() $$;

create function @extschema@.uuid_generate_v3(namespace uuid, name text) returns uuid
language plpgsql immutable strict parallel safe set search_path = '' as $$
declare
  hash bytea := decode(md5(uuid_send(namespace) || convert_to(name, 'UTF8')), 'hex');
begin
  hash := set_byte(hash, 6, (get_byte(hash, 6) & 15) | 48);    -- version 3
  hash := set_byte(hash, 8, (get_byte(hash, 8) & 63) | 128);   -- RFC 4122 variant
  return encode(hash, 'hex')::uuid;
end
$$;

create function @extschema@.uuid_generate_v5(namespace uuid, name text) returns uuid
language plpgsql immutable strict parallel safe as $$
begin
  raise exception 'uuid-ossp uuid_generate_v5() is not available on the tenantspec stand-in' using errcode = '0A000',
    hint = 'The server build lacks uuid-ossp, and core PostgreSQL has no SHA-1.';
end
$$;

create function @extschema@.uuid_generate_v1() returns uuid language plpgsql volatile parallel safe as $$
begin
  raise exception 'uuid-ossp uuid_generate_v1() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;

create function @extschema@.uuid_generate_v1mc() returns uuid language plpgsql volatile parallel safe as $$
begin
  raise exception 'uuid-ossp uuid_generate_v1mc() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
