-- Sent on its own: CREATE INDEX CONCURRENTLY cannot run in the file's transaction.
create index concurrently notes_body_idx on public.notes (body);
