-- The platform lets postgres create, alter and drop policies (and add triggers) on the
-- storage, realtime and auth tables it does not own (supautils' policy grants), and nothing else an
-- owner may do: `alter table storage.objects enable row level security` fails there with
-- "must be owner of table objects". Here postgres inherits supabase_storage_admin, so that
-- policies can be created, and this guard refuses the rest the way the platform does.
create schema if not exists tenantspec_standin;
revoke all on schema tenantspec_standin from public;

create function tenantspec_standin.refuse_service_ddl() returns event_trigger
language plpgsql set search_path = '' as $$
declare
  command record;
begin
  if current_user in ('supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin', 'supabase_realtime_admin')
     or (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
    return;
  end if;
  for command in select * from pg_catalog.pg_event_trigger_ddl_commands() loop
    if command.schema_name in ('auth', 'storage', 'realtime')
       and command.command_tag not in ('CREATE POLICY', 'ALTER POLICY', 'CREATE TRIGGER', 'GRANT', 'REVOKE') then
      raise exception 'must be owner of % %', command.object_type,
        regexp_replace(command.object_identity, '^.*\.', '')
        using errcode = '42501',
              hint = 'On Supabase, postgres may add policies and triggers to auth, storage and realtime tables, not change them.';
    end if;
  end loop;
end
$$;

create function tenantspec_standin.refuse_service_drop() returns event_trigger
language plpgsql set search_path = '' as $$
declare
  dropped record;
begin
  if current_user in ('supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin', 'supabase_realtime_admin')
     or (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
    return;
  end if;
  for dropped in select * from pg_catalog.pg_event_trigger_dropped_objects() loop
    if dropped.schema_name in ('auth', 'storage', 'realtime') and dropped.object_type not in ('policy', 'trigger')
       and dropped.original then
      raise exception 'must be owner of % %', dropped.object_type, dropped.object_name
        using errcode = '42501';
    end if;
  end loop;
end
$$;

create event trigger tenantspec_standin_service_ddl on ddl_command_end
  execute function tenantspec_standin.refuse_service_ddl();
create event trigger tenantspec_standin_service_drop on sql_drop
  execute function tenantspec_standin.refuse_service_drop();
