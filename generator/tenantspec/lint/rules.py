"""The lint rules: one function per rule, run on the schema state after the whole folder.

Each rule has an id, a severity and a one-paragraph doc (what it finds, why it matters, how
to fix it) that ``tenantspec lint --explain RULE-ID`` prints. A check takes the replayed
state, the configuration and the tenancy read from the state (``tenancy.py``), and yields
``Violation``s pointing at the statement that brought the problem about; a violation may
carry its own severity when the rule's usual one over- or understates it.
"""

from __future__ import annotations

import enum
import inspect
from dataclasses import dataclass
from typing import Callable, Iterator

from pglast import ast, enums

from tenantspec.catalog.expression import (
    calls, correlated, display_call, display_expression, per_row_calls, ties_column,
)
from tenantspec.catalog.nodes import column_ref_name, function_name, walk
from tenantspec.catalog.replay import PUBLIC, Grant, Origin, Policy, SchemaState, Table
from tenantspec.lint.conditions import EVERYONE, constant, reads_row, top_level_columns, true_for
from tenantspec.lint.config import LintConfig
from tenantspec.lint.tenancy import Tenancy, tenant_noun


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Violation:
    origin: Origin
    message: str
    severity: Severity | None = None  # None: the rule's own


Check = Callable[[SchemaState, LintConfig, Tenancy], Iterator[Violation]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    doc: str
    check: Check | None


RULES: dict[str, Rule] = {}


def rule(rule_id: str, severity: Severity, summary: str):
    """Register a rule; its docstring is the doc ``--explain`` prints."""
    def register(check):
        RULES[rule_id] = Rule(rule_id, severity, summary, inspect.cleandoc(check.__doc__), check)
        return check
    return register


def note(rule_id: str, severity: Severity, summary: str, doc: str) -> None:
    """Register a rule that the linter itself reports (about suppressions), not a state check."""
    RULES[rule_id] = Rule(rule_id, severity, summary, inspect.cleandoc(doc), None)


# Roles that PostgREST switches to for requests; PUBLIC includes them.
REQUEST_ROLES = ("anon", "authenticated", PUBLIC)
# Privileges row-level security does not govern, or that hand over the table's structure.
UNGOVERNED_PRIVILEGES = ("truncate", "references", "trigger")
AUTH_FUNCTIONS = {("auth", "uid"), ("auth", "jwt"), ("auth", "role"), ("auth", "email")}
SETTING_FUNCTIONS = {"current_setting"}
COMMANDS = ("select", "insert", "update", "delete")
WRITE_COMMANDS = ("insert", "update", "delete")
# Functions PostgreSQL only runs as triggers: nobody can call them, through /rpc or otherwise.
TRIGGER_RETURN_TYPES = ("trigger", "event_trigger")
# Supabase Storage enforces the policies on its tables for the request's role and JWT,
# like PostgREST, although the Data API does not expose the schema.
STORAGE_SCHEMA = "storage"
STORAGE_OBJECTS = ("storage", "objects")
# Time zones that are UTC under another name (timezone() and AT TIME ZONE accept them).
UTC_ZONES = {"utc", "uct", "gmt", "gmt0", "gmt+0", "gmt-0", "zulu", "z", "universal", "greenwich"}


def is_trigger_function(function) -> bool:
    """Whether PostgreSQL runs ``function`` only as a trigger (``returns trigger``)."""
    return function.returns.replace('"', "").split(".")[-1].lower() in TRIGGER_RETURN_TYPES


def created_tables(state: SchemaState) -> Iterator[Table]:
    return (t for t in state.tables.values() if not t.external)


def api_tables(state: SchemaState, config: LintConfig) -> Iterator[Table]:
    return (t for t in created_tables(state) if t.schema in config.api_schemas)


def policy_enforced(table: Table, config: LintConfig) -> bool:
    """Whether requests reach the table's policies: an API-exposed schema or Storage's,
    whether the folder created the table or not (``storage.objects`` never is)."""
    return table.schema in config.api_schemas or table.schema == STORAGE_SCHEMA


def all_policies(state: SchemaState) -> Iterator[tuple[Table, Policy]]:
    for table in state.tables.values():
        for policy in table.policies.values():
            yield table, policy


def policy_expressions(policy: Policy) -> Iterator[tuple[str, ast.Node]]:
    if policy.using is not None:
        yield "USING", policy.using
    if policy.check is not None:
        yield "WITH CHECK", policy.check


def policy_commands(policy: Policy) -> tuple[str, ...]:
    return COMMANDS if policy.command == "all" else (policy.command,)


def role_label(role: str) -> str:
    return "PUBLIC" if role == PUBLIC else role


def statement_order(state: SchemaState) -> Callable[[Origin], int]:
    positions = {id(statement): i for i, statement in enumerate(state.statements)}
    return lambda origin: positions.get(id(origin.statement), len(positions))


# ---------------------------------------------------------------- who can reach what

def held(privileges: dict[str, dict[str, Grant]], role: str, privilege: str) -> Grant | None:
    """The grant through which ``role`` holds ``privilege``: its own, or PUBLIC's."""
    return privileges.get(role, {}).get(privilege) or privileges.get(PUBLIC, {}).get(privilege)


def may_run(state: SchemaState, table: Table, role: str, commands) -> bool:
    """Whether ``role`` may run one of ``commands`` on ``table``: USAGE on its schema and
    the privilege. The privileges of a table made elsewhere are unknown: assumed held."""
    if not state.may_use_schema(role, table.schema):
        return False
    return table.external or any(held(table.privileges, role, c) for c in commands)


def policy_roles(policy: Policy) -> frozenset[str]:
    """The request roles (anon, authenticated) a policy applies to."""
    roles = set(policy.roles)
    if PUBLIC in roles:
        roles |= EVERYONE
    return frozenset(roles) & EVERYONE


def reaching_roles(state: SchemaState, table: Table, policy: Policy, commands) -> frozenset[str]:
    """The request roles the policy applies to that may run one of ``commands``."""
    return frozenset(r for r in policy_roles(policy) if may_run(state, table, r, commands))


def callers(state: SchemaState, function, roles=("anon", "authenticated")) -> list[str]:
    """The request roles that may call ``function``: EXECUTE and USAGE on its schema."""
    return [r for r in roles if held(function.privileges, r, "execute") and state.may_use_schema(r, function.schema)]


def anon_writes_without_rls(state: SchemaState, table: Table) -> list[str]:
    """Request roles that may write to ``table`` while its row-level security is off."""
    if table.external or table.rls:
        return []
    return [r for r in ("anon", "authenticated") if may_run(state, table, r, WRITE_COMMANDS)]


# ---------------------------------------------------------------- defaults and functions

def time_zone(call: ast.FuncCall) -> str | None:
    """The zone a timezone(zone, ts) call converts to, when it is a literal."""
    value = constant(call.args[0]) if call.args else None
    return value if isinstance(value, str) else None


def is_utc(zone: str | None) -> bool:
    return zone is not None and zone.lower().removeprefix("etc/") in UTC_ZONES


@rule("timestamptz-timezone-default", Severity.ERROR, "timestamptz default computed through timezone()")
def timestamptz_timezone_default(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A `timestamptz` column whose default goes through `timezone(zone, ts)` (or
    `ts at time zone zone`). The result is a *naive* local time; stored into a
    timestamptz it is read in the session's time zone. With a zone other than UTC
    (`timezone('America/Bogota', now())`) every row lands hours off on Supabase, whose
    sessions run in UTC: an error. With UTC itself the instant is right only while the
    session's TimeZone stays UTC: a warning. Fix: default to `now()`, which is already an
    absolute instant, and convert to local time only when displaying."""
    for table in state.tables.values():
        for column in table.columns.values():
            if column.type_name != "timestamptz" or column.default is None:
                continue
            for call in calls(column.default, "timezone"):
                origin = Origin(column.default_origin.statement, call.location)
                where = f"{table.qualified_name}.{column.name} is timestamptz but defaults to {display_call(call)}"
                if is_utc(time_zone(call)):
                    yield Violation(origin, f"{where}: a naive UTC time, right only while the session's "
                                            f"TimeZone is UTC; use now()", Severity.WARNING)
                else:
                    yield Violation(origin, f"{where}, a naive local time read back in the session's "
                                            f"time zone (UTC on Supabase); use now()")


@rule("security-definer-search-path", Severity.ERROR, "SECURITY DEFINER function without set search_path")
def security_definer_search_path(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A SECURITY DEFINER function that does not pin `search_path` (trigger functions
    included: they run in the session of whoever fires the trigger). It runs with its
    owner's rights but resolves unqualified names through the caller's search_path, so a
    caller who can create objects in a schema on that path can make it run their code as
    the owner. Fix: add `set search_path = ''` to the function and qualify every name in
    its body (`public.workspace_members`, `auth.uid()`)."""
    for function in state.functions.values():
        if function.security_definer and not function.search_path:
            yield Violation(function.origin,
                            f"SECURITY DEFINER function {function.signature} does not set search_path")


@rule("security-definer-public-execute", Severity.ERROR, "SECURITY DEFINER function anon may execute")
def security_definer_public_execute(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A SECURITY DEFINER function that anon may execute: EXECUTE held by PUBLIC or anon,
    and USAGE on the function's schema held by PUBLIC or anon. PostgreSQL grants EXECUTE on
    every new function to PUBLIC, and legacy Supabase projects also grant it to anon; anyone
    with the project's public key can then call the function (through `/rpc` when its schema
    is exposed) and run it with its owner's rights. Trigger functions are left alone:
    PostgreSQL refuses to call them outside a trigger. A function in a schema anon has no
    USAGE on cannot be reached. Fix: `revoke execute on function f(...) from public, anon;`
    then grant it only to the roles that need it (usually `authenticated`)."""
    for function in state.functions.values():
        if not function.security_definer or is_trigger_function(function):
            continue
        if not state.may_use_schema("anon", function.schema):
            continue
        by_origin: dict[tuple[bool, Origin], list[str]] = {}
        for role in (PUBLIC, "anon"):
            grant = function.privileges.get(role, {}).get("execute")
            if grant is not None:
                # a privilege the defaults gave is reported at the function's latest definition
                origin = function.origin if grant.by_default else grant.origin
                by_origin.setdefault((grant.by_default, origin), []).append(role_label(role))
        schema = state.schemas.get(function.schema)
        through_public = (f"; anon still uses schema {function.schema} through PUBLIC's USAGE"
                          if schema is not None and "anon" in schema.privileges
                          and "usage" not in schema.privileges["anon"] else "")
        for (by_default, origin), roles in by_origin.items():
            how = "by default" if by_default else "granted"
            yield Violation(origin, f"SECURITY DEFINER function {function.signature} is executable "
                                    f"by {', '.join(roles)} ({how}); revoke execute from public, anon"
                                    f"{through_public}")


@rule("security-definer-in-api-schema", Severity.WARNING, "SECURITY DEFINER function in an API-exposed schema")
def security_definer_in_api_schema(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A SECURITY DEFINER function created in a schema the API exposes (`public` by
    default) that anon or authenticated may execute. PostgREST publishes every function
    there as `/rpc/<name>`, so those roles can call it directly, with its owner's rights and
    arguments of their choosing, not only through the policies it was written for. Trigger
    functions are left alone (they cannot be called), and so are functions whose EXECUTE
    was taken from every API role. Fix: create it in a schema the API does not expose
    (`private`), grant USAGE on that schema to the roles whose policies call it, and call
    it schema-qualified."""
    for function in state.functions.values():
        if not function.security_definer or function.schema not in config.api_schemas \
                or is_trigger_function(function):
            continue
        if roles := callers(state, function):
            yield Violation(function.origin, f"SECURITY DEFINER function {function.signature} is in an API-exposed "
                                             f"schema: callable by {', '.join(roles)} as "
                                             f"/rpc/{function.name}; move it to a private schema")


def helper_test(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Callable[[ast.FuncCall], bool]:
    """Which calls are membership helpers (each runs a query): configured by name, a
    SECURITY DEFINER function of the folder, or a function the folder does not create that
    is given a tenant column (``is_member(organization_id)``)."""
    tenant_names = tenancy.tenant_column_names()
    definers: dict[tuple[str, str], bool] = {}
    for function in state.functions.values():
        key = (function.schema, function.name)
        definers[key] = definers.get(key, False) or function.security_definer

    def is_helper(call: ast.FuncCall) -> bool:
        schema, name = function_name(call)
        if (schema, name) in AUTH_FUNCTIONS:
            return False
        if name in config.membership_helpers:
            return True
        defined = definers.get((schema or "public", name))
        if defined is not None:
            return defined
        return any(isinstance(arg, ast.ColumnRef) and column_ref_name(arg)[1] in tenant_names
                   for arg in call.args or ())
    return is_helper


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


# ---------------------------------------------------------------- indexes

@rule("foreign-key-without-index", Severity.WARNING, "foreign-key column with no index leading with it")
def foreign_key_without_index(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A foreign key whose columns do not lead any index of the table (a primary key or
    unique constraint counts; a partial index does not). Deleting or updating a referenced
    row then scans the whole referencing table, and policies and joins that filter on the
    key cannot use an index. A key of several columns is also served by an index leading
    with its first column (`(job_id, workspace_id)` by an index on `job_id`): the lookup finds
    the rows by it and checks the rest. Fix: `create index on t (fk_column);`, or put the
    column first in an index you already need."""
    for table in state.tables.values():
        for fk in table.foreign_keys:
            if table.external and not all(c in table.columns for c in fk.columns):
                continue  # an old column of a table made elsewhere may well be indexed there
            wanted = set(fk.columns)
            if not any(ix.predicate is None and (set(ix.columns[:len(wanted)]) == wanted
                                                 or ix.columns[:1] == fk.columns[:1])
                       for ix in table.indexes):
                yield Violation(fk.origin, f"{table.qualified_name}({', '.join(fk.columns)}) references "
                                           f"{fk.target[0]}.{fk.target[1]} but no index leads with it")


@rule("redundant-index", Severity.WARNING, "index whose columns lead another index")
def redundant_index(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A non-unique index whose columns are a leading prefix of another index on the same
    table with the same method and predicate. The longer index serves every query the
    shorter one does, so the shorter one only costs writes and space. Fix: drop it (keep
    unique indexes: they enforce a constraint)."""
    for table in state.tables.values():
        for i, index in enumerate(table.indexes):
            if index.unique or index.constraint:
                continue
            for j, other in enumerate(table.indexes):
                if i == j or other.method != index.method or other.predicate != index.predicate:
                    continue
                prefix = other.columns[:len(index.columns)] == index.columns
                same = other.columns == index.columns
                if prefix and (not same or other.unique or j < i):
                    yield Violation(index.origin,
                                    f"index {index_label(index)} on {table.qualified_name} is covered by "
                                    f"{index_label(other)}; drop it")
                    break


def index_label(index) -> str:
    columns = f"({', '.join(index.columns)})"
    if index.name:
        return f"{index.name} {columns}"
    return f"the {index.constraint} constraint {columns}" if index.constraint else f"an unnamed index {columns}"


# ---------------------------------------------------------------- about suppressions

note("suppression-without-reason", Severity.WARNING, "tenantspec: ignore comment without a reason", """
    A `-- tenantspec: ignore RULE-ID` comment that gives no reason. A suppression is a
    decision a reviewer has to be able to check later, so it is not honoured without one.
    Fix: say why after the rule id, e.g. `-- tenantspec: ignore rls-disabled lookup table,
    public by design`.""")

note("unused-suppression", Severity.INFO, "tenantspec: ignore comment that silences nothing", """
    A `-- tenantspec: ignore RULE-ID` comment on a statement where that rule reports
    nothing (or an unknown rule id). It no longer documents a real exception and would
    silently hide a future finding. Fix: remove it, or move it to the statement it was
    meant for.""")
