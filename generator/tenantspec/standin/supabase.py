"""The stand-in: what a Supabase project's database holds before its first migration.

Installed only where the server lacks it, so a real Supabase database (``supabase start``,
the ``supabase/postgres`` image) keeps its own roles, schemas and functions:

- the platform's roles, cluster-wide (`install_roles`): ``supabase_admin`` the superuser,
  ``postgres`` the role migrations run as (no superuser: LOGIN CREATEROLE CREATEDB
  REPLICATION BYPASSRLS, holding the API roles), ``authenticator`` and the API roles
  ``anon``, ``authenticated``, ``service_role``, and the services' admin roles;
- per database (`install_database_standin`), from the SQL files beside this module: schemas
  ``extensions`` (on the database's search_path), ``auth``, ``storage``, ``graphql_public``,
  ``supabase_migrations``, the extensions every project starts with, the publication
  ``supabase_realtime`` owned by postgres, and the project's default-privilege regime:
  ``legacy`` (projects before 2026-05-30: every new public table, function and sequence
  granted ALL to the API roles) or ``2026`` (nothing).

docs/standin.md says what each part is and where the facts come from.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from tenantspec.standin.pgtap import copy_pgtap, find_pgtap

API_ROLES = ("anon", "authenticated", "service_role")
PRIVILEGE_REGIMES = ("legacy", "2026")
MIGRATING_ROLE = "postgres"
SUPERUSER = "supabase_admin"

STANDIN_DIR = Path(__file__).parent / "sql"
EXTENSIONS_DIR = STANDIN_DIR / "extensions"
# The per-database parts, in the order they are installed.
DATABASE_PARTS = ("platform.sql", "auth.sql", "storage.sql", "realtime.sql")
GUARD = "guard.sql"  # event triggers: only a superuser may install them

# name -> attributes, as on the platform.
ROLE_ATTRIBUTES = {
    "supabase_admin": "LOGIN SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS",
    "postgres": "LOGIN NOSUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS",
    "anon": "NOLOGIN NOINHERIT",
    "authenticated": "NOLOGIN NOINHERIT",
    "service_role": "NOLOGIN NOINHERIT BYPASSRLS",
    "authenticator": "LOGIN NOINHERIT",
    "supabase_auth_admin": "LOGIN NOINHERIT CREATEROLE NOREPLICATION",
    "supabase_storage_admin": "LOGIN NOINHERIT CREATEROLE NOREPLICATION",
    "supabase_functions_admin": "LOGIN NOINHERIT CREATEROLE NOREPLICATION",
    "supabase_realtime_admin": "NOLOGIN NOINHERIT",
    "supabase_replication_admin": "LOGIN REPLICATION",
    "supabase_read_only_user": "LOGIN BYPASSRLS",
    "dashboard_user": "NOLOGIN CREATEDB CREATEROLE REPLICATION",
    "pgbouncer": "LOGIN",
}

# (role, member, with admin option): authenticator switches to the API roles per request;
# postgres holds them (and may grant them), and inherits the storage, realtime and auth admins
# so it may create and drop policies and triggers on their tables (supautils' policy and
# drop-trigger grants: `drop trigger if exists on_auth_user_created on auth.users`; guard.sql
# refuses the rest), and the functions admin, as the webhooks migration of Supabase's image
# grants it.
MEMBERSHIPS = (
    *((role, "authenticator", False) for role in API_ROLES),
    *((role, "postgres", True) for role in API_ROLES),
    # the platform lets postgres set authenticator's settings (`alter role authenticator set
    # pgrst.db_aggregates_enabled = 'true'`, as Supabase's docs ask): PostgreSQL 16 and later
    # want ADMIN on the role for that
    ("authenticator", "postgres", True),
    ("supabase_storage_admin", "postgres", False),
    ("supabase_realtime_admin", "postgres", False),
    ("supabase_auth_admin", "postgres", False),
    ("supabase_functions_admin", "postgres", False),
    ("pg_read_all_data", "supabase_read_only_user", False),
)

# PostgREST's in-database settings, which the platform lets postgres set on authenticator
# (`alter role authenticator set pgrst.db_aggregates_enabled = 'true'`; its supautils
# allows them): PostgreSQL takes such names from a superuser only, unless granted.
POSTGREST_SETTINGS = tuple(f"pgrst.{name}" for name in (
    "db_aggregates_enabled", "db_anon_role", "db_extra_search_path", "db_hoisted_tx_settings", "db_max_rows",
    "db_plan_enabled", "db_pre_config", "db_pre_request", "db_prepared_statements", "db_root_spec",
    "db_schemas", "db_tx_end", "jwt_aud", "jwt_cache_max_lifetime", "jwt_role_claim_key", "jwt_secret",
    "jwt_secret_is_base64", "openapi_mode", "openapi_security_active", "openapi_server_proxy_uri",
    "server_cors_allowed_origins", "server_timing_enabled"))

# Settings supautils lets postgres set although PostgreSQL keeps them to superusers:
# `set session_replication_role = replica` (seed scripts and dumps turn triggers off with it).
PRIVILEGED_SETTINGS = ("session_replication_role",)

# The extensions the platform lets postgres create (Supabase's list of privileged
# extensions): on a server that has one, the stand-in lets postgres create it too.
PLATFORM_EXTENSIONS = frozenset({
    "address_standardizer", "address_standardizer_data_us", "autoinc", "bloom", "btree_gin",
    "btree_gist", "citext", "cube", "dblink", "dict_int", "dict_xsyn", "earthdistance",
    "fuzzystrmatch", "hstore", "http", "hypopg", "index_advisor", "insert_username", "intarray",
    "isn", "lo", "ltree", "moddatetime", "pg_buffercache", "pg_cron", "pg_graphql", "pg_hashids",
    "pg_jsonschema", "pg_net", "pgmq", "pg_prewarm", "pg_repack", "pg_stat_monitor", "pg_stat_statements",
    "pg_trgm", "pg_walinspect", "pgaudit", "pgcrypto", "pgjwt", "pgroonga", "pgrouting",
    "pgrowlocks", "pgsodium", "pgstattuple", "pgtap", "plpgsql_check", "plv8",
    "postgis", "postgis_raster", "postgis_sfcgal", "postgis_tiger_geocoder", "postgis_topology",
    "postgres_fdw", "refint", "rum", "seg", "sslinfo", "supabase_vault", "tablefunc", "tcn",
    "tsm_system_rows", "tsm_system_time", "unaccent", "uuid-ossp", "vector", "wrappers",
})

# (extension, schema): what every new project has before its first migration.
PREINSTALLED_EXTENSIONS = (
    ("pgcrypto", "extensions"),
    ("uuid-ossp", "extensions"),
    ("pg_stat_statements", "extensions"),
    ("pg_graphql", "graphql"),
    ("supabase_vault", "vault"),
    ("pgsodium", "pgsodium"),  # a `supabase db diff` dump says `create extension if not exists "pgsodium" with schema "pgsodium"`
)

SEARCH_PATH = '"$user", public, extensions'


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
    """Create the platform's roles and memberships where missing; return the names created."""
    created = set()
    for name, attributes in ROLE_ATTRIBUTES.items():
        if not _role_exists(conn, name):
            conn.execute(sql.SQL("create role {} " + attributes).format(sql.Identifier(name)))
            created.add(name)
    for role, member, admin in MEMBERSHIPS:
        if (role in created or member in created) and _role_exists(conn, role):
            conn.execute(sql.SQL("grant {} to {}" + (" with admin option" if admin else "")).format(
                sql.Identifier(role), sql.Identifier(member)))
    if created and conn.info.server_version >= 150000 and _role_exists(conn, MIGRATING_ROLE):
        conn.execute(sql.SQL("grant set on parameter {} to {}").format(
            sql.SQL(", ").join(sql.Identifier(name) for name in POSTGREST_SETTINGS + PRIVILEGED_SETTINGS),
            sql.Identifier(MIGRATING_ROLE)))
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


