"""Policy tests on a real, Supabase-shaped PostgreSQL, derived from a project's model.

The pytest plugin (`tenantspec.testing.plugin`, registered as the ``tenantspec`` entry point)
starts one server per session, installs the Supabase stand-in, applies a baseline SQL file and
the migrations folder to a template database per default-privilege regime, seeds the world
the project model implies, and hands each test a clone. `tenantspec.testing.proof` is the
whole proof as tests: a project runs it with one line (``from tenantspec.testing.proof import
*``) and writes its own tests against the ``database``, ``impersonate`` and ``world``
fixtures::

    def test_a_viewer_reads_the_notebooks_of_her_organization(impersonate, world):
        with impersonate.as_persona(world.persona("viewer_A")) as conn:
            seen = conn.execute("select count(*) from public.notebooks").fetchone()[0]
        assert seen == len(world.rows_in("notebooks", "A"))

docs/testing.md describes the files a project needs, the fixtures and the settings.
"""

from tenantspec.standin.databases import MigrationError, apply_sql_file, drop_database
from tenantspec.standin.server import (
    RunningServer,
    ServerConfig,
    ServerError,
    start_server,
)
from tenantspec.standin.supabase import (
    PRIVILEGE_REGIMES,
    install_database_standin,
    install_roles,
)
from tenantspec.testing.database import (
    MigrationSource,
    TestDatabase,
    build_template,
    clone_database,
)
from tenantspec.testing.expectations import AccessModel, Outcome, Request
from tenantspec.testing.impersonate import (
    Attempt,
    Impersonator,
    attempt,
    switch_identity,
    table_snapshot,
    tables_snapshot,
)
from tenantspec.testing.intent import Intent, IntentError, load_intent
from tenantspec.testing.personas import Persona, build_personas
from tenantspec.testing.seeding import seed_world
from tenantspec.testing.state import State
from tenantspec.testing.world import Row, World, WorldError, build_world

__all__ = [
    "PRIVILEGE_REGIMES",
    "AccessModel",
    "Attempt",
    "Impersonator",
    "Intent",
    "IntentError",
    "MigrationError",
    "MigrationSource",
    "Outcome",
    "Persona",
    "Request",
    "Row",
    "RunningServer",
    "ServerConfig",
    "ServerError",
    "State",
    "TestDatabase",
    "World",
    "WorldError",
    "apply_sql_file",
    "attempt",
    "build_personas",
    "build_template",
    "build_world",
    "clone_database",
    "drop_database",
    "install_database_standin",
    "install_roles",
    "load_intent",
    "seed_world",
    "start_server",
    "switch_identity",
    "table_snapshot",
    "tables_snapshot",
]
