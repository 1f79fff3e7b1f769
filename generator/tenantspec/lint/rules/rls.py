"""Rules on row-level security switched on and off, and policies on tables without it."""

from __future__ import annotations

from typing import Iterator

from tenantspec.catalog.state import SchemaState
from tenantspec.lint.config import LintConfig
from tenantspec.lint.rules.base import (
    COMMANDS,
    Severity,
    Violation,
    api_tables,
    created_tables,
    may_run,
    rule,
)
from tenantspec.lint.tenancy import Tenancy

# ---------------------------------------------------------------- RLS on and off

@rule("rls-disabled", Severity.ERROR, "table in an API-exposed schema without row-level security")
def rls_disabled(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A table in a schema the API exposes (`public` by default) whose row-level security
    is off after the whole folder. With RLS off every role that holds a grant reads and
    writes every row, across tenants, straight through the REST API. Fix: `alter table t
    enable row level security;` and add policies; if the table really is public data,
    say so with a suppression comment and grant only SELECT."""
    for table in api_tables(state, config):
        if not table.rls:
            yield Violation(table.rls_origin or table.origin,
                            f"{table.qualified_name} is exposed by the API but row-level security is off")


@rule("rls-without-policy", Severity.INFO, "row-level security on, no policy, API roles still granted")
def rls_without_policy(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A table in an API-exposed schema with row-level security on and no policy. That is
    the usual way to keep a table for service_role (which bypasses RLS) alone, and it is
    only reported while anon or authenticated still hold privileges on it, which then do
    nothing and hide the intent (info). A table with only RESTRICTIVE policies is reported
    as a warning: they narrow permissive policies and grant nothing alone, so nobody but
    service_role can use it, which is rarely what restrictive policies were written for.
    Fix: for a service-role-only table, `revoke all on table t from anon, authenticated;`;
    otherwise add the permissive policies."""
    for table in api_tables(state, config):
        if not table.rls or any(p.permissive for p in table.policies.values()):
            continue
        granted = [r for r in ("anon", "authenticated") if may_run(state, table, r, COMMANDS)]
        if not table.policies:
            if granted:
                yield Violation(table.rls_origin,
                                f"{table.qualified_name} has row-level security on and no policy: only service_role "
                                f"can use it, yet {', '.join(granted)} still hold privileges; revoke them to say so")
        else:
            yield Violation(table.rls_origin,
                            f"{table.qualified_name} has only restrictive policies: they narrow permissive "
                            f"ones, and without one only service_role can use the table", Severity.WARNING)


@rule("policy-without-rls", Severity.ERROR, "policy on a table whose row-level security is off")
def policy_without_rls(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A policy on a table whose row-level security is off after the whole folder.
    PostgreSQL stores the policy but never applies it, so the table looks protected in
    review and is not. Fix: `alter table t enable row level security;`."""
    for table in created_tables(state):
        if table.rls:
            continue
        for policy in table.policies.values():
            yield Violation(policy.origin, f"policy {policy.name!r} on {table.qualified_name} has no effect: "
                                           f"row-level security is off")
