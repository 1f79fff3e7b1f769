-- pg_hashids' functions with their signatures; encoding and decoding raise, naming the function.
\echo Use "CREATE EXTENSION pg_hashids" to load this file. \quit

create function @extschema@.id_encode(bigint) returns text language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_encode() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
create function @extschema@.id_encode(bigint, text) returns text language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_encode() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
create function @extschema@.id_encode(bigint, text, integer) returns text language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_encode() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
create function @extschema@.id_decode(text) returns bigint[] language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_decode() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
create function @extschema@.id_decode(text, text) returns bigint[] language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_decode() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
-- the salt, minimum length and alphabet forms, and the array and decode-once forms
create function @extschema@.id_encode(bigint, text, integer, text) returns text language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_encode() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
create function @extschema@.id_encode(bigint[]) returns text language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_encode() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
create function @extschema@.id_encode(bigint[], text) returns text language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_encode() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
create function @extschema@.id_encode(bigint[], text, integer) returns text language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_encode() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
create function @extschema@.id_encode(bigint[], text, integer, text) returns text language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_encode() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
create function @extschema@.id_decode(text, text, integer) returns bigint[] language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_decode() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
create function @extschema@.id_decode(text, text, integer, text) returns bigint[] language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_decode() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
create function @extschema@.id_decode_once(text) returns bigint language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_decode_once() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
create function @extschema@.id_decode_once(text, text) returns bigint language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_decode_once() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
create function @extschema@.id_decode_once(text, text, integer) returns bigint language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_decode_once() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
create function @extschema@.id_decode_once(text, text, integer, text) returns bigint language plpgsql immutable strict as $$
begin
  raise exception 'pg_hashids id_decode_once() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
