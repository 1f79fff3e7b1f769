-- pg_jsonschema's functions with their signatures, validating in PL/pgSQL: the JSON Schema
-- keywords a CHECK on a column names in practice (type, enum, const, the bounds of numbers,
-- strings, arrays and objects, required, properties, patternProperties,
-- additionalProperties, items, prefixItems, allOf, anyOf, oneOf, not, if/then/else).
-- Keywords it does not know are passed over, as validators do with annotations (format
-- included); a "$ref" raises, naming the stand-in, rather than answer wrongly.
\echo Use "CREATE EXTENSION pg_jsonschema" to load this file. \quit

create function @extschema@.tenantspec_jsonschema_valid(s jsonb, i jsonb) returns boolean
language plpgsql immutable parallel safe set search_path = '' as $$
declare
  t text := jsonb_typeof(i);
  key text;
  sub jsonb;
  n integer;
  matched boolean;
begin
  if s is null or s = '{}'::jsonb or s = 'true'::jsonb then
    return true;
  elsif s = 'false'::jsonb then
    return false;
  elsif jsonb_typeof(s) <> 'object' then
    raise exception 'pg_jsonschema: a schema is an object or a boolean, not %', s using errcode = '22023';
  end if;
  if s ? '$ref' or s ? '$dynamicRef' then
    raise exception 'pg_jsonschema on the tenantspec stand-in: "$ref" is not validated here' using errcode = '0A000';
  end if;
  if s ? 'type' and not exists (
      select 1 from jsonb_array_elements_text(
        case jsonb_typeof(s -> 'type') when 'array' then s -> 'type' else jsonb_build_array(s -> 'type') end) as x(name)
      where x.name = t or (x.name = 'integer' and t = 'number' and (i #>> '{}')::numeric % 1 = 0)) then
    return false;
  end if;
  if s ? 'enum' and not exists (select 1 from jsonb_array_elements(s -> 'enum') as e(v) where e.v = i) then
    return false;
  end if;
  if s ? 'const' and s -> 'const' <> i then
    return false;
  end if;
  if t = 'number' then
    if (s ? 'minimum' and (i #>> '{}')::numeric < (s ->> 'minimum')::numeric)
        or (s ? 'maximum' and (i #>> '{}')::numeric > (s ->> 'maximum')::numeric)
        or (jsonb_typeof(s -> 'exclusiveMinimum') = 'number' and (i #>> '{}')::numeric <= (s ->> 'exclusiveMinimum')::numeric)
        or (jsonb_typeof(s -> 'exclusiveMaximum') = 'number' and (i #>> '{}')::numeric >= (s ->> 'exclusiveMaximum')::numeric)
        or (s ? 'multipleOf' and (i #>> '{}')::numeric % (s ->> 'multipleOf')::numeric <> 0) then
      return false;
    end if;
  elsif t = 'string' then
    if (s ? 'minLength' and char_length(i #>> '{}') < (s ->> 'minLength')::integer)
        or (s ? 'maxLength' and char_length(i #>> '{}') > (s ->> 'maxLength')::integer)
        or (s ? 'pattern' and (i #>> '{}') !~ (s ->> 'pattern')) then
      return false;
    end if;
  elsif t = 'array' then
    n := jsonb_array_length(i);
    if (s ? 'minItems' and n < (s ->> 'minItems')::integer)
        or (s ? 'maxItems' and n > (s ->> 'maxItems')::integer)
        or (s -> 'uniqueItems' = 'true'::jsonb and n <> (select count(distinct e.v) from jsonb_array_elements(i) as e(v))) then
      return false;
    end if;
    if jsonb_typeof(s -> 'prefixItems') = 'array' or jsonb_typeof(s -> 'items') = 'array' then
      sub := coalesce(s -> 'prefixItems', s -> 'items');
      if exists (select 1 from jsonb_array_elements(i) with ordinality as e(v, k)
                 where e.k <= jsonb_array_length(sub)
                   and not @extschema@.tenantspec_jsonschema_valid(sub -> (e.k::integer - 1), e.v)) then
        return false;
      end if;
      n := jsonb_array_length(sub);
      sub := case when s ? 'prefixItems' then s -> 'items' else s -> 'additionalItems' end;
    else
      n := 0;
      sub := s -> 'items';
    end if;
    if sub is not null and exists (select 1 from jsonb_array_elements(i) with ordinality as e(v, k)
                                   where e.k > n and not @extschema@.tenantspec_jsonschema_valid(sub, e.v)) then
      return false;
    end if;
  elsif t = 'object' then
    if s ? 'required' and exists (select 1 from jsonb_array_elements_text(s -> 'required') as r(name) where not i ? r.name) then
      return false;
    end if;
    if (s ? 'minProperties' and (select count(*) from jsonb_object_keys(i)) < (s ->> 'minProperties')::integer)
        or (s ? 'maxProperties' and (select count(*) from jsonb_object_keys(i)) > (s ->> 'maxProperties')::integer) then
      return false;
    end if;
    for key, sub in select e.key, e.value from jsonb_each(i) as e loop
      matched := false;
      if s -> 'properties' ? key then
        matched := true;
        if not @extschema@.tenantspec_jsonschema_valid(s -> 'properties' -> key, sub) then
          return false;
        end if;
      end if;
      if jsonb_typeof(s -> 'patternProperties') = 'object' then
        if exists (select 1 from jsonb_each(s -> 'patternProperties') as p(pattern, schema)
                   where key ~ p.pattern and not @extschema@.tenantspec_jsonschema_valid(p.schema, sub)) then
          return false;
        end if;
        matched := matched or exists (select 1 from jsonb_object_keys(s -> 'patternProperties') as p(pattern)
                                      where key ~ p.pattern);
      end if;
      if not matched and s ? 'additionalProperties'
          and not @extschema@.tenantspec_jsonschema_valid(s -> 'additionalProperties', sub) then
        return false;
      end if;
    end loop;
  end if;
  if s ? 'allOf' and exists (select 1 from jsonb_array_elements(s -> 'allOf') as a(schema)
                             where not @extschema@.tenantspec_jsonschema_valid(a.schema, i)) then
    return false;
  end if;
  if s ? 'anyOf' and not exists (select 1 from jsonb_array_elements(s -> 'anyOf') as a(schema)
                                 where @extschema@.tenantspec_jsonschema_valid(a.schema, i)) then
    return false;
  end if;
  if s ? 'oneOf' and (select count(*) from jsonb_array_elements(s -> 'oneOf') as a(schema)
                      where @extschema@.tenantspec_jsonschema_valid(a.schema, i)) <> 1 then
    return false;
  end if;
  if s ? 'not' and @extschema@.tenantspec_jsonschema_valid(s -> 'not', i) then
    return false;
  end if;
  if s ? 'if' then
    if @extschema@.tenantspec_jsonschema_valid(s -> 'if', i) then
      return @extschema@.tenantspec_jsonschema_valid(s -> 'then', i);
    end if;
    return @extschema@.tenantspec_jsonschema_valid(s -> 'else', i);
  end if;
  return true;
end
$$;

create function @extschema@.json_matches_schema(schema json, instance json) returns boolean
language sql immutable strict parallel safe as $$
  select @extschema@.tenantspec_jsonschema_valid(schema::jsonb, instance::jsonb)
$$;

create function @extschema@.jsonb_matches_schema(schema json, instance jsonb) returns boolean
language sql immutable strict parallel safe as $$
  select @extschema@.tenantspec_jsonschema_valid(schema::jsonb, instance)
$$;

create function @extschema@.jsonschema_is_valid(schema json) returns boolean
language sql immutable strict parallel safe as $$
  select jsonb_typeof(schema::jsonb) in ('object', 'boolean')
$$;
