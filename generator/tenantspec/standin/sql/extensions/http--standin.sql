-- The http extension's types and functions with its signatures. http_header() builds its
-- value as the extension does; every request raises, naming itself: none is sent.
\echo Use "CREATE EXTENSION http" to load this file. \quit

create domain @extschema@.http_method as text;
create type @extschema@.http_header as (field character varying, value character varying);
create type @extschema@.http_request as (
  method @extschema@.http_method, uri character varying, headers @extschema@.http_header[],
  content_type character varying, content character varying
);
create type @extschema@.http_response as (
  status integer, content_type character varying, headers @extschema@.http_header[], content character varying
);

create function @extschema@.http_header(field character varying, value character varying)
returns @extschema@.http_header language sql immutable as $$ select $1, $2 $$;

create function @extschema@.http(request @extschema@.http_request) returns @extschema@.http_response
language plpgsql volatile as $$
begin
  raise exception 'http extension http() is not available on the tenantspec stand-in: no request is sent'
    using errcode = '0A000';
end
$$;

create function @extschema@.http_get(uri character varying) returns @extschema@.http_response
language sql volatile as $$ select @extschema@.http(('GET', $1, null, null, null)::@extschema@.http_request) $$;
create function @extschema@.http_get(uri character varying, data jsonb) returns @extschema@.http_response
language sql volatile as $$ select @extschema@.http(('GET', $1, null, null, null)::@extschema@.http_request) $$;
create function @extschema@.http_post(uri character varying, content character varying, content_type character varying)
returns @extschema@.http_response language sql volatile
as $$ select @extschema@.http(('POST', $1, null, $3, $2)::@extschema@.http_request) $$;
create function @extschema@.http_post(uri character varying, data jsonb) returns @extschema@.http_response
language sql volatile as $$ select @extschema@.http(('POST', $1, null, null, null)::@extschema@.http_request) $$;
create function @extschema@.http_put(uri character varying, content character varying, content_type character varying)
returns @extschema@.http_response language sql volatile
as $$ select @extschema@.http(('PUT', $1, null, $3, $2)::@extschema@.http_request) $$;
create function @extschema@.http_patch(uri character varying, content character varying, content_type character varying)
returns @extschema@.http_response language sql volatile
as $$ select @extschema@.http(('PATCH', $1, null, $3, $2)::@extschema@.http_request) $$;
create function @extschema@.http_delete(uri character varying) returns @extschema@.http_response
language sql volatile as $$ select @extschema@.http(('DELETE', $1, null, null, null)::@extschema@.http_request) $$;
create function @extschema@.http_head(uri character varying) returns @extschema@.http_response
language sql volatile as $$ select @extschema@.http(('HEAD', $1, null, null, null)::@extschema@.http_request) $$;
