-- The dump leaves its two SECURITY DEFINER membership functions executable by anyone with
-- the anon key (GRANT ALL ... TO "anon", and PUBLIC's default). Adoption manages tables, not
-- the app's functions: the team closes them in a migration of its own, as the proof asks.
revoke execute on function public.is_member_of(uuid) from public, anon;
revoke execute on function public.has_role_in(uuid, text[]) from public, anon;