def install_database_standin(conn: psycopg.Connection, regime: str, migrator: str = MIGRATING_ROLE) -> None:
    """Install the platform's schemas, extensions and publication in the database `conn` is
    connected to (as a superuser), unless it is a Supabase database already; then set the
    default-privilege regime of the role that migrates."""
    if regime not in PRIVILEGE_REGIMES:
        raise StandinError(f"Unknown privilege regime {regime!r}: use legacy or 2026.")
    if not _is_supabase_database(conn):
        database = sql.Identifier(conn.info.dbname)
        with conn.transaction():
            conn.execute(sql.SQL("alter database {} owner to {}").format(database, sql.Identifier(migrator)))
            for part in DATABASE_PARTS:
                conn.execute((STANDIN_DIR / part).read_text())
            if _is_superuser(conn):
                conn.execute((STANDIN_DIR / GUARD).read_text())
            available = {row[0] for row in conn.execute("select name from pg_available_extensions")}
            for extension, schema in PREINSTALLED_EXTENSIONS:
                if extension in available:
                    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
                    conn.execute(sql.SQL("create extension if not exists {} with schema {}").format(
                        sql.Identifier(extension), sql.Identifier(schema)))
        conn.execute(sql.SQL("alter database {} set search_path to " + SEARCH_PATH).format(database))
    _apply_privilege_regime(conn, regime, migrator)


