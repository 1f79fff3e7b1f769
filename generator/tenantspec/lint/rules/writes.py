"""Rules on the tenancy of writes: policies that never check the tenant, references into
another tenant, UPDATE without WITH CHECK, duplicate permissive policies, IN subqueries,
views that run as their owner."""

from __future__ import annotations

from typing import Iterator

from pglast import ast, enums

from tenantspec.catalog.expression import correlated, display_expression, ties_column
from tenantspec.catalog.nodes import walk
from tenantspec.catalog.state import PUBLIC, Origin, Policy, SchemaState, Table
from tenantspec.lint.config import LintConfig
from tenantspec.lint.rules.base import (
    STORAGE_SCHEMA,
    WRITE_COMMANDS,
    Severity,
    Violation,
    all_policies,
    policy_commands,
    policy_enforced,
    policy_expressions,
    reaching_roles,
    rule,
)
from tenantspec.lint.rules.policies import opening
from tenantspec.lint.tenancy import Tenancy, tenant_noun

# ---------------------------------------------------------------- tenancy of writes

def deciding_clauses(policy: Policy) -> list[tuple[str, ast.Node]]:
    """The clauses that decide which rows a write policy lets a user touch: WITH CHECK for
    new rows (USING when UPDATE reuses it), USING for the rows UPDATE and DELETE change."""
    commands = policy_commands(policy)
    clauses = []
    if policy.using is not None and any(c in commands for c in ("update", "delete")):
        clauses.append(("USING", policy.using))
    checked = checked_expression(policy)
    if checked is not None and checked is not policy.using:
        clauses.append(("WITH CHECK", checked))
    return clauses


def checked_expression(policy: Policy):
    """The expression new rows must pass: WITH CHECK, or USING when it is reused."""
    if policy.command not in ("insert", "update", "all"):
        return None
    if policy.check is not None:
        return policy.check
    return policy.using if policy.command != "insert" else None


def restrictive_ties(table: Table, policy: Policy, clause: str, column: str) -> bool:
    """Whether a RESTRICTIVE policy for the same command ties ``column`` in the same clause."""
    for other in table.policies.values():
        if other.permissive or other.command not in (policy.command, "all"):
            continue
        expression = other.using if clause == "USING" else checked_expression(other)
        if expression is not None and ties_column(expression, table, column):
            return True
    return False


def tied(table: Table, policy: Policy, clause: str, expression, column: str) -> bool:
    return ties_column(expression, table, column) or restrictive_ties(table, policy, clause, column)


def unscoped_clauses(state: SchemaState, table: Table, policy: Policy,
                     tenancy: Tenancy) -> tuple[list[tuple[str, list[str]]], str]:
    """For a permissive write policy: each clause that ties none of the columns it must tie,
    with those columns, and what the table's rows belong to ("tenant", "owner", "root").

    New rows (WITH CHECK) must be tied to the user's tenant when the table has a tenant
    column, else to the user through an owner column. The rows UPDATE and DELETE may touch
    (USING) may be tied either way: a user's own rows are fine. A root's rows are tenants
    themselves: its key, a tenant or an owner column will do."""
    key = (table.schema, table.name)
    tenant = [c.column for c in tenancy.columns_of(key)]
    owners = list(tenancy.owners_of(key))
    if key in tenancy.roots:
        kind, new_rows, old_rows = "root", root_key(state, key) + tenant + owners, None
    elif tenant:
        kind, new_rows, old_rows = "tenant", tenant, tenant + owners
    else:
        kind, new_rows, old_rows = "owner", owners, owners
    missing = []
    for clause, expression in deciding_clauses(policy):
        columns = list(dict.fromkeys(old_rows if clause == "USING" and old_rows is not None else new_rows))
        if columns and not any(tied(table, policy, clause, expression, c) for c in columns):
            missing.append((clause, columns))
    return missing, kind


def root_key(state: SchemaState, root: tuple[str, str]) -> list[str]:
    """The columns foreign keys reference in a root (``id`` when none says)."""
    columns = [c for table in state.tables.values() for fk in table.foreign_keys if fk.target == root
               for c in fk.target_columns]
    return list(dict.fromkeys(columns or ["id"]))


