"""Rules on policies: roles, expressions that are always true, per-row calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from pglast import ast

from tenantspec.catalog.expression import (
    display_call,
    display_expression,
    per_row_calls,
)
from tenantspec.catalog.nodes import function_name
from tenantspec.catalog.state import PUBLIC, Origin, Policy, SchemaState, Table
from tenantspec.lint.conditions import reads_row, top_level_columns, true_for
from tenantspec.lint.config import LintConfig
from tenantspec.lint.rules.base import (
    AUTH_FUNCTIONS,
    SETTING_FUNCTIONS,
    STORAGE_OBJECTS,
    WRITE_COMMANDS,
    Severity,
    Violation,
    all_policies,
    may_run,
    policy_commands,
    policy_enforced,
    policy_expressions,
    policy_roles,
    rule,
)
from tenantspec.lint.rules.functions import helper_test
from tenantspec.lint.tenancy import Tenancy

# ---------------------------------------------------------------- policies

@rule("policy-without-role", Severity.WARNING, "policy without TO (applies to PUBLIC, anon included)")
def policy_without_role(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A policy with no `TO` clause (or `TO public`). It applies to PUBLIC: anon
    requests evaluate it too, and a mistake in it reaches users who are not signed in;
    PostgreSQL also cannot skip it for roles it does not concern. Fix: name the roles,
    usually `to authenticated`."""
    for table, policy in all_policies(state):
        if not policy.roles_given:
            yield Violation(policy.origin, f"policy {policy.name!r} on {table.qualified_name} has no TO clause: "
                                           f"it applies to PUBLIC, anon included; add `to authenticated`")
        elif PUBLIC in policy.roles:
            yield Violation(policy.origin, f"policy {policy.name!r} on {table.qualified_name} is TO public: "
                                           f"anon included; name the roles instead")


def narrowed(table: Table, policy: Policy, commands, roles: frozenset[str]) -> bool:
    """Whether a RESTRICTIVE policy that reads the row applies to every one of ``roles``
    for every one of ``commands``: it then narrows a permissive policy, whatever that says."""
    for command in commands:
        for role in roles:
            if not any(not other.permissive and other.command in (command, "all") and role in policy_roles(other)
                       and any(reads_row(e, table) for _, e in policy_expressions(other))
                       for other in table.policies.values()):
                return False
    return True


@dataclass(frozen=True)
class Opening:
    clause: str
    expression: ast.Node
    roles: frozenset[str]
    commands: tuple[str, ...]


def opening(state: SchemaState, table: Table, policy: Policy, commands) -> Opening | None:
    """The first clause of a permissive policy that is true whatever the row for a request
    role that may run one of ``commands`` (and that no restrictive policy narrows)."""
    commands = tuple(c for c in policy_commands(policy) if c in commands)
    if not policy.permissive or not commands:
        return None
    for clause, expression in policy_expressions(policy):
        applies = [c for c in commands if c in (("select", "update", "delete") if clause == "USING"
                                               else ("insert", "update"))]
        roles = frozenset(r for r in true_for(expression) & policy_roles(policy)
                          if may_run(state, table, r, applies))
        if roles and applies and not narrowed(table, policy, applies, roles):
            return Opening(clause, expression, roles, tuple(applies))
    return None


VERBS = {"select": "read", "update": "change", "delete": "delete"}


def who(roles: frozenset[str]) -> str:
    if "anon" in roles:
        return "anyone, anon included (the project's public key is enough),"
    return "every signed-in user (sign-up is usually open)"


def belonging(table: Table, tenancy: Tenancy) -> str:
    """`` though its rows belong to someone (organization_id, user_id)``, or nothing."""
    key = (table.schema, table.name)
    columns = [c.column for c in tenancy.columns_of(key)] + list(tenancy.owners_of(key))
    return f" though its rows belong to someone ({', '.join(dict.fromkeys(columns))})" if columns else ""


def rows_of(table: Table) -> str:
    if (table.schema, table.name) == STORAGE_OBJECTS:
        return "every file in every bucket"
    return f"every row of {table.qualified_name}"


def what_opens(table: Table, found: Opening) -> str:
    """What an always-true clause lets through: USING picks the rows, WITH CHECK the values."""
    if found.clause == "USING":
        return f"{' and '.join(VERBS[c] for c in found.commands)} {rows_of(table)}"
    files = (table.schema, table.name) == STORAGE_OBJECTS
    parts = []
    if "insert" in found.commands:
        parts.append(f"{'upload any file to any bucket' if files else f'insert any row into {table.qualified_name}'}")
    if "update" in found.commands:
        parts.append("give the rows it updates any values")
    return " and ".join(parts)


