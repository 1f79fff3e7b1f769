"""GRANT, REVOKE and ALTER DEFAULT PRIVILEGES."""

from __future__ import annotations

from pglast import ast, enums

from tenantspec.catalog.keys import (
    functions_for,
    privilege_names,
    relation_key,
    role_names,
)
from tenantspec.catalog.source import Statement
from tenantspec.catalog.state import (
    FUNCTION_PRIVILEGES,
    SCHEMA_PRIVILEGES,
    TABLE_PRIVILEGES,
    Function,
    Grant,
    Origin,
    Schema,
    SchemaState,
    Table,
)

# ---------------------------------------------------------------- privileges

def change_privileges(held: dict[str, dict[str, Grant]], is_grant: bool, roles: tuple[str, ...],
                      privileges: tuple[str, ...], origin: Origin) -> None:
    for role in roles:
        current = held.setdefault(role, {})
        for privilege in privileges:
            if is_grant:
                current[privilege] = Grant(False, origin)
            else:
                current.pop(privilege, None)


def grant(state: SchemaState, node: ast.GrantStmt, statement: Statement) -> None:
    if node.grant_option and not node.is_grant:
        return  # REVOKE GRANT OPTION FOR keeps the privilege itself
    origin = Origin(statement)
    roles = role_names(node.grantees)
    kind = node.objtype
    if kind == enums.ObjectType.OBJECT_TABLE:
        privileges = privilege_names(node.privileges, TABLE_PRIVILEGES)
        for table in granted_tables(state, node):
            change_privileges(table.privileges, node.is_grant, roles, privileges, origin)
    elif kind == enums.ObjectType.OBJECT_SCHEMA:
        privileges = privilege_names(node.privileges, SCHEMA_PRIVILEGES)
        for target in node.objects:
            # a schema made elsewhere: known only for the roles a statement mentions
            schema = state.schemas.setdefault(target.sval, Schema(target.sval, None))
            change_privileges(schema.privileges, node.is_grant, roles, privileges, origin)
    elif kind in (enums.ObjectType.OBJECT_FUNCTION, enums.ObjectType.OBJECT_ROUTINE,
                  enums.ObjectType.OBJECT_PROCEDURE):
        privileges = privilege_names(node.privileges, FUNCTION_PRIVILEGES)
        for function in granted_functions(state, node):
            change_privileges(function.privileges, node.is_grant, roles, privileges, origin)


def granted_tables(state: SchemaState, node: ast.GrantStmt) -> list[Table]:
    if node.targtype == enums.GrantTargetType.ACL_TARGET_ALL_IN_SCHEMA:
        schemas = {s.sval for s in node.objects}
        return [t for t in state.tables.values() if t.schema in schemas]
    return [state.table(relation_key(r)) for r in node.objects]


def granted_functions(state: SchemaState, node: ast.GrantStmt) -> list[Function]:
    if node.targtype == enums.GrantTargetType.ACL_TARGET_ALL_IN_SCHEMA:
        schemas = {s.sval for s in node.objects}
        return [f for f in state.functions.values() if f.schema in schemas]
    return [f for target in node.objects for f in functions_for(state, target)]


def alter_default_privileges(state: SchemaState, node: ast.AlterDefaultPrivilegesStmt,
                             statement: Statement) -> None:
    schemas: list[str | None] = [None]
    for option in node.options or ():
        if option.defname == "schemas":
            schemas = [s.sval for s in option.arg]
    action = node.action
    if action.objtype == enums.ObjectType.OBJECT_TABLE:
        defaults, all_privileges = state.table_defaults, TABLE_PRIVILEGES
    elif action.objtype in (enums.ObjectType.OBJECT_FUNCTION, enums.ObjectType.OBJECT_ROUTINE):
        defaults, all_privileges = state.function_defaults, FUNCTION_PRIVILEGES
    else:
        return
    privileges = privilege_names(action.privileges, all_privileges)
    for schema in schemas:
        scope = defaults.setdefault(schema, {})
        for role in role_names(action.grantees):
            current = scope.setdefault(role, set())
            if action.is_grant:
                current.update(privileges)
            elif not action.grant_option:
                current.difference_update(privileges)