def write_policies(state: SchemaState, config: LintConfig) -> Iterator[tuple[Table, Policy]]:
    """Permissive INSERT/UPDATE/DELETE/ALL policies requests reach, that are not always true
    (``open-write-policy`` reports those)."""
    for table, policy in all_policies(state):
        if (policy.permissive and policy.command != "select" and policy_enforced(table, config)
                and reaching_roles(state, table, policy, WRITE_COMMANDS)
                and opening(state, table, policy, WRITE_COMMANDS) is None):
            yield table, policy


@rule("unscoped-write-policy", Severity.ERROR, "write policy that never checks the row's tenant or owner")
def unscoped_write_policy(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A permissive INSERT, UPDATE, DELETE (or ALL) policy that never ties the row to the
    user. New rows (WITH CHECK, or USING reused by UPDATE) must tie one of the table's tenant
    columns (see "How tenants are found" in docs/lint.md), or, on a table without one, one
    of its owner columns (foreign keys to the users table); the rows UPDATE and DELETE may
    touch (USING) may be tied either way, since a user's own rows are fine. On a tenant root
    its key will do too. Otherwise a signed-in user may write rows into any organization, or
    as any user. A column counts as tied when some AND-ed part of the clause reads it
    together with a subquery or function (`user_id = (select auth.uid())`, `organization_id
    = any (array(select ...))`); a RESTRICTIVE policy for the same command that ties it
    counts for every permissive one. Only policies on tables requests reach (API-exposed
    schemas, `storage`) that a request role may use are checked. Fix: add the check, e.g.
    `with check (organization_id = any (array(select private.my_organization_ids())))`."""
    for table, policy in write_policies(state, config):
        missing, kind = unscoped_clauses(state, table, policy, tenancy)
        if not missing:
            continue
        grouped: dict[tuple[str, ...], list[str]] = {}
        for clause, columns in missing:
            grouped.setdefault(tuple(columns), []).append(clause)
        clauses = "; ".join(f"{' and '.join(names)} never check{'s' if len(names) == 1 else ''} {' or '.join(columns)}"
                            for columns, names in grouped.items())
        verb = {("WITH CHECK",): "write rows into", ("USING",): "change or delete rows of"}.get(
            tuple(clause for clause, _ in missing), "write rows of")
        if kind == "root":
            effect = f"a user may {verb.split(' rows')[0]} any {tenant_noun((table.schema, table.name))}"
        elif kind == "tenant":
            effect = f"a user may {verb} any {tenant_noun(tenancy.root_of((table.schema, table.name)))}"
        else:
            effect = f"a user may {verb.split(' rows')[0]} other users' rows"
        yield Violation(policy.origin, f"policy {policy.name!r} ({policy.command}) on {table.qualified_name}: "
                                       f"{clauses}; {effect}")


@rule("cross-tenant-reference", Severity.ERROR, "INSERT/UPDATE policy lets a foreign key point into another tenant")
def cross_tenant_reference(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A permissive INSERT or UPDATE policy on a table with a foreign key to a
    tenant-scoped table, whose WITH CHECK never ties that column to the user's tenant.
    Foreign-key checks run without row-level security, so a member of tenant A can insert a
    row pointing at tenant B's row, and B's data then shows up (or cascades) through A's
    row. A column counts as tied when some AND-ed part of the check reads it together with
    a subquery or function: a membership set (`project_id = any (array(select ...))`) or a
    lookup of the referenced row's tenant. RESTRICTIVE policies only narrow and are not
    reported; one that ties the column counts for every permissive one. A policy that ties
    none of the row's own tenant columns is reported once, by `unscoped-write-policy`. Only
    policies on tables requests reach (API-exposed schemas, `storage`) that a request role
    may use are checked. Fix:
    add to WITH CHECK, e.g. `(select p.organization_id from public.projects p where p.id =
    project_id) = organization_id`, or use a composite foreign key `(organization_id,
    project_id) references projects (organization_id, id)`."""
    for table, policy in write_policies(state, config):
        if policy.command not in ("insert", "update", "all"):
            continue
        if unscoped_clauses(state, table, policy, tenancy)[0]:
            continue  # the row itself is not tied to the user: reported once, as unscoped
        expression = checked_expression(policy)
        key = (table.schema, table.name)
        tenant = {c.column for c in tenancy.columns_of(key)}
        for fk in table.foreign_keys:
            if fk.target in tenancy.users_tables or not tenancy.scoped(fk.target):
                continue
            if len(fk.columns) > 1 and tenant & set(fk.columns):
                continue  # a composite key through the row's tenant pins the tenant itself
            for column in fk.columns:
                if expression is not None and tied(table, policy, "WITH CHECK", expression, column):
                    continue
                target = f"{fk.target[0]}.{fk.target[1]}"
                noun = tenant_noun(tenancy.root_of(fk.target))
                yield Violation(policy.origin,
                                f"policy {policy.name!r} ({policy.command}) on {table.qualified_name} never ties "
                                f"{column} (references {target}) to the user's {noun}: a row may point "
                                f"at another {noun}'s {fk.target[1]}")


@rule("update-policy-without-check", Severity.INFO, "UPDATE policy without WITH CHECK")
def update_policy_without_check(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """An UPDATE (or ALL) policy with USING but no WITH CHECK. PostgreSQL then checks the
    new row against USING, which is often what was meant but hides the decision: a
    reviewer cannot tell whether moving a row to another tenant was considered. Fix: write
    the WITH CHECK out, even when it repeats USING."""
    for table, policy in all_policies(state):
        if policy.command in ("update", "all") and policy.using is not None and policy.check is None:
            yield Violation(policy.origin, f"policy {policy.name!r} ({policy.command}) on {table.qualified_name} "
                                           f"has no WITH CHECK: new rows are checked with USING")


@rule("duplicate-permissive-policy", Severity.WARNING, "two permissive policies for the same role and command")
def duplicate_permissive_policy(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """Two permissive policies on one table that apply to the same role and command
    (`for all` counts for every command; a policy without TO counts for anon and
    authenticated). PostgreSQL ORs them and evaluates every one for every row, which costs
    time and makes the effective rule hard to read. Policies on Storage's tables are left
    alone: one policy per bucket is how Storage access is written. Fix: merge them into one
    policy per role and command, or make the extra condition a RESTRICTIVE policy if it must
    always hold."""
    for table in state.tables.values():
        if table.schema == STORAGE_SCHEMA:
            continue
        permissive = [p for p in table.policies.values() if p.permissive]
        for i, later in enumerate(permissive):
            for earlier in permissive[:i]:
                shared = sorted(policy_scope(earlier) & policy_scope(later))
                if shared:
                    pairs = ", ".join(f"{role} {command}" for role, command in shared)
                    yield Violation(later.origin,
                                    f"policies {earlier.name!r} and {later.name!r} on {table.qualified_name} "
                                    f"are both permissive for {pairs}; merge them")


def policy_scope(policy: Policy) -> set[tuple[str, str]]:
    roles = set(policy.roles)
    if PUBLIC in roles:
        roles = (roles - {PUBLIC}) | {"anon", "authenticated"}
    return {(role, command) for role in roles for command in policy_commands(policy)}


@rule("policy-in-subquery", Severity.INFO, "policy filters a column with IN (select ...) instead of = any (array(select ...))")
def policy_in_subquery(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A policy that filters a column with `col in (select ...)` where the subquery does
    not read the row. PostgreSQL turns it into a hashed subplan that is still probed for
    every row of the table, while `col = any (array(select ...))` makes the set an
    initPlan the planner can match against an index on `col` (1M rows: a scan against
    2 ms). Fix: write `col = any (array(select ...))` and index the column."""
    for table, policy in all_policies(state):
        for clause, expression in policy_expressions(policy):
            for node, _ in walk(expression):
                if (isinstance(node, ast.SubLink) and node.subLinkType == enums.SubLinkType.ANY_SUBLINK
                        and isinstance(node.testexpr, ast.ColumnRef) and not correlated(state, node, table)):
                    column = display_expression(node.testexpr)
                    yield Violation(Origin(policy.origin.statement, node.location),
                                    f"policy {policy.name!r} {clause}: {column} in (select ...) is probed per row; "
                                    f"write {column} = any (array(select ...)) so an index on {column} can be used")


@rule("view-without-security-invoker", Severity.WARNING, "view in an API-exposed schema that runs as its owner")
def view_without_security_invoker(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A view in an API-exposed schema without `security_invoker = true`. A view runs
    with its owner's rights unless told otherwise; the owner is the migration role, which
    bypasses row-level security on the platform, so the view hands every tenant's rows to
    anyone who may select from it. Fix: `create view v with (security_invoker = true) as
    ...` (PostgreSQL 15+), or keep the view out of the exposed schemas."""
    for view in state.views.values():
        if view.schema in config.api_schemas and not view.security_invoker:
            yield Violation(view.origin, f"view {view.qualified_name} runs as its owner and bypasses row-level "
                                         f"security; create it with (security_invoker = true)")
