"""Rules on column defaults and functions: timestamptz defaults through timezone(), SECURITY
DEFINER functions' search_path, EXECUTE and schema."""

from __future__ import annotations

from typing import Callable, Iterator

from pglast import ast

from tenantspec.catalog.expression import calls, display_call
from tenantspec.catalog.nodes import column_ref_name, function_name
from tenantspec.catalog.state import PUBLIC, Origin, SchemaState
from tenantspec.lint.conditions import constant
from tenantspec.lint.config import LintConfig
from tenantspec.lint.rules.base import (
    AUTH_FUNCTIONS,
    UTC_ZONES,
    Severity,
    Violation,
    callers,
    is_trigger_function,
    role_label,
    rule,
)
from tenantspec.lint.tenancy import Tenancy

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
