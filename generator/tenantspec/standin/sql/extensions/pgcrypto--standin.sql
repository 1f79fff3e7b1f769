-- pgcrypto on a server built without it. What core PostgreSQL computes the same is exact here:
-- strong random bytes (from gen_random_uuid's 122 random bits per call), md5 and SHA-2 digests,
-- and HMACs over them (RFC 2104). sha1, crypt(), gen_salt() and PGP need pgcrypto's C code and
-- raise, naming themselves, instead of returning anything.
\echo Use "CREATE EXTENSION pgcrypto" to load this file. \quit

create function @extschema@.gen_random_uuid() returns uuid
language sql volatile parallel safe as 'select pg_catalog.gen_random_uuid()';

create function @extschema@.gen_random_bytes(integer) returns bytea
language plpgsql volatile strict parallel safe set search_path = '' as $$
declare
  result bytea := '';
  u bytea;
begin
  if $1 < 1 or $1 > 1024 then
    raise exception 'Length not in range' using errcode = '22023';
  end if;
  while length(result) < $1 loop
    u := pg_catalog.uuid_send(pg_catalog.gen_random_uuid());
    -- every byte but the version (7th) and variant (9th) ones is uniformly random
    result := result || substring(u from 1 for 6) || substring(u from 8 for 1) || substring(u from 10 for 7);
  end loop;
  return substring(result from 1 for $1);
end
$$;

create function @extschema@.digest(bytea, text) returns bytea
language plpgsql immutable strict parallel safe set search_path = '' as $$
begin
  case lower($2)
    when 'md5' then return decode(md5($1), 'hex');
    when 'sha224' then return sha224($1);
    when 'sha256' then return sha256($1);
    when 'sha384' then return sha384($1);
    when 'sha512' then return sha512($1);
    when 'sha1' then
      raise exception 'pgcrypto digest(..., ''sha1'') is not available on the tenantspec stand-in'
        using errcode = '0A000', hint = 'The server build lacks pgcrypto; core PostgreSQL has no SHA-1.';
    else
      raise exception 'Cannot use "%": No such hash algorithm', $2 using errcode = '22023';
  end case;
end
$$;

create function @extschema@.digest(text, text) returns bytea
language sql immutable strict parallel safe as $$ select @extschema@.digest(convert_to($1, 'UTF8'), $2) $$;

create function @extschema@.hmac(bytea, bytea, text) returns bytea
language plpgsql immutable strict parallel safe set search_path = '' as $$
declare
  block integer := case when lower($3) in ('sha384', 'sha512') then 128 else 64 end;
  key bytea := $2;
  inner_pad bytea;
  outer_pad bytea;
begin
  if length(key) > block then
    key := @extschema@.digest(key, $3);
  end if;
  key := key || decode(repeat('00', block - length(key)), 'hex');
  inner_pad := key;
  outer_pad := key;
  for i in 0 .. block - 1 loop
    inner_pad := set_byte(inner_pad, i, get_byte(key, i) # 54);   -- 0x36
    outer_pad := set_byte(outer_pad, i, get_byte(key, i) # 92);   -- 0x5c
  end loop;
  return @extschema@.digest(outer_pad || @extschema@.digest(inner_pad || $1, $3), $3);
end
$$;

create function @extschema@.hmac(text, text, text) returns bytea
language sql immutable strict parallel safe as $$
  select @extschema@.hmac(convert_to($1, 'UTF8'), convert_to($2, 'UTF8'), $3)
$$;

create function @extschema@.crypt(text, text) returns text
language plpgsql immutable strict parallel safe as $$
begin
  raise exception 'pgcrypto crypt() is not available on the tenantspec stand-in' using errcode = '0A000',
    hint = 'The server build lacks pgcrypto: run this on a server with pgcrypto (TENANTSPEC_PG_BIN, DATABASE_URL).';
end
$$;

create function @extschema@.gen_salt(text) returns text
language plpgsql volatile strict parallel safe as $$
begin
  raise exception 'pgcrypto gen_salt() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;

create function @extschema@.gen_salt(text, integer) returns text
language plpgsql volatile strict parallel safe as $$
begin
  raise exception 'pgcrypto gen_salt() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;

create function @extschema@.pgp_sym_encrypt(text, text, text default '') returns bytea
language plpgsql volatile strict parallel safe as $$
begin
  raise exception 'pgcrypto pgp_sym_encrypt() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;

create function @extschema@.pgp_sym_decrypt(bytea, text, text default '') returns text
language plpgsql immutable strict parallel safe as $$
begin
  raise exception 'pgcrypto pgp_sym_decrypt() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;

create function @extschema@.encrypt(bytea, bytea, text) returns bytea
language plpgsql immutable strict parallel safe as $$
begin
  raise exception 'pgcrypto encrypt() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;

create function @extschema@.decrypt(bytea, bytea, text) returns bytea
language plpgsql immutable strict parallel safe as $$
begin
  raise exception 'pgcrypto decrypt() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;
