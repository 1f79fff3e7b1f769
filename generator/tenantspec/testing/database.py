"""Template database migrated once per session and per privilege regime, cloned per test.

The template gets, in order: the Supabase stand-in (installed by the superuser), the app's
baseline SQL (the objects made before the first migration, applied by the migrating role
``postgres`` in one transaction), the plugin's probe schema (with a record of the catalog
before the migrations, so checks can tell what the migrations create), the migrations as
``supabase db push`` applies them (`tenantspec.standin.migrate`: by ``postgres``, no
superuser, each file in one transaction with its history row), and the project's seed. Each
test clones it with ``CREATE DATABASE … TEMPLATE``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from tenantspec.standin.databases import (
    copy_database,
    create_database,
    drop_database,
    install_standin,
)
from tenantspec.standin.migrate import (
    Folder,
    MigrationError,
    apply_file,
    apply_migration,
    read_folder,
)
from tenantspec.standin.server import RunningServer
from tenantspec.standin.supabase import ROLE_ATTRIBUTES, ProbeLogin
from tenantspec.testing.impersonate import Impersonator
from tenantspec.testing.structure import PREEXISTING_SQL

# Reads a table past RLS and grants, for checking that a denied request changed nothing.
PROBE_SCHEMA_SQL = """
create schema tenantspec_probe;
create function tenantspec_probe.snapshot(target regclass)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  result jsonb;
begin
  execute format(
    'select coalesce(jsonb_agg(to_jsonb(t) order by t::text), ''[]''::jsonb) from %s as t',
    target
  ) into result;
  return result;
end
$$;
revoke all on function tenantspec_probe.snapshot(regclass) from public;
"""


@dataclass(frozen=True)
class MigrationSource:
    """What to apply on top of the Supabase stand-in."""

    baseline: Path | None
    migrations_dir: Path

    def files(self) -> list[Path]:
        """The baseline (when there is one), then every migration in version order."""
        return ([self.baseline] if self.baseline else []) + self.migration_files()

    def migration_files(self) -> list[Path]:
        """The migrations as ``supabase db push`` finds them (``<version>_<name>.sql``)."""
        return [m.path for m in self.folder().migrations]

    def folder(self) -> Folder:
        if not self.migrations_dir.is_dir():
            raise MigrationError(
                f"Migrations folder {self.migrations_dir} does not exist. Set MIGRATIONS_DIR "
                "to a folder of *.sql files (default supabase/migrations)."
            )
        found = read_folder(self.migrations_dir)
        if not found.migrations:
            skipped = f" ({len(found.skipped)} *.sql files not named <timestamp>_name.sql)" if found.skipped else ""
            raise MigrationError(f"No migrations in {self.migrations_dir} (MIGRATIONS_DIR){skipped}.")
        if self.baseline is not None and not self.baseline.is_file():
            raise MigrationError(
                f"Baseline SQL {self.baseline} does not exist. Set TENANTSPEC_BASELINE (or the "
                "tenantspec_baseline ini option) to the SQL of the objects that predate the "
                "migrations, or to an empty string for none."
            )
        return found


@dataclass(frozen=True)
class TestDatabase:
    """A database on the session's server, and how to reach it as admin or as the API."""

    __test__ = False  # not a pytest test class

    server: RunningServer
    name: str
    regime: str
    probe: ProbeLogin

    def connect_admin(self, **kwargs) -> psycopg.Connection:
        """The server's superuser: sees past RLS and grants."""
        return self.server.connect_admin(self.name, **kwargs)

    def connect_migrator(self, **kwargs) -> psycopg.Connection:
        """The role migrations run as (``postgres``, no superuser, as on the platform)."""
        return self.server.connect_migrator(self.name, **kwargs)

    def probe_conninfo(self) -> dict[str, str]:
        return self.server.conninfo(self.name, user=self.probe.role, password=self.probe.password)

    def connect_probe(self, **kwargs) -> psycopg.Connection:
        """A plain connection as the authenticator-shaped login."""
        return psycopg.connect(**self.probe_conninfo(), **kwargs)

    def impersonator(self) -> Impersonator:
        return Impersonator(self.probe_conninfo())

    def access_fingerprint(self) -> str:
        """A digest of everything that decides what an API request may do here: the privileges
        on every schema, table, column, sequence, type and function, row level security, the
        policies, the functions' bodies and settings, and the triggers. Two databases built by
        the same migrations with equal digests answer every request alike."""
        with self.connect_admin() as conn:
            return conn.execute(ACCESS_FINGERPRINT).fetchone()[0]


