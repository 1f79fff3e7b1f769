"""The functions PostgreSQL itself provides: a policy calling one of them unqualified calls
no helper of the app's, so neither adoption nor verification asks for its body or its
declaration. The names are read from pg_functions.txt (pg_catalog of a PostgreSQL server)."""

from __future__ import annotations

from pathlib import Path

_LISTED = (Path(__file__).with_name("pg_functions.txt").read_text(encoding="utf-8")).splitlines()
BUILTIN_FUNCTIONS = frozenset(name for name in _LISTED if name and not name.startswith("#"))

# Schemas whose objects the platform provides (auth.uid(), storage's, vault's, extensions').
AUTH_USERS = ("auth", "users")  # the platform's users table, as a (schema, name) key
SERVICE_SCHEMAS = frozenset({"auth", "pg_catalog", "extensions", "storage", "realtime", "vault"})


def platform_call(schema: str | None, name: str) -> bool:
    """Whether a call names a function PostgreSQL or the platform provides, not one of the
    app's helpers: an unqualified built-in, or anything in a service schema."""
    return schema in SERVICE_SCHEMAS or (schema is None and name in BUILTIN_FUNCTIONS)
