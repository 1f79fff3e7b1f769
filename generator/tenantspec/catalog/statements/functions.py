"""Functions: CREATE FUNCTION and ALTER FUNCTION, their settings and bodies."""

from __future__ import annotations

from pglast import ast, enums

from tenantspec.catalog.keys import (
    deparse_type,
    function_arg_types,
    functions_for,
    grant_defaults,
    name_key,
)
from tenantspec.catalog.nodes import deparse
from tenantspec.catalog.source import Statement
from tenantspec.catalog.state import Function, Origin, SchemaState

# ---------------------------------------------------------------- functions

def function_settings(options) -> tuple[bool | None, str | None | bool]:
    """SECURITY DEFINER/INVOKER and search_path from CREATE/ALTER FUNCTION options.

    Returns ``(security_definer or None if not mentioned, search_path value, None if not
    mentioned, or False if reset)``.
    """
    definer = None
    search_path: str | None | bool = None
    for option in options or ():
        if option.defname == "security":
            definer = bool(option.arg.boolval)
        elif option.defname == "set" and option.arg.kind == enums.VariableSetKind.VAR_RESET_ALL:
            search_path = False
        elif option.defname == "set" and option.arg.name == "search_path":
            kind = option.arg.kind
            if kind == enums.VariableSetKind.VAR_SET_VALUE:
                search_path = ", ".join(deparse(a) for a in option.arg.args or ()) or "''"
            elif kind == enums.VariableSetKind.VAR_SET_CURRENT:
                search_path = "from current"
            elif kind == enums.VariableSetKind.VAR_SET_DEFAULT:
                search_path = "default"
            else:
                search_path = False
    return definer, search_path


def create_function(state: SchemaState, node: ast.CreateFunctionStmt, statement: Statement) -> None:
    schema, name = name_key(node.funcname)
    key = (schema, name, function_arg_types(node.parameters))
    definer, search_path = function_settings(node.options)
    origin = Origin(statement)
    options = {o.defname: o.arg for o in node.options or ()}
    language = options["language"].sval.lower() if "language" in options else "sql"
    body = options.get("as")
    body_text = body[0].sval if isinstance(body, (tuple, list)) and body else ""
    if node.sql_body is not None:  # BEGIN ATOMIC ... END / RETURN expr
        body_text = deparse(node.sql_body)
    returns = ""
    if node.returnType is not None:
        returns = deparse_type(node.returnType)
    function = Function(
        schema=schema,
        name=name,
        arg_types=key[2],
        security_definer=bool(definer),
        search_path=search_path or None,
        origin=origin,
        returns=returns,
        language=language,
        volatility=options["volatility"].sval if "volatility" in options else "volatile",
        source=body_text,
        arg_names=tuple(p.name or "" for p in node.parameters or ()
                        if p.mode not in (enums.FunctionParameterMode.FUNC_PARAM_OUT,
                                          enums.FunctionParameterMode.FUNC_PARAM_TABLE)),
        arg_defaults=tuple(p.defexpr for p in node.parameters or ()
                           if p.mode not in (enums.FunctionParameterMode.FUNC_PARAM_OUT,
                                             enums.FunctionParameterMode.FUNC_PARAM_TABLE)),
    )
    existing = state.functions.get(key)
    if existing is not None and not node.replace:
        state.conflict(origin, f"creates function {existing.signature}, which "
                               f"{existing.origin.location} already created")
    if existing is not None:
        function.comment = existing.comment
    # CREATE OR REPLACE keeps the existing function's privileges.
    function.privileges = (existing.privileges if existing is not None
                           else grant_defaults(state.function_defaults, schema, origin))
    state.functions[key] = function


def alter_function(state: SchemaState, node: ast.AlterFunctionStmt, statement: Statement) -> None:
    definer, search_path = function_settings(node.actions)
    for function in functions_for(state, node.func):
        if definer is not None:
            function.security_definer = definer
            function.origin = Origin(statement)
        if search_path is False:
            function.search_path = None
        elif search_path is not None:
            function.search_path = search_path
