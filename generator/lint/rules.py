"""The lint rules: one function per rule, run on the schema state after the whole folder.

Each rule has an id, a severity and a one-paragraph doc (what it finds, why it matters, how
to fix it) that ``tenantspec lint --explain RULE-ID`` prints. A rule yields ``Violation``s
pointing at the statement that brought the problem about.
"""

from __future__ import annotations

import enum
import inspect
from dataclasses import dataclass
from typing import Callable, Iterator

from pglast import ast, enums

from generator.catalog.expression import (
    calls, correlated, display_call, display_expression, per_row_calls, refers_to_row, ties_column,
)
from generator.catalog.nodes import function_name, walk
from generator.catalog.replay import PUBLIC, Origin, Policy, SchemaState, Table
from generator.lint.config import LintConfig


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


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    doc: str
    check: Callable[[SchemaState, LintConfig], Iterator[Violation]] | None


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


def created_tables(state: SchemaState) -> Iterator[Table]:
    return (t for t in state.tables.values() if not t.external)


def api_tables(state: SchemaState, config: LintConfig) -> Iterator[Table]:
    return (t for t in created_tables(state) if t.schema in config.api_schemas)


def all_policies(state: SchemaState) -> Iterator[tuple[Table, Policy]]:
    for table in state.tables.values():
        for policy in table.policies.values():
            yield table, policy


def policy_expressions(policy: Policy) -> Iterator[tuple[str, ast.Node]]:
    if policy.using is not None:
        yield "USING", policy.using
    if policy.check is not None:
        yield "WITH CHECK", policy.check


def ungoverned_grants(table: Table, by_default: bool) -> dict[Origin, dict[str, list[str]]]:
    """``{origin: {role: [privileges]}}`` for request roles holding ungoverned privileges."""
    found: dict[Origin, dict[str, list[str]]] = {}
    for role in REQUEST_ROLES:
        for privilege in UNGOVERNED_PRIVILEGES:
            held = table.privileges.get(role, {}).get(privilege)
            if held is not None and held.by_default == by_default:
                found.setdefault(held.origin, {}).setdefault(role, []).append(privilege)
    return found


def describe_roles(roles: dict[str, list[str]]) -> str:
    return "; ".join(f"{'PUBLIC' if r == PUBLIC else r}: {', '.join(p).upper()}" for r, p in roles.items())


# ---------------------------------------------------------------- defaults and functions

