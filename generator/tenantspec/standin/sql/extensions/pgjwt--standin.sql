-- pgjwt: HS256, HS384 and HS512 JSON Web Tokens, signed and verified with pgcrypto's hmac().
\echo Use "CREATE EXTENSION pgjwt" to load this file. \quit

create function @extschema@.url_encode(data bytea) returns text language sql immutable as $$
  select translate(encode(data, 'base64'), E'+/=\n', '-_')
$$;

create function @extschema@.url_decode(data text) returns bytea language sql immutable as $$
  with t as (select translate(data, '-_', '+/') as trans),
       rem as (select length(t.trans) % 4 as remainder from t)
  select decode(t.trans || case when rem.remainder > 0 then repeat('=', 4 - rem.remainder) else '' end, 'base64')
  from t, rem
$$;

create function @extschema@.algorithm_sign(signables text, secret text, algorithm text) returns text
language sql immutable as $$
  select @extschema@.url_encode(@extschema:pgcrypto@.hmac(signables, secret,
    case algorithm when 'HS256' then 'sha256' when 'HS384' then 'sha384' when 'HS512' then 'sha512' else '' end))
$$;

create function @extschema@.sign(payload json, secret text, algorithm text default 'HS256') returns text
language sql immutable as $$
  with header as (
    select @extschema@.url_encode(convert_to('{"alg":"' || algorithm || '","typ":"JWT"}', 'utf8')) as data
  ), payload as (
    select @extschema@.url_encode(convert_to(payload::text, 'utf8')) as data
  ), signables as (
    select header.data || '.' || payload.data as data from header, payload
  )
  select signables.data || '.' || @extschema@.algorithm_sign(signables.data, secret, algorithm) from signables
$$;

create function @extschema@.verify(token text, secret text, algorithm text default 'HS256')
returns table (header json, payload json, valid boolean) language sql immutable as $$
  select convert_from(@extschema@.url_decode(r[1]), 'utf8')::json,
         convert_from(@extschema@.url_decode(r[2]), 'utf8')::json,
         r[3] = @extschema@.algorithm_sign(r[1] || '.' || r[2], secret, algorithm)
  from regexp_split_to_array(token, '\.') as r
$$;
