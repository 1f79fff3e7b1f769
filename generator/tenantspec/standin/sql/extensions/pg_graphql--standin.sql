-- pg_graphql's resolver and the API's graphql_public.graphql() with their signatures; a query
-- raises, naming itself.
\echo Use "CREATE EXTENSION pg_graphql" to load this file. \quit

create function graphql.resolve(query text, variables jsonb default '{}', "operationName" text default null,
                                extensions jsonb default null) returns jsonb
language plpgsql volatile as $$
begin
  raise exception 'pg_graphql graphql.resolve() is not available on the tenantspec stand-in' using errcode = '0A000';
end
$$;

create or replace function graphql_public.graphql("operationName" text default null, query text default null,
                                                  variables jsonb default null, extensions jsonb default null)
returns jsonb language sql volatile as $$
  select graphql.resolve(query, coalesce(variables, '{}'), "operationName", extensions)
$$;

grant usage on schema graphql to postgres, anon, authenticated, service_role;
grant execute on all functions in schema graphql to postgres, anon, authenticated, service_role;
grant execute on function graphql_public.graphql(text, text, jsonb, jsonb) to postgres, anon, authenticated, service_role;
