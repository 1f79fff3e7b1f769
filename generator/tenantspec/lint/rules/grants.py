"""Rules on grants: broad or ungoverned privileges for the API roles, legacy default grants."""

from __future__ import annotations

from typing import Callable, Iterator

from tenantspec.catalog.state import Origin, SchemaState, Table
from tenantspec.lint.config import LintConfig
from tenantspec.lint.rules.base import (
    REQUEST_ROLES,
    UNGOVERNED_PRIVILEGES,
    Severity,
    Violation,
    anon_writes_without_rls,
    created_tables,
    role_label,
    rule,
    statement_order,
)
from tenantspec.lint.tenancy import Tenancy

# ---------------------------------------------------------------- grants

def ungoverned_by_role(state: SchemaState, table: Table, granted: bool,
                       order: Callable[[Origin], int]) -> Iterator[tuple[str, list[str], Origin]]:
    """``(role, privileges, origin)`` for each request role that can reach ``table`` (USAGE
    on its schema) and holds ungoverned privileges: with ``granted``, roles holding one by a
    GRANT (all the ungoverned privileges they hold are listed, at the first such GRANT);
    otherwise roles holding them only by default privileges. Each role is reported once."""
    for role in REQUEST_ROLES:
        grants = {p: table.privileges.get(role, {}).get(p) for p in UNGOVERNED_PRIVILEGES}
        grants = {p: g for p, g in grants.items() if g is not None}
        explicit = [g.origin for g in grants.values() if not g.by_default]
        if not grants or not state.may_use_schema(role, table.schema) or bool(explicit) != granted:
            continue
        yield role, list(grants), min(explicit or [g.origin for g in grants.values()], key=order)


def grant_severity(state: SchemaState, table: Table) -> tuple[Severity | None, str]:
    """Raised to error, with the reason, when anon or authenticated may write to the table
    while its row-level security is off."""
    writers = anon_writes_without_rls(state, table)
    if writers:
        return Severity.ERROR, f"; and row-level security is off, so {', '.join(writers)} may write every row"
    return None, ""


@rule("api-role-broad-grant", Severity.WARNING, "GRANT ALL, TRUNCATE, REFERENCES or TRIGGER to anon or authenticated")
def api_role_broad_grant(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A GRANT that leaves anon, authenticated or PUBLIC holding TRUNCATE, REFERENCES or
    TRIGGER on a table (GRANT ALL included); one finding per table and role, at the first
    such GRANT, listing every one of them the role holds (default privileges included, so
    `legacy-default-grant` does not report the role again). Row-level security does not govern them: REFERENCES
    lets the role pin rows with its own foreign keys, TRUNCATE empties the table for any SQL
    that runs as the role. The Data API itself cannot issue TRUNCATE, so this is hardening
    (a warning), unless anon or authenticated may also write to the table while its
    row-level security is off (an error). Fix: grant only the commands the role needs, e.g.
    `grant select, insert, update on table t to authenticated;`."""
    order = statement_order(state)
    for table in state.tables.values():
        severity, reason = grant_severity(state, table)
        for role, privileges, origin in ungoverned_by_role(state, table, True, order):
            yield Violation(origin, f"{table.qualified_name}: {role_label(role)} holds "
                                    f"{', '.join(privileges).upper()} after this GRANT; row-level security does not "
                                    f"govern these, grant only the commands needed{reason}", severity)


@rule("legacy-default-grant", Severity.WARNING, "table keeps the ALL that legacy default privileges gave anon/authenticated")
def legacy_default_grant(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A table created in a schema whose default privileges (Supabase projects created
    before 2026-05-30: `grant all on tables to anon, authenticated, service_role`) hand the
    API roles ALL, and that the folder never takes back; one finding per table and role
    (a role that also got one of them by GRANT is reported by `api-role-broad-grant`).
    anon and authenticated then hold TRUNCATE, REFERENCES and TRIGGER, which row-level
    security does not govern. A warning, raised to an error when anon or authenticated may
    write to the table while its row-level security is off. Fix: after creating the table,
    `revoke all on table t from public, anon, authenticated;` and grant exactly the commands
    each role needs, so the table is right under both the old and the new default
    privileges."""
    order = statement_order(state)
    for table in created_tables(state):
        severity, reason = grant_severity(state, table)
        for role, privileges, origin in ungoverned_by_role(state, table, False, order):
            yield Violation(origin, f"{table.qualified_name}: default privileges leave {role_label(role)} "
                                    f"{', '.join(privileges).upper()}; revoke all from anon, authenticated and "
                                    f"grant explicitly{reason}", severity)