@rule("timestamptz-timezone-default", Severity.ERROR, "timestamptz default computed through timezone()")
def timestamptz_timezone_default(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
    """A `timestamptz` column whose default goes through `timezone(zone, ts)` (or
    `ts at time zone zone`). `timezone('America/Bogota', now())` returns a *naive* local
    time; stored into a timestamptz it is read in the session's zone (UTC on Supabase), so
    every row lands hours off. Fix: default to `now()`, which is already an absolute
    instant, and convert to local time only when displaying."""
    for table in state.tables.values():
        for column in table.columns.values():
            if column.type_name != "timestamptz" or column.default is None:
                continue
            for call in calls(column.default, "timezone"):
                yield Violation(
                    Origin(column.default_origin.statement, call.location),
                    f"{table.qualified_name}.{column.name} is timestamptz but defaults to "
                    f"{display_call(call)}, a naive local time read back as UTC; use now()",
                )


@rule("security-definer-search-path", Severity.ERROR, "SECURITY DEFINER function without set search_path")
def security_definer_search_path(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
    """A SECURITY DEFINER function that does not pin `search_path`. It runs with its
    owner's rights but resolves unqualified names through the caller's search_path, so a
    caller who can create objects in a schema on that path can make it run their code as
    the owner. Fix: add `set search_path = ''` to the function and qualify every name in
    its body (`public.workspace_members`, `auth.uid()`)."""
    for function in state.functions.values():
        if function.security_definer and not function.search_path:
            yield Violation(function.origin,
                            f"SECURITY DEFINER function {function.signature} does not set search_path")


@rule("security-definer-public-execute", Severity.ERROR, "SECURITY DEFINER function executable by PUBLIC or anon")
def security_definer_public_execute(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
    """A SECURITY DEFINER function that PUBLIC or `anon` may execute. PostgreSQL grants
    EXECUTE on every new function to PUBLIC, and legacy Supabase projects also grant it to
    anon; anyone with an API key can then call the function through `/rpc` and run it with
    its owner's rights. Fix: `revoke execute on function f(...) from public, anon;` then
    grant it only to the roles that need it (usually `authenticated`)."""
    for function in state.functions.values():
        if not function.security_definer:
            continue
        by_origin: dict[Origin, list[str]] = {}
        for role in (PUBLIC, "anon"):
            held = function.privileges.get(role, {}).get("execute")
            if held is not None:
                by_origin.setdefault(held.origin, []).append("PUBLIC" if role == PUBLIC else role)
        for origin, roles in by_origin.items():
            how = "by default" if origin is function.origin else "granted"
            yield Violation(origin, f"SECURITY DEFINER function {function.signature} is executable "
                                    f"by {', '.join(roles)} ({how}); revoke execute from public, anon")


@rule("security-definer-in-api-schema", Severity.WARNING, "SECURITY DEFINER function in an API-exposed schema")
def security_definer_in_api_schema(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
    """A SECURITY DEFINER function created in a schema the API exposes (`public` by
    default). PostgREST publishes every function there as `/rpc/<name>`, so any role that
    may execute it can call it directly, with its owner's rights and arguments of their
    choosing, not only through the policies it was written for. Fix: create it in a schema
    the API does not expose (`private`), grant USAGE on that schema to the roles whose
    policies call it, and call it schema-qualified."""
    for function in state.functions.values():
        if function.security_definer and function.schema in config.api_schemas:
            yield Violation(function.origin, f"SECURITY DEFINER function {function.signature} is in an API-exposed "
                                             f"schema: callable as /rpc/{function.name}; move it to a private schema")


def function_is_helper(state: SchemaState, config: LintConfig, call: ast.FuncCall) -> bool:
    """A membership helper: configured by name, or a SECURITY DEFINER function the folder made."""
    schema, name = function_name(call)
    if (schema, name) in AUTH_FUNCTIONS:
        return False
    if name in config.membership_helpers:
        return True
    return any(f.security_definer for f in state.functions_named(schema or "public", name))


# ---------------------------------------------------------------- grants

@rule("api-role-broad-grant", Severity.ERROR, "GRANT ALL, TRUNCATE, REFERENCES or TRIGGER to anon or authenticated")
def api_role_broad_grant(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
    """A GRANT that leaves anon, authenticated or PUBLIC holding TRUNCATE, REFERENCES or
    TRIGGER on a table (GRANT ALL included). Row-level security does not apply to
    TRUNCATE or REFERENCES, so any signed-in user (or anyone, for anon) can empty the table
    or pin its rows with their own foreign keys whatever the policies say. Fix: grant only
    the commands the role needs, e.g. `grant select, insert, update on table t to
    authenticated;`."""
    for table in state.tables.values():
        for origin, roles in ungoverned_grants(table, by_default=False).items():
            yield Violation(origin, f"{table.qualified_name}: grants {describe_roles(roles)}; "
                                    f"row-level security does not govern these, grant only the commands needed")


@rule("legacy-default-grant", Severity.ERROR, "table keeps the ALL that legacy default privileges gave anon/authenticated")
def legacy_default_grant(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
    """A table created in a schema whose default privileges (Supabase projects created
    before 2026-05-30: `grant all on tables to anon, authenticated, service_role`) hand the
    API roles ALL, and that the folder never takes back. anon and authenticated then hold
    TRUNCATE, REFERENCES and TRIGGER, which row-level security does not govern. Fix: after
    creating the table, `revoke all on table t from public, anon, authenticated;` and grant
    exactly the commands each role needs, so the table is right under both the old and the
    new default privileges."""
    for table in created_tables(state):
        for origin, roles in ungoverned_grants(table, by_default=True).items():
            yield Violation(origin, f"{table.qualified_name}: default privileges leave {describe_roles(roles)}; "
                                    f"revoke all from anon, authenticated and grant explicitly")


# ---------------------------------------------------------------- RLS on and off

@rule("rls-disabled", Severity.ERROR, "table in an API-exposed schema without row-level security")
def rls_disabled(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
    """A table in a schema the API exposes (`public` by default) whose row-level security
    is off after the whole folder. With RLS off every role that holds a grant reads and
    writes every row, across tenants, straight through the REST API. Fix: `alter table t
    enable row level security;` and add policies; if the table really is public data,
    say so with a suppression comment and grant only SELECT."""
    for table in api_tables(state, config):
        if not table.rls:
            yield Violation(table.rls_origin or table.origin,
                            f"{table.qualified_name} is exposed by the API but row-level security is off")


@rule("rls-without-policy", Severity.WARNING, "row-level security on, no policy")
def rls_without_policy(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
    """A table in an API-exposed schema with row-level security on and no policy at all
    (or only RESTRICTIVE ones, which narrow permissive policies and grant nothing alone).
    Every request then sees no rows and every write fails: usually a forgotten migration
    rather than a choice. Fix: add the policies; if only service_role (which bypasses RLS)
    should use the table, revoke the API roles' grants and suppress with that reason."""
    for table in api_tables(state, config):
        if not table.rls:
            continue
        if not table.policies:
            yield Violation(table.rls_origin,
                            f"{table.qualified_name} has row-level security on but no policy: nobody can use it")
        elif not any(p.permissive for p in table.policies.values()):
            yield Violation(table.rls_origin,
                            f"{table.qualified_name} has only restrictive policies: they narrow permissive "
                            f"ones, and without one nobody can use the table")


@rule("policy-without-rls", Severity.ERROR, "policy on a table whose row-level security is off")
def policy_without_rls(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
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
def policy_without_role(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
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


def is_auth_call(call: ast.FuncCall) -> bool:
    schema, name = function_name(call)
    return (schema, name) in AUTH_FUNCTIONS or name in SETTING_FUNCTIONS


@rule("auth-call-per-row", Severity.WARNING, "auth.uid()/auth.jwt()/auth.role()/current_setting() evaluated per row")
def auth_call_per_row(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
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
def helper_call_per_row(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
    """A membership helper (`is_workspace_member(workspace_id)`, or any SECURITY DEFINER
    function) called in a policy once per row. Each call runs a query as the function's
    owner; on a large table that is one query per row (178 s against 12 ms). Fix: compare
    the column against the set of the user's workspaces computed once, e.g.
    `workspace_id = any (array(select private.member_workspace_ids()))`; a call that does
    not read the row only needs wrapping in `(select ...)`."""
    for table, policy in all_policies(state):
        for clause, expression in policy_expressions(policy):
            wanted = lambda call: function_is_helper(state, config, call)  # noqa: E731
            for call, where in per_row_calls(state, expression, table, wanted):
                if where == "correlated":
                    advice = ("inside a subquery that reads the row; compare the row's key with an "
                              "initPlan set such as = any (array(select <ids the user may see>))")
                elif refers_to_row(call, table, set()):
                    advice = ("compare the column with = any (array(select <the user's workspace ids>)) "
                              "so the set is computed once")
                else:
                    advice = f"write (select {display_call(call)})"
                yield Violation(Origin(policy.origin.statement, call.location),
                                f"policy {policy.name!r} {clause}: {display_call(call)} runs once per row; {advice}")


def workspace_scoped(state: SchemaState, config: LintConfig, key: tuple[str, str],
                     seen: frozenset = frozenset()) -> bool:
    """Whether rows of ``key`` belong to a workspace.

    True for tables listed in the configuration (pre-existing ones such as
    ``public.orders``), tables the folder created with the tenant column, tables some
    foreign key in the folder reaches through the tenant column, and tables whose NOT NULL
    foreign key points at a workspace-scoped table (``robot_job_items`` through
    ``robot_jobs``).
    """
    if f"{key[0]}.{key[1]}" in config.workspace_tables:
        return True
    table = state.tables.get(key)
    if table is None or key in seen:
        return False
    if config.tenant_column in table.columns:
        return True
    for other in state.tables.values():
        for fk in other.foreign_keys:
            if fk.target == key and config.tenant_column in fk.target_columns:
                return True
    for fk in table.foreign_keys:
        if all(table.columns.get(c) is not None and table.columns[c].not_null for c in fk.columns) \
                and workspace_scoped(state, config, fk.target, seen | {key}):
            return True
    return False


def tenant_foreign_keys(state: SchemaState, config: LintConfig, table: Table):
    """Foreign keys into workspace-scoped tables that the key itself does not pin to the
    row's workspace (a composite key through the tenant column does)."""
    tenant = config.tenant_column
    for fk in table.foreign_keys:
        if tenant in fk.columns and tenant in fk.target_columns and len(fk.columns) > 1:
            continue
        if workspace_scoped(state, config, fk.target):
            yield fk


def checked_expression(policy: Policy):
    """The expression new rows must pass: WITH CHECK, or USING when it is reused."""
    if policy.command not in ("insert", "update", "all"):
        return None
    if policy.check is not None:
        return policy.check
    return policy.using if policy.command != "insert" else None


@rule("cross-tenant-reference", Severity.ERROR, "INSERT/UPDATE policy lets a foreign key point into another workspace")
def cross_tenant_reference(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
    """An INSERT or UPDATE policy on a table with a foreign key to a workspace-scoped
    table, whose WITH CHECK never ties that column to the user's workspace. Foreign-key
    checks run without row-level security, so a member of workspace A can insert a row
    pointing at workspace B's order, and B's data then shows up (or cascades) through A's
    row. A column counts as tied when some AND-ed part of the check reads it together with
    a subquery or function: a membership set (`job_id = any (array(select ...))`) or a
    lookup of the referenced row's workspace. Fix: add to WITH CHECK, e.g. `(select
    o.workspace_id from public.orders o where o.id = order_id) = (select j.workspace_id
    from public.robot_jobs j where j.id = job_id)`, or use a composite foreign key
    `(workspace_id, order_id) references orders (workspace_id, id)`."""
    for table, policy in all_policies(state):
        if policy.command not in ("insert", "update", "all"):
            continue
        expression = checked_expression(policy)
        restrictive = [p for p in table.policies.values()
                       if not p.permissive and p.command in (policy.command, "all")]
        for fk in tenant_foreign_keys(state, config, table):
            for column in fk.columns:
                tied = expression is not None and ties_column(expression, table, column)
                tied = tied or any(
                    checked_expression(r) is not None and ties_column(checked_expression(r), table, column)
                    for r in restrictive
                )
                if not tied:
                    target = f"{fk.target[0]}.{fk.target[1]}"
                    yield Violation(policy.origin,
                                    f"policy {policy.name!r} ({policy.command}) on {table.qualified_name} never ties "
                                    f"{column} (references {target}) to the user's workspace: a row may point "
                                    f"at another workspace's {fk.target[1]}")


@rule("update-policy-without-check", Severity.INFO, "UPDATE policy without WITH CHECK")
def update_policy_without_check(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
    """An UPDATE (or ALL) policy with USING but no WITH CHECK. PostgreSQL then checks the
    new row against USING, which is often what was meant but hides the decision: a
    reviewer cannot tell whether moving a row to another tenant was considered. Fix: write
    the WITH CHECK out, even when it repeats USING."""
    for table, policy in all_policies(state):
        if policy.command in ("update", "all") and policy.using is not None and policy.check is None:
            yield Violation(policy.origin, f"policy {policy.name!r} ({policy.command}) on {table.qualified_name} "
                                           f"has no WITH CHECK: new rows are checked with USING")


@rule("duplicate-permissive-policy", Severity.WARNING, "two permissive policies for the same role and command")
def duplicate_permissive_policy(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
    """Two permissive policies on one table that apply to the same role and command
    (`for all` counts for every command; a policy without TO counts for anon and
    authenticated). PostgreSQL ORs them and evaluates every one for every row, which costs
    time and makes the effective rule hard to read. Fix: merge them into one policy per
    role and command, or make the extra condition a RESTRICTIVE policy if it must always
    hold."""
    for table in state.tables.values():
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
    commands = COMMANDS if policy.command == "all" else (policy.command,)
    return {(role, command) for role in roles for command in commands}


@rule("policy-in-subquery", Severity.INFO, "policy filters a column with IN (select ...) instead of = any (array(select ...))")
def policy_in_subquery(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
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
def view_without_security_invoker(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
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
def foreign_key_without_index(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
    """A foreign key whose columns do not lead any index of the table (a primary key or
    unique constraint counts; a partial index does not). Deleting or updating a referenced
    row then scans the whole referencing table, and policies and joins that filter on the
    key cannot use an index. Fix: `create index on t (fk_column);`, or put the column first
    in an index you already need."""
    for table in state.tables.values():
        for fk in table.foreign_keys:
            if table.external and not all(c in table.columns for c in fk.columns):
                continue  # an old column of a table made elsewhere may well be indexed there
            wanted = set(fk.columns)
            if not any(ix.predicate is None and set(ix.columns[:len(wanted)]) == wanted
                       for ix in table.indexes):
                yield Violation(fk.origin, f"{table.qualified_name}({', '.join(fk.columns)}) references "
                                           f"{fk.target[0]}.{fk.target[1]} but no index leads with it")


@rule("redundant-index", Severity.WARNING, "index whose columns lead another index")
def redundant_index(state: SchemaState, config: LintConfig) -> Iterator[Violation]:
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
