"""What every lint rule shares: severities, violations, the registry ``rule`` adds to, and
the questions rules ask of the state (which tables the API reaches, which roles a policy
lets in, who may run a function)."""

from __future__ import annotations

import enum
import inspect
from dataclasses import dataclass
from typing import Callable, Iterator

from pglast import ast

from tenantspec.catalog.state import PUBLIC, Grant, Origin, Policy, SchemaState, Table
from tenantspec.lint.conditions import EVERYONE
from tenantspec.lint.config import LintConfig
from tenantspec.lint.tenancy import Tenancy


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
