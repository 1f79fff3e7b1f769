"""What the linter assumes about the project it reads: which schemas the API exposes, what
the tenant key is called, which pre-existing tables are tenant-scoped, which default
privileges the project has."""

from __future__ import annotations

from dataclasses import dataclass

from generator.catalog.replay import LEGACY, RESTRICTED  # noqa: F401 (re-exported)

# Supabase's API (PostgREST) exposes these schemas unless the project changes it.
DEFAULT_API_SCHEMAS = frozenset({"public", "graphql_public"})

# Tables the migrations reference but never create. They exist before the first migration
# (see the app's pre-existing objects) and carry a workspace_id, or are the workspaces
# themselves, so a foreign key to them is a foreign key into a tenant.
DEFAULT_WORKSPACE_TABLES = frozenset({
    "public.workspaces",
    "public.workspace_members",
    "public.orders",
})

# Pre-existing SECURITY DEFINER membership checks: each call runs a query.
DEFAULT_MEMBERSHIP_HELPERS = frozenset({"is_workspace_member", "is_workspace_admin"})

# Projects created before 2026-05-30 grant ALL on new public tables and functions to
# anon, authenticated and service_role; newer ones grant nothing. Migrations must be
# right under both, so the linter assumes the more generous (legacy) one by default.


@dataclass(frozen=True)
class LintConfig:
    """Project facts the rules depend on; every field has the Supabase default."""

    api_schemas: frozenset[str] = DEFAULT_API_SCHEMAS
    tenant_column: str = "workspace_id"
    workspace_tables: frozenset[str] = DEFAULT_WORKSPACE_TABLES
    membership_helpers: frozenset[str] = DEFAULT_MEMBERSHIP_HELPERS
    default_privileges: str = LEGACY
