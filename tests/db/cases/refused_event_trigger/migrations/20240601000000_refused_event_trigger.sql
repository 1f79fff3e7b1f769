-- Event triggers need a superuser, which the platform's postgres is not.
create function public.log_ddl() returns event_trigger language plpgsql as $$ begin null; end $$;
create event trigger log_ddl on ddl_command_end execute function public.log_ddl();
