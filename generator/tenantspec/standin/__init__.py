"""The Supabase stand-in: a PostgreSQL server (embedded, a URL, or a container), the platform's
roles, schemas and extensions installed into it, and migrations applied as `supabase db push`
applies them. `tenantspec db apply/start` and the proof both run on it."""
