"""tenantspec: Supabase tenant tables kept as code, with policy tests that prove who can touch which rows."""
