-- What Supabase's docs ask of a project: PostgREST's settings on the authenticator role, and a
-- statement timeout for the API roles; the platform's postgres may set them. (The last lines
-- put the settings back: roles are the server's, not the database's.)
alter role authenticator set pgrst.db_aggregates_enabled = 'true';
alter role authenticated set statement_timeout to '15s';
notify pgrst, 'reload config';
alter role authenticator reset pgrst.db_aggregates_enabled;
alter role authenticated reset statement_timeout;
