"""Roles belong to the server, not to a database: the proof builds one template per privilege
regime on the same server, so a migration's `create role` (a Prisma or reporting login) meets
the role the other template's run made. That run made it; the statement is skipped there, and
a role the platform has is still refused as on the platform."""

from __future__ import annotations

import pytest
from tenantspec.standin.databases import drop_database
from tenantspec.standin.migrate import MigrationError
from tenantspec.testing.database import MigrationSource, build_template

MIGRATION = """\
create table public.things (id uuid primary key default gen_random_uuid());
create user "Reporting" with password 'secret' bypassrls;
create role analytics_{suffix} nologin;
grant select on public.things to "Reporting", analytics_{suffix};
"""


def test_a_role_a_migration_creates_is_made_once_for_every_template(tmp_path, tenantspec_server):
    server = tenantspec_server.server
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations/20250101000000_roles.sql").write_text(MIGRATION.format(suffix=tmp_path.name[-6:].lower()))
    source = MigrationSource(None, tmp_path / "migrations")
    built = []
    try:
        for regime in ("legacy", "2026"):
            built.append(build_template(server, regime, source, tenantspec_server.probe, None))
        for template in built:
            with server.connect_admin(template.name) as conn:
                grantees = {row[0] for row in conn.execute(
                    "select grantee from information_schema.role_table_grants where table_name = 'things'")}
            assert "Reporting" in grantees and any(g.startswith("analytics_") for g in grantees)
    finally:
        for template in built:
            drop_database(server, template.name)
        with server.connect_admin(autocommit=True) as conn:
            for (role,) in conn.execute("select rolname from pg_roles where rolname = 'Reporting' "
                                        "or rolname like 'analytics\\_%'").fetchall():
                conn.execute(f'drop role "{role}"')


def test_a_platform_role_created_again_is_still_refused(tmp_path, tenantspec_server):
    server = tenantspec_server.server
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations/20250101000000_roles.sql").write_text("create role authenticator;\n")
    with pytest.raises(MigrationError, match="42710"):
        build_template(server, "legacy", MigrationSource(None, tmp_path / "migrations"), tenantspec_server.probe, None)
