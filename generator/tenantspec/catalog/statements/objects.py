"""Triggers, comments, publications and schemas."""

from __future__ import annotations

from pglast import ast, enums

from tenantspec.catalog.keys import functions_for, name_key, relation_key
from tenantspec.catalog.source import Statement
from tenantspec.catalog.state import Origin, Schema, SchemaState, Trigger

# ---------------------------------------------------------------- triggers, comments, publications, schemas

TRIGGER_TIMING = {2: "before", 64: "instead of"}  # TRIGGER_TYPE_BEFORE, TRIGGER_TYPE_INSTEAD; else after
TRIGGER_EVENTS = ((4, "insert"), (16, "update"), (8, "delete"), (32, "truncate"))


def create_trigger(state: SchemaState, node: ast.CreateTrigStmt, statement: Statement) -> None:
    if node.isconstraint:
        return
    table = state.table(relation_key(node.relation))
    if node.trigname in table.triggers and not node.replace:
        state.conflict(Origin(statement), f"creates trigger {node.trigname} on {table.qualified_name}, which "
                                          f"{table.triggers[node.trigname].origin.location} already created")
    table.triggers[node.trigname] = Trigger(
        name=node.trigname,
        timing=TRIGGER_TIMING.get(node.timing & 66, "after"),
        events=tuple(name for bit, name in TRIGGER_EVENTS if node.events & bit),
        for_each_row=bool(node.row),
        function=name_key(node.funcname),
        when=node.whenClause,
        origin=Origin(statement),
        columns=tuple(c.sval for c in node.columns or ()),
        arguments=tuple(a.sval for a in node.args or ()),
    )


def comment(state: SchemaState, node: ast.CommentStmt, statement: Statement) -> None:
    kind = node.objtype
    if kind == enums.ObjectType.OBJECT_TABLE:
        table = state.tables.get(name_key(node.object))
        if table is not None:
            table.comment = node.comment
    elif kind == enums.ObjectType.OBJECT_COLUMN:
        table = state.tables.get(name_key(node.object[:-1]))
        column = table.columns.get(node.object[-1].sval) if table is not None else None
        if column is not None:
            column.comment = node.comment
    elif kind == enums.ObjectType.OBJECT_FUNCTION:
        for function in functions_for(state, node.object):
            function.comment = node.comment


def publication_tables(objects) -> list[tuple[str, str]]:
    return [relation_key(spec.pubtable.relation) for spec in objects or ()
            if getattr(spec, "pubtable", None) is not None]


def create_publication(state: SchemaState, node: ast.CreatePublicationStmt, statement: Statement) -> None:
    state.publications[node.pubname] = publication_tables(node.pubobjects)


def alter_publication(state: SchemaState, node: ast.AlterPublicationStmt, statement: Statement) -> None:
    members = state.publications.setdefault(node.pubname, [])
    tables = publication_tables(node.pubobjects)
    if node.action == enums.AlterPublicationAction.AP_SetObjects:
        members[:] = tables
    for key in tables:
        if node.action == enums.AlterPublicationAction.AP_AddObjects:
            if key in members:
                state.conflict(Origin(statement), f"adds {key[0]}.{key[1]} to publication {node.pubname}, "
                                                  f"which already holds it")
            else:
                members.append(key)
        elif node.action == enums.AlterPublicationAction.AP_DropObjects and key in members:
            members.remove(key)


def create_schema(state: SchemaState, node: ast.CreateSchemaStmt, statement: Statement) -> None:
    """A new schema: only its owner may use it until a GRANT says otherwise."""
    name = node.schemaname or (node.authrole.rolename if node.authrole else None)
    if name is None:
        return
    if name in state.schemas:
        if not node.if_not_exists:
            state.conflict(Origin(statement), f"creates schema {name}, which exists already")
        return
    state.schemas[name] = Schema(name, Origin(statement))
