"""Mutation testing of the policy suite: does it notice a single wrong change in the migrations?

Every migration file is parsed with pglast; each operator below turns one statement (or one
part of it) into something subtly wrong, the mutated statement is deparsed into a copy of
the migrations folder, and the suite runs against the copy. A mutant the suite fails on is
killed; one it passes survives, and the run exits non-zero. The operators work on whatever
statements the folder holds, ALTER migrations included:

- a policy: a helper call swapped for another generated helper of the same shape (a level
  swapped, in USING or in WITH CHECK), a clause dropped, one conjunct of an AND dropped (a
  same-workspace tie removed), a clause replaced by ``true``, the ``TO`` role removed;
- a grant or revoke dropped; a privilege granted that the folder does not grant;
- row level security not enabled; a SECURITY DEFINER function's ``search_path`` dropped;
- a foreign key's ON DELETE action changed; a value dropped from a ``col in (...)`` check;
  a unique constraint or unique index dropped; NOT NULL dropped from a reference column;
- a trigger dropped; a table's realtime publication dropped.

    python -m tenantspec.testing.mutate [--migrations DIR] [--jobs N] [--only TEXT] [--list] [-- PYTEST ARGS]

PYTEST ARGS choose what runs per mutant (default: every test but the random sequences).
"""
