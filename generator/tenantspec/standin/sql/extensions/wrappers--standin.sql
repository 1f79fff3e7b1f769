-- Supabase Wrappers' foreign data wrapper handlers are C functions; the stand-in has the
-- extension and none of its handlers, so CREATE FOREIGN DATA WRAPPER ... HANDLER fails naming
-- the missing function.
\echo Use "CREATE EXTENSION wrappers" to load this file. \quit
