"""Views and row-level security policies."""

from __future__ import annotations

from pglast import ast, enums

from tenantspec.catalog.keys import relation_key, role_names
from tenantspec.catalog.source import Statement
from tenantspec.catalog.state import PUBLIC, Origin, Policy, SchemaState, View

# ---------------------------------------------------------------- views

def security_invoker(options, current: bool = False) -> bool:
    """The ``security_invoker`` view option from a WITH (...) / SET (...) list."""
    for option in options or ():
        if option.defname == "security_invoker":
            value = option.arg.sval if isinstance(option.arg, ast.String) else option.arg
            current = value is None or str(getattr(value, "boolval", value)).lower() in ("true", "on", "1", "yes")
    return current


def create_view(state: SchemaState, node: ast.ViewStmt, statement: Statement) -> None:
    key = relation_key(node.view)
    state.views[key] = View(key[0], key[1], security_invoker(node.options), Origin(statement))


def alter_view(state: SchemaState, node: ast.AlterTableStmt, statement: Statement) -> None:
    view = state.views.get(relation_key(node.relation))
    if view is None:
        return
    for command in node.cmds or ():
        if command.subtype == enums.AlterTableType.AT_SetRelOptions:
            view.security_invoker = security_invoker(command.def_, view.security_invoker)
            view.origin = Origin(statement)
        elif command.subtype == enums.AlterTableType.AT_ResetRelOptions:
            if any(o.defname == "security_invoker" for o in command.def_ or ()):
                view.security_invoker = False


# ---------------------------------------------------------------- policies

def create_policy(state: SchemaState, node: ast.CreatePolicyStmt, statement: Statement) -> None:
    key = relation_key(node.table)
    roles = role_names(node.roles)
    # Without a TO clause the parser fills in PUBLIC with no location.
    roles_given = any(getattr(r, "location", None) is not None for r in node.roles or ())
    table = state.table(key)
    if node.policy_name in table.policies:
        state.conflict(Origin(statement), f"creates policy {node.policy_name!r} on {table.qualified_name}, which "
                                          f"{table.policies[node.policy_name].origin.location} already created")
    table.policies[node.policy_name] = Policy(
        name=node.policy_name,
        table=key,
        command=node.cmd_name or "all",
        permissive=bool(node.permissive),
        roles=roles or (PUBLIC,),
        roles_given=roles_given,
        using=node.qual,
        check=node.with_check,
        origin=Origin(statement),
    )


def alter_policy(state: SchemaState, node: ast.AlterPolicyStmt, statement: Statement) -> None:
    policy = state.table(relation_key(node.table)).policies.get(node.policy_name)
    if policy is None:
        return
    if node.roles:
        policy.roles = role_names(node.roles)
        policy.roles_given = True
    if node.qual is not None:
        policy.using = node.qual
    if node.with_check is not None:
        policy.check = node.with_check
    policy.origin = Origin(statement)