@rule("open-write-policy", Severity.ERROR, "INSERT/UPDATE/DELETE policy whose USING or WITH CHECK is always true")
def open_write_policy(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A permissive INSERT, UPDATE, DELETE (or ALL) policy whose USING or WITH CHECK is true
    whatever the row: `true`, `1 = 1`, or a test that only says the request is signed in
    (`auth.uid() is not null`, `auth.role() = 'authenticated'`), on a table requests reach:
    an API-exposed schema, or `storage` (Storage enforces the policies on `storage.objects`
    for anon and authenticated requests although the Data API does not expose it). Tables
    the folder does not create, such as `storage.objects`, count too: the policy is the
    folder's. Any signed-in user may then write every row, and with `TO public` or `TO
    anon` anyone with the project's public key. Not reported when the roles it reaches lack
    the privilege or USAGE on the schema, or when a RESTRICTIVE policy that reads the row
    applies too. Fix: constrain the rows, e.g. `with check (user_id = (select auth.uid()))`,
    or `bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text`
    on storage.objects."""
    for table, policy in all_policies(state):
        if not policy_enforced(table, config):
            continue
        found = opening(state, table, policy, WRITE_COMMANDS)
        if found is None:
            continue
        yield Violation(policy.origin, f"policy {policy.name!r} ({policy.command}) on {table.qualified_name}: "
                                       f"{found.clause} ({display_expression(found.expression)}) is always true, so "
                                       f"{who(found.roles)} may {what_opens(table, found)}{belonging(table, tenancy)}")


@rule("open-read-policy", Severity.WARNING, "SELECT policy always true on a table whose rows belong to users or tenants")
def open_read_policy(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A permissive SELECT (or ALL) policy whose USING is true whatever the row, on a table
    requests reach whose rows belong to someone: it has an owner column (a foreign key to
    the users table), a tenant column, or it is `storage.objects` (files of every bucket,
    private ones included). Every signed-in user (anyone, with `TO public`/`anon`) reads
    every user's or tenant's rows. Public data is a legitimate reason: say so with a
    suppression. An ALL policy that `open-write-policy` reports is not reported again. Fix:
    filter on the owner or tenant, e.g. `using (organization_id = any (array(select
    private.my_organization_ids())))`, or `bucket_id = 'public-assets'` on storage.objects."""
    for table, policy in all_policies(state):
        key = (table.schema, table.name)
        owned = tenancy.owners_of(key) or tenancy.columns_of(key) or key == STORAGE_OBJECTS
        if not policy_enforced(table, config) or not owned:
            continue
        if opening(state, table, policy, WRITE_COMMANDS) is not None:
            continue
        found = opening(state, table, policy, ("select",))
        if found is None:
            continue
        yield Violation(policy.origin, f"policy {policy.name!r} ({policy.command}) on {table.qualified_name}: "
                                       f"USING ({display_expression(found.expression)}) is always true, so "
                                       f"{who(found.roles)} may read {rows_of(table)}{belonging(table, tenancy)}")


def is_auth_call(call: ast.FuncCall) -> bool:
    schema, name = function_name(call)
    return (schema, name) in AUTH_FUNCTIONS or name in SETTING_FUNCTIONS


@rule("auth-call-per-row", Severity.WARNING, "auth.uid()/auth.jwt()/auth.role()/current_setting() evaluated per row")
def auth_call_per_row(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """`auth.uid()`, `auth.jwt()`, `auth.role()`, `auth.email()` or `current_setting()` in
    a policy outside a subquery, or inside a subquery that reads the row. The value is the
    same for the whole statement, but written bare it is computed for every row (100K rows:
    179 ms against 9 ms). Fix: wrap it, `(select auth.uid())`, so the planner runs it once
    as an initPlan."""
    for table, policy in all_policies(state):
        for clause, expression in policy_expressions(policy):
            for call, where in per_row_calls(state, expression, table, is_auth_call):
                context = "" if where == "row" else " inside a subquery that reads the row"
                yield Violation(Origin(policy.origin.statement, call.location),
                                f"policy {policy.name!r} {clause}: {display_call(call)} is evaluated per row"
                                f"{context}; write (select {display_call(call)})")


@rule("helper-call-per-row", Severity.WARNING, "membership helper evaluated per row")
def helper_call_per_row(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A membership helper called in a policy once per row: a SECURITY DEFINER function of
    the folder, a function named in the configuration, or a function the folder does not
    create that is given a tenant column (`is_member(organization_id)`). Each call runs a
    query as the function's owner; on a large table that is one query per row (178 s
    against 12 ms). Fix: compare the column against the set of the user's tenants computed
    once, e.g. `organization_id = any (array(select private.my_organization_ids()))`; a call
    that does not read the row only needs wrapping in `(select ...)`."""
    is_helper = helper_test(state, config, tenancy)
    for table, policy in all_policies(state):
        for clause, expression in policy_expressions(policy):
            for call, where in per_row_calls(state, expression, table, is_helper):
                if where == "correlated":
                    advice = ("inside a subquery that reads the row; compare the row's key with an "
                              "initPlan set such as = any (array(select <ids the user may see>))")
                elif top_level_columns(call):
                    advice = ("it is given a column of the row, so wrapping it does not help: compare the "
                              "column with = any (array(select <the ids the user may see>)) so the set is "
                              "computed once")
                else:
                    advice = f"write (select {display_call(call)})"
                yield Violation(Origin(policy.origin.statement, call.location),
                                f"policy {policy.name!r} {clause}: {display_call(call)} runs once per row; {advice}")
