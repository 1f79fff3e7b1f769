-- pgsodium's schema, key table and common functions with its signatures. Random bytes are
-- exact (strong random, as gen_random_uuid draws them); encryption and key derivation raise,
-- naming themselves. SECURITY LABEL FOR pgsodium needs its C label provider and fails here.
\echo Use "CREATE EXTENSION pgsodium" to load this file. \quit

create table pgsodium.key (
  id uuid primary key default gen_random_uuid(),
  status text default 'valid',
  created timestamptz not null default now(),
  expires timestamptz,
  key_type text,
  key_id bigserial,
  key_context bytea default 'pgsodium',
  name text unique,
  associated_data text default 'associated',
  raw_key bytea,
  raw_key_nonce bytea,
  parent_key uuid references pgsodium.key (id),
  comment text,
  user_data text
);
create view pgsodium.valid_key as select * from pgsodium.key where status = 'valid';

create function pgsodium.randombytes_buf(size integer) returns bytea
language plpgsql volatile strict set search_path = '' as $$
declare
  result bytea := '';
  u bytea;
begin
  while length(result) < size loop
    u := pg_catalog.uuid_send(pg_catalog.gen_random_uuid());
    result := result || substring(u from 1 for 6) || substring(u from 8 for 1) || substring(u from 10 for 7);
  end loop;
  return substring(result from 1 for size);
end
$$;

create function pgsodium.create_key(key_type text default 'aead-det', name text default null,
                                    raw_key bytea default null, raw_key_nonce bytea default null,
                                    parent_key uuid default null, key_context bytea default 'pgsodium',
                                    expires timestamptz default null, associated_data text default '')
returns pgsodium.valid_key language plpgsql volatile as $$
begin
  raise exception 'pgsodium create_key() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;

create function pgsodium.crypto_aead_det_encrypt(message bytea, additional bytea, key_uuid uuid, nonce bytea default null)
returns bytea language plpgsql volatile as $$
begin
  raise exception 'pgsodium crypto_aead_det_encrypt() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;

create function pgsodium.crypto_aead_det_decrypt(message bytea, additional bytea, key_uuid uuid, nonce bytea default null)
returns bytea language plpgsql volatile as $$
begin
  raise exception 'pgsodium crypto_aead_det_decrypt() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;

create function pgsodium.crypto_secretbox_keygen() returns bytea language plpgsql volatile as $$
begin
  raise exception 'pgsodium crypto_secretbox_keygen() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;

grant usage on schema pgsodium to postgres, service_role;

-- A key derived from the server's root key. The root key here is the stand-in's own, drawn
-- when the extension is created and readable by no API role; derived keys are deterministic
-- per key id, length and context as on the platform, from a SHA-512 of the root key and them
-- (libsodium's KDF is BLAKE2b, which PostgreSQL lacks): no app can tell, since none knows a
-- root key.
create table pgsodium.tenantspec_root_key (key bytea not null);
insert into pgsodium.tenantspec_root_key (key)
  select uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid());
revoke all on pgsodium.tenantspec_root_key from public;

create function pgsodium.derive_key(key_id bigint, key_len integer default 32, context bytea default 'pgsodium')
returns bytea language plpgsql stable strict security definer set search_path = '' as $$
begin
  if key_len < 16 or key_len > 64 then
    raise exception 'crypto_kdf_derive_from_key: invalid key_len' using errcode = '22023';
  end if;
  return substring(pg_catalog.sha512((select key from pgsodium.tenantspec_root_key)
                   || pg_catalog.int8send(key_id) || pg_catalog.int4send(key_len) || context) from 1 for key_len);
end
$$;