ACCESS_FINGERPRINT = """
with objects(line) as (
    select 'schema ' || n.nspname || ' ' || coalesce(n.nspacl::text, '')
    from pg_namespace n
    union all
    select 'relation ' || c.oid::regclass::text || ' ' || coalesce(c.relacl::text, '') || ' '
           || c.relrowsecurity || c.relforcerowsecurity
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp)'
    union all
    select 'column ' || a.attrelid::regclass::text || '.' || a.attname || ' ' || a.attacl::text
    from pg_attribute a where a.attacl is not null
    union all
    select 'type ' || t.oid::regtype::text || ' ' || t.typacl::text from pg_type t where t.typacl is not null
    union all
    -- a trigger function runs whoever may execute it: its EXECUTE privilege decides nothing
    select 'function ' || p.oid::regprocedure::text || ' '
           || case when p.prorettype in ('trigger'::regtype, 'event_trigger'::regtype) then ''
                   else coalesce(p.proacl::text, '') end || ' '
           || md5(p.prosrc) || p.prosecdef || p.provolatile::text || coalesce(array_to_string(p.proconfig, ','), '')
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname not in ('pg_catalog', 'information_schema')
    union all
    select 'policy ' || p.polrelid::regclass::text || ' ' || p.polname || ' ' || p.polcmd::text || p.polpermissive
           || ' ' || p.polroles::regrole[]::text || ' ' || coalesce(pg_get_expr(p.polqual, p.polrelid), '')
           || ' | ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
    from pg_policy p
    union all
    select 'trigger ' || t.tgrelid::regclass::text || ' ' || t.tgname || ' ' || t.tgfoid::regprocedure::text
           || ' ' || t.tgenabled::text || t.tgtype
    from pg_trigger t where not t.tgisinternal
)
select md5(string_agg(line, E'\\n' order by line)) from objects
"""


def build_template(
    server: RunningServer,
    regime: str,
    source: MigrationSource,
    probe: ProbeLogin,
    seed: Callable[[psycopg.Connection], None] | None,
) -> TestDatabase:
    """Create and migrate the template database for one privilege regime."""
    folder = source.folder()  # fail before creating anything when a file is missing
    name = f"tenantspec_tpl_{regime}_{secrets.token_hex(3)}"
    create_database(server, name)
    try:
        install_standin(server, name, regime)
        with server.connect_migrator(name, autocommit=True) as conn:
            if source.baseline:
                apply_file(conn, source.baseline)
        with server.connect_admin(name, autocommit=True) as conn:
            _install_probe_schema(conn, probe)
        with server.connect_migrator(name, autocommit=True) as conn:
            for migration in folder.migrations:
                apply_migration(conn, migration, platform_roles=ROLE_ATTRIBUTES)
        with server.connect_admin(name, autocommit=True) as conn:
            if seed is not None:
                try:
                    with conn.transaction():
                        seed(conn)
                except (psycopg.Error, ValueError) as exc:
                    raise MigrationError(
                        f"Seeding the template after {source.migrations_dir} failed: {exc}. The "
                        "seed writes the rows every test starts from; the migrations must create "
                        "the tables and columns the project defines."
                    ) from exc
    except BaseException:
        drop_database(server, name)  # never leave a half-built database behind
        raise
    return TestDatabase(server=server, name=name, regime=regime, probe=probe)


def _install_probe_schema(conn: psycopg.Connection, probe: ProbeLogin) -> None:
    with conn.transaction():
        conn.execute(PROBE_SCHEMA_SQL)
        conn.execute(PREEXISTING_SQL)
        ident = sql.Identifier(probe.role)
        conn.execute(sql.SQL("grant usage on schema tenantspec_probe to {}").format(ident))
        conn.execute(
            sql.SQL("grant execute on function tenantspec_probe.snapshot(regclass) to {}").format(
                ident
            )
        )


def clone_database(template: TestDatabase, prefix: str = "tenantspec_t") -> TestDatabase:
    """A fresh copy of the template for one test."""
    name = copy_database(template.server, template.name, prefix)
    return TestDatabase(
        server=template.server, name=name, regime=template.regime, probe=template.probe
    )
