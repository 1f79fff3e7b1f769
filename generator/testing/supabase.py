"""A stand-in for the parts of a Supabase database that decide who can do what.

Installed only where the server lacks them, so a real Supabase database (``supabase start``,
the ``supabase/postgres`` image) keeps its own roles and functions:

- roles ``anon``, ``authenticated``, ``service_role`` (BYPASSRLS) and the login role
  ``authenticator`` that PostgREST connects as (cluster-wide, see `install_roles`);
- schema ``auth`` with ``auth.users`` and ``auth.uid()/role()/email()/jwt()`` written as
  Supabase writes them, and the empty ``supabase_realtime`` publication (per database, see
  `install_database_standin`);
- the default-privilege regime of the project: ``legacy`` (projects before 2026-05-30: every
  new public table, function and sequence granted ALL to the API roles) or ``2026`` (nothing).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from psycopg import sql

API_ROLES = ("anon", "authenticated", "service_role")
PRIVILEGE_REGIMES = ("legacy", "2026")

# name -> attributes, as on the platform.
ROLE_ATTRIBUTES = {
    "anon": "NOLOGIN NOINHERIT",
    "authenticated": "NOLOGIN NOINHERIT",
    "service_role": "NOLOGIN NOINHERIT BYPASSRLS",
    "authenticator": "LOGIN NOINHERIT",
}

# The helpers exactly as Supabase defines them: the legacy per-claim setting first, then the
# claims JSON that PostgREST sets per request. Settings read back as '' after a transaction.
AUTH_FUNCTIONS = {
    "uid": (
        "uuid",
        "select coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''), "
        "(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))::uuid",
    ),
    "role": (
        "text",
        "select coalesce(nullif(current_setting('request.jwt.claim.role', true), ''), "
        "(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'))::text",
    ),
    "email": (
        "text",
        "select coalesce(nullif(current_setting('request.jwt.claim.email', true), ''), "
        "(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email'))::text",
    ),
    "jwt": (
        "jsonb",
        "select coalesce(nullif(current_setting('request.jwt.claim', true), ''), "
        "nullif(current_setting('request.jwt.claims', true), ''))::jsonb",
    ),
}

AUTH_USERS_TABLE = """
create table auth.users (
  id uuid primary key,
  aud text default 'authenticated',
  role text default 'authenticated',
  email text unique,
  raw_app_meta_data jsonb default '{}'::jsonb,
  raw_user_meta_data jsonb default '{}'::jsonb,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
)
"""


class StandinError(RuntimeError):
    """The Supabase stand-in could not be installed."""


@dataclass(frozen=True)
class ProbeLogin:
    """The authenticator-shaped login role the tests connect as (never a superuser)."""

    role: str
    password: str
    created: bool  # dropped at the end of the session when True


def regimes_from_env(environ: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """TENANTSPEC_PRIVILEGES=legacy|2026|both (default both): the regimes the suite runs under."""
    wanted = environ.get("TENANTSPEC_PRIVILEGES", "both").strip().lower() or "both"
    if wanted == "both":
        return PRIVILEGE_REGIMES
    if wanted not in PRIVILEGE_REGIMES:
        raise StandinError(
            f"TENANTSPEC_PRIVILEGES={wanted!r}: expected one of legacy, 2026 or both."
        )
    return (wanted,)


def install_roles(conn: psycopg.Connection) -> set[str]:
    """Create the API roles and authenticator where missing; return the names created."""
    created = set()
    for name, attributes in ROLE_ATTRIBUTES.items():
        if not _role_exists(conn, name):
            conn.execute(
                sql.SQL("create role {} " + attributes).format(sql.Identifier(name))
            )
            created.add(name)
    if "authenticator" in created or created & set(API_ROLES):
        for role in API_ROLES:
            conn.execute(
                sql.SQL("grant {} to {}").format(
                    sql.Identifier(role), sql.Identifier("authenticator")
                )
            )
    return created


def create_probe_login(conn: psycopg.Connection, roles_created: set[str]) -> ProbeLogin:
    """The login the tests use: authenticator itself when this session created it, otherwise
    a throwaway role of the same shape (we do not know the real authenticator's password)."""
    password = secrets.token_hex(16)
    if "authenticator" in roles_created:
        conn.execute(
            sql.SQL("alter role {} password {}").format(
                sql.Identifier("authenticator"), sql.Literal(password)
            )
        )
        return ProbeLogin("authenticator", password, created=False)
    name = f"tenantspec_authenticator_{secrets.token_hex(4)}"
    conn.execute(
        sql.SQL("create role {} login noinherit password {}").format(
            sql.Identifier(name), sql.Literal(password)
        )
    )
    for role in API_ROLES:
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(role), sql.Identifier(name)))
    return ProbeLogin(name, password, created=True)


def drop_probe_login(conn: psycopg.Connection, login: ProbeLogin) -> None:
    if login.created:
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(login.role)))


def install_database_standin(conn: psycopg.Connection, regime: str) -> None:
    """Install schema auth, its helpers, the realtime publication and the privilege regime
    in the database `conn` is connected to, each only where missing."""
    if regime not in PRIVILEGE_REGIMES:
        raise StandinError(f"Unknown privilege regime {regime!r}: use legacy or 2026.")
    auth_existed = conn.execute("select to_regnamespace('auth')").fetchone()[0] is not None
    conn.execute("create schema if not exists auth")
    if conn.execute("select to_regclass('auth.users')").fetchone()[0] is None:
        conn.execute(AUTH_USERS_TABLE)
    for name, (returns, body) in AUTH_FUNCTIONS.items():
        signature = f"auth.{name}()"
        if conn.execute("select to_regprocedure(%s)", (signature,)).fetchone()[0] is None:
            conn.execute(
                f"create function auth.{name}() returns {returns} language sql stable "
                f"set search_path = '' as $$ {body} $$"
            )
    roles = sql.SQL(", ").join(sql.Identifier(r) for r in API_ROLES)
    for schema in ("auth", "public"):
        if schema == "auth" and auth_existed:
            continue  # a real Supabase database: its auth schema is not ours to change
        lacking = [
            role for role in API_ROLES
            if not conn.execute(
                "select has_schema_privilege(%s, %s, 'USAGE')", (role, schema)
            ).fetchone()[0]
        ]
        if lacking:
            conn.execute(
                sql.SQL("grant usage on schema {} to {}").format(
                    sql.Identifier(schema), sql.SQL(", ").join(map(sql.Identifier, lacking))
                )
            )
    exists = conn.execute(
        "select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime'"
    ).fetchone()
    if not exists:
        conn.execute("create publication supabase_realtime")
    _apply_privilege_regime(conn, regime, roles)


def _apply_privilege_regime(conn: psycopg.Connection, regime: str, roles: sql.Composable) -> None:
    # Default privileges belong to the role that creates the objects: the migrating role.
    owner = sql.Identifier(conn.info.user)
    verb = sql.SQL("grant all on {} to" if regime == "legacy" else "revoke all on {} from")
    for kind in ("tables", "functions", "sequences"):
        conn.execute(
            sql.SQL("alter default privileges for role {} in schema public {} {}").format(
                owner, verb.format(sql.SQL(kind)), roles
            )
        )


def _role_exists(conn: psycopg.Connection, name: str) -> bool:
    return (
        conn.execute("select 1 from pg_catalog.pg_roles where rolname = %s", (name,)).fetchone()
        is not None
    )
