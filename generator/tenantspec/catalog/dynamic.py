"""The statements a PL/pgSQL body runs, in order: its plain SQL, and the SQL it EXECUTEs where
that is built from constants, as real apps build policies for a list of tables:

    foreach t in array array['accounts', 'products'] loop
      execute format('create policy %I on public.%I for select using (...)', t || '_read', t);
    end loop;

A loop over a constant array (``foreach … in array array[…]``, ``for … in select
unnest(array[…])``) runs its body once per element; ``format()`` (``%s``, ``%I``, ``%L``,
``%%``), ``||``, ``quote_ident()``, ``quote_literal()`` and casts are evaluated. SQL built from
what the database holds at run time (a query's rows, a setting) is not followed: the caller is
told so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

import pglast
from pglast import ast

from tenantspec.catalog.names import sql_identifier, sql_literal
from tenantspec.catalog.nodes import function_name, uncast


def body_statements(tree) -> Iterator[tuple[str, bool]]:
    """``(sql, executed)`` for each statement a parsed PL/pgSQL function runs, depth first:
    its plain SQL (``executed`` False), then the SQL of each EXECUTE it can build (True);
    an EXECUTE it cannot build yields ``("", True)``."""
    datums = []
    for function in tree if isinstance(tree, list) else [tree]:
        if isinstance(function, dict) and "PLpgSQL_function" in function:
            datums = function["PLpgSQL_function"].get("datums", [])
    yield from _walk(tree, {}, datums)


def _walk(node, env: Mapping[str, str], datums: list) -> Iterator[tuple[str, bool]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, env, datums)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "PLpgSQL_stmt_execsql":
            yield value["sqlstmt"]["PLpgSQL_expr"]["query"], False
        elif key == "PLpgSQL_stmt_dynexecute":
            yield evaluated(value["query"]["PLpgSQL_expr"]["query"], env) or "", True
        elif key in ("PLpgSQL_stmt_foreach_a", "PLpgSQL_stmt_fors"):
            name, values = _loop(key, value, datums)
            for element in values if values is not None and name else [None]:
                scope = {**env, name: element} if element is not None else {k: v for k, v in env.items() if k != name}
                yield from _walk(value.get("body", []), scope, datums)
        elif key != "datums":
            yield from _walk(value, env, datums)


def _loop(kind: str, loop: dict, datums: list) -> tuple[str | None, list[str] | None]:
    """The loop variable's name and the constant values it takes (None: not constant)."""
    if kind == "PLpgSQL_stmt_foreach_a":
        datum = datums[loop["varno"]] if loop.get("varno", -1) < len(datums) else {}
        name = next(iter(datum.values()), {}).get("refname") if datum else None
        return name, _constant_array(loop["expr"]["PLpgSQL_expr"]["query"])
    target = loop.get("var", {})
    fields = target.get("PLpgSQL_row", {}).get("fields") or []
    name = fields[0]["name"] if len(fields) == 1 else target.get("PLpgSQL_rec", {}).get("refname")
    query = loop.get("query", {}).get("PLpgSQL_expr", {}).get("query", "")
    match = re.fullmatch(r"\s*select\s+unnest\s*\((.*)\)\s*", query, re.I | re.S)
    return name, _constant_array(match[1]) if match else None


def _constant_array(text: str) -> list[str] | None:
    node = uncast(_expression(text))
    if not isinstance(node, ast.A_ArrayExpr):
        return None
    values = [_value(element, {}) for element in node.elements or ()]
    return None if any(v is None for v in values) else values


def evaluated(text: str, env: Mapping[str, str]) -> str | None:
    """The text an EXECUTE's expression builds, or None when it depends on more than
    constants and the loop variables bound in ``env``."""
    node = _expression(text)
    return None if node is None else _value(node, env)


def _expression(text: str):
    try:
        return pglast.parse_sql(f"select {text}")[0].stmt.targetList[0].val
    except (pglast.parser.ParseError, AttributeError, IndexError):
        return None


def _value(node, env: Mapping[str, str]) -> str | None:
    if isinstance(node, ast.TypeCast):
        return _value(node.arg, env)
    if isinstance(node, ast.A_Const):
        value = node.val
        if isinstance(value, ast.String):
            return value.sval
        if isinstance(value, ast.Integer):
            return str(value.ival)
        return None
    if isinstance(node, ast.ColumnRef) and len(node.fields) == 1 and isinstance(node.fields[0], ast.String):
        return env.get(node.fields[0].sval)
    if isinstance(node, ast.A_Expr) and node.name and node.name[0].sval == "||":
        left, right = _value(node.lexpr, env), _value(node.rexpr, env)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.FuncCall):
        args = [_value(arg, env) for arg in node.args or ()]
        if any(a is None for a in args):
            return None
        name = function_name(node)[1]
        if name == "format" and args:
            return _format(args[0], args[1:])
        if name == "quote_ident" and len(args) == 1:
            return sql_identifier(args[0])
        if name == "quote_literal" and len(args) == 1:
            return sql_literal(args[0])
        if name == "concat":
            return "".join(args)
    return None


def _format(template: str, args: list[str]) -> str | None:
    """PostgreSQL's format(): ``%s``, ``%I``, ``%L``, ``%%``, positions as ``%2$s``."""
    out, position, index = [], 0, 0
    for match in re.finditer(r"%(?:(\d+)\$)?([sIL%])", template):
        out.append(template[position:match.start()])
        position = match.end()
        if match[2] == "%":
            out.append("%")
            continue
        at = int(match[1]) - 1 if match[1] else index
        index = at + 1
        if at >= len(args):
            return None
        value = args[at]
        out.append(value if match[2] == "s" else sql_identifier(value) if match[2] == "I"
                   else sql_literal(value))
    return "".join(out) + template[position:]


def do_body(node: ast.DoStmt) -> str | None:
    """The PL/pgSQL body of a DO block (None: another language)."""
    options = {o.defname: o for o in node.args or ()}
    language = options.get("language")
    if "as" not in options or (language is not None and language.arg.sval != "plpgsql"):
        return None
    return options["as"].arg.sval


def parsed_body(body: str):
    """A DO block's body parsed as PL/pgSQL (None when it does not parse)."""
    try:
        return pglast.parse_plpgsql(f"create function pg_temp.do_block() returns void "
                                    f"language plpgsql as $tenantspec_do$\n{body}\n$tenantspec_do$;")
    except pglast.parser.ParseError:
        return None


def builds_every_execute(node: ast.DoStmt) -> bool:
    """Whether every EXECUTE of a DO block runs SQL built from constants (replay follows it)."""
    body = do_body(node)
    tree = parsed_body(body) if body is not None else None
    return tree is not None and all(text for text, executed in body_statements(tree) if executed)
