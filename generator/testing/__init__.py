"""Policy tests on a real, Supabase-shaped PostgreSQL.

The pytest plugin (`generator.testing.plugin`, registered as the ``tenantspec`` entry point)
starts one server per session, installs the Supabase stand-in, applies a baseline SQL file and
the migrations folder to a template database per default-privilege regime, and hands each test
a clone. Another project uses it on its own migrations by installing this package and setting
``MIGRATIONS_DIR`` and ``TENANTSPEC_BASELINE`` (or the ``tenantspec_migrations_dir`` and
``tenantspec_baseline`` ini options), then writing tests against the ``database`` and
``impersonate`` fixtures::

    def test_anon_reads_nothing(impersonate):
        with impersonate.as_anon() as conn:
            assert conn.execute("select count(*) from public.notes").fetchone()[0] == 0

Environment: DATABASE_URL (use that server), TENANTSPEC_DB=container (testcontainers),
TENANTSPEC_PG_BIN (other PostgreSQL binaries for the embedded server), TENANTSPEC_PRIVILEGES
(legacy, 2026 or both), TENANTSPEC_PG_TMPDIR (where the embedded cluster lives).
"""

from generator.testing.database import (
    MigrationError,
    MigrationSource,
    TestDatabase,
    apply_sql_file,
    build_template,
    clone_database,
    drop_database,
)
from generator.testing.impersonate import Impersonator, switch_identity, table_snapshot
from generator.testing.personas import Persona, build_personas
from generator.testing.world import World, build_world, seed_world
from generator.testing.server import RunningServer, ServerConfig, ServerError, start_server
from generator.testing.supabase import PRIVILEGE_REGIMES, install_database_standin, install_roles

__all__ = [
    "PRIVILEGE_REGIMES",
    "Impersonator",
    "MigrationError",
    "MigrationSource",
    "Persona",
    "RunningServer",
    "ServerConfig",
    "ServerError",
    "TestDatabase",
    "apply_sql_file",
    "build_template",
    "clone_database",
    "drop_database",
    "install_database_standin",
    "install_roles",
    "start_server",
    "switch_identity",
    "table_snapshot",
]