def _apply_privilege_regime(conn: psycopg.Connection, regime: str, migrator: str) -> None:
    # Default privileges belong to the role that creates the objects: the migrating role.
    roles = sql.SQL(", ").join(sql.Identifier(r) for r in API_ROLES)
    verb = sql.SQL("grant all on {} to" if regime == "legacy" else "revoke all on {} from")
    for kind in ("tables", "functions", "sequences"):
        conn.execute(
            sql.SQL("alter default privileges for role {} in schema public {} {}").format(
                sql.Identifier(migrator), verb.format(sql.SQL(kind)), roles
            )
        )


# ---------------------------------------------------------------- extensions

CONTROL_SETTING = re.compile(r"^\s*(\w+)\s*=", re.MULTILINE)


def write_extension_overlay(share_dir: Path, target: Path) -> Path:
    """A folder for PostgreSQL 18's ``extension_control_path``, searched before the server's
    own: the platform's extensions the server has, marked trusted so postgres may create them
    (the platform runs them as its superuser), pgTAP where a package installed it, and the
    stand-in's own for those it lacks."""
    system = share_dir / "extension"
    target = target / "extension"  # the path names share folders, each with its extension/
    target.mkdir(parents=True, exist_ok=True)
    have = {path.stem: path for path in system.glob("*.control")}
    for name in sorted(PLATFORM_EXTENSIONS & set(have)):
        text = have[name].read_text()
        settings = set(CONTROL_SETTING.findall(text))
        lines = [line for line in text.splitlines() if not re.match(r"^\s*trusted\s*=", line)]
        lines.append("trusted = true")
        if "directory" not in settings:
            lines.append(f"directory = '{system}'")
        (target / f"{name}.control").write_text("\n".join(lines) + "\n")
    if "pgtap" not in have and (pgtap := find_pgtap()) is not None:
        copy_pgtap(pgtap, target)  # the package's, where the server's build has none
    for control in sorted(EXTENSIONS_DIR.glob("*.control")):
        if control.stem in have:
            continue  # the real one
        lines = control.read_text().splitlines() + [f"directory = '{target}'"]
        (target / control.name).write_text("\n".join(lines) + "\n")
        for script in EXTENSIONS_DIR.glob(f"{control.stem}--*.sql"):
            (target / script.name).write_text(script.read_text())
    return target.parent


def standin_extensions() -> list[str]:
    """The extensions the stand-in brings where the server lacks them."""
    return sorted(path.stem for path in EXTENSIONS_DIR.glob("*.control"))


# ---------------------------------------------------------------- helpers

def _is_supabase_database(conn: psycopg.Connection) -> bool:
    """A real Supabase database: its services' schemas exist and were not made by us."""
    row = conn.execute(
        "select to_regnamespace('storage') is not null and to_regnamespace('auth') is not null"
        " and to_regnamespace('tenantspec_standin') is null"
        " and exists (select 1 from pg_roles where rolname = 'supabase_admin')"
    ).fetchone()
    return bool(row[0])


def _is_superuser(conn: psycopg.Connection) -> bool:
    return conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]


def _role_exists(conn: psycopg.Connection, name: str) -> bool:
    return (
        conn.execute("select 1 from pg_catalog.pg_roles where rolname = %s", (name,)).fetchone()
        is not None
    )
