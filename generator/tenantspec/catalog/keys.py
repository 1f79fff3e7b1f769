"""Names and types as statements spell them: relation and object keys, type names, roles,
privileges, function signatures."""

from __future__ import annotations

from pglast import ast, enums

from tenantspec.catalog.nodes import deparse
from tenantspec.catalog.state import (
    DEFAULT_SCHEMA,
    PUBLIC,
    Function,
    Grant,
    Origin,
    SchemaState,
)


def relation_key(relation: ast.RangeVar) -> tuple[str, str]:
    return (relation.schemaname or DEFAULT_SCHEMA, relation.relname)


def name_key(names: tuple) -> tuple[str, str]:
    """``(schema, name)`` from a dotted name given as a tuple of String nodes."""
    parts = [n.sval for n in names]
    return (parts[-2] if len(parts) > 1 else DEFAULT_SCHEMA, parts[-1])


def deparse_type(node: ast.TypeName) -> str:
    """A type as SQL, spelled the same whichever synonym the migration used."""
    return deparse(node)


def type_name(node: ast.TypeName | None) -> str:
    """A type as PostgreSQL's parser resolves it: ``timestamptz``, ``int4``, ``uuid[]``."""
    if node is None:
        return ""
    name = node.names[-1].sval
    return name + "[]" if node.arrayBounds else name


def role_names(roles) -> tuple[str, ...]:
    names = []
    for role in roles or ():
        if role.roletype == enums.RoleSpecType.ROLESPEC_PUBLIC:
            names.append(PUBLIC)
        elif role.rolename:
            names.append(role.rolename)
    return tuple(names)


def privilege_names(privileges, all_privileges: tuple[str, ...]) -> tuple[str, ...]:
    """Privileges of a GRANT/REVOKE; none listed means ALL."""
    if not privileges:
        return all_privileges
    names = []
    for privilege in privileges:
        if privilege.priv_name is None or privilege.priv_name == "all":
            names.extend(all_privileges)
        else:
            names.append(privilege.priv_name)
    return tuple(names)


def grant_defaults(defaults: dict[str | None, dict[str, set[str]]], schema: str,
                   origin: Origin) -> dict[str, dict[str, Grant]]:
    """The privileges a new object in ``schema`` starts with."""
    held: dict[str, dict[str, Grant]] = {}
    for scope in (None, schema):
        for role, privileges in defaults.get(scope, {}).items():
            for privilege in privileges:
                held.setdefault(role, {})[privilege] = Grant(True, origin)
    return held


def function_arg_types(parameters) -> tuple[str, ...]:
    """The argument types that identify a function (OUT and TABLE columns do not)."""
    skip = {enums.FunctionParameterMode.FUNC_PARAM_OUT, enums.FunctionParameterMode.FUNC_PARAM_TABLE}
    return tuple(type_name(p.argType) for p in parameters or () if p.mode not in skip)


def functions_for(state: SchemaState, target: ast.ObjectWithArgs) -> list[Function]:
    schema, name = name_key(target.objname)
    if target.args_unspecified:
        return state.functions_named(schema, name)
    key = (schema, name, tuple(type_name(t) for t in target.objargs or ()))
    return [state.functions[key]] if key in state.functions else []
