"""Rows the migrations insert: the lookup data a schema's meaning rests on (the roles of a
roles table, the permissions each role holds), read from ``insert ... values`` statements
of constants. Rows written any other way (a ``select``, a function, the dashboard) are not
seen."""

from __future__ import annotations

from pglast import ast

from tenantspec.catalog.keys import relation_key
from tenantspec.catalog.state import SchemaState


def inserted_rows(state: SchemaState) -> dict[tuple[str, str], list[dict]]:
    """The rows of constants ``insert into <table> (...) values (...)`` statements add, by table."""
    rows: dict[tuple[str, str], list[dict]] = {}
    for statement in state.statements:
        node = statement.node
        if not isinstance(node, ast.InsertStmt) or node.cols is None:
            continue
        select = node.selectStmt
        if not isinstance(select, ast.SelectStmt) or not select.valuesLists:
            continue
        names = [target.name for target in node.cols]
        for values in select.valuesLists:
            row = {}
            for name, value in zip(names, values):
                while isinstance(value, ast.TypeCast):
                    value = value.arg
                if isinstance(value, ast.A_Const) and isinstance(value.val, (ast.String, ast.Integer)):
                    row[name] = value.val.sval if isinstance(value.val, ast.String) else value.val.ival
            rows.setdefault(relation_key(node.relation), []).append(row)
    return rows
