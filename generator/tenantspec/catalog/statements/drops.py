"""DROP of every kind replay follows."""

from __future__ import annotations

from pglast import ast, enums

from tenantspec.catalog.keys import functions_for, name_key
from tenantspec.catalog.source import Statement
from tenantspec.catalog.state import Origin, SchemaState
from tenantspec.catalog.statements.enums import drop_enum

# ---------------------------------------------------------------- drops

def drop(state: SchemaState, node: ast.DropStmt, statement: Statement) -> None:
    kind = node.removeType
    for target in node.objects or ():
        if kind == enums.ObjectType.OBJECT_TABLE:
            drop_table(state, name_key(target), node, statement)
        elif kind == enums.ObjectType.OBJECT_TRIGGER:
            table = state.tables.get(name_key(target[:-1]))
            if table is not None:
                if table.triggers.pop(target[-1].sval, None) is None and not node.missing_ok \
                        and not table.external:
                    state.conflict(Origin(statement), f"{table.qualified_name} has no trigger {target[-1].sval}")
        elif kind == enums.ObjectType.OBJECT_VIEW:
            state.views.pop(name_key(target), None)
        elif kind == enums.ObjectType.OBJECT_TYPE:
            drop_enum(state, target.names)
        elif kind == enums.ObjectType.OBJECT_SCHEMA:
            state.schemas.pop(target.sval, None)
        elif kind == enums.ObjectType.OBJECT_INDEX:
            drop_index(state, target)
        elif kind == enums.ObjectType.OBJECT_POLICY:
            table = state.tables.get(name_key(target[:-1]))
            if table is not None:
                table.policies.pop(target[-1].sval, None)
        elif kind in (enums.ObjectType.OBJECT_FUNCTION, enums.ObjectType.OBJECT_PROCEDURE,
                      enums.ObjectType.OBJECT_ROUTINE):
            for function in functions_for(state, target):
                state.functions.pop((function.schema, function.name, function.arg_types), None)


def drop_table(state: SchemaState, key: tuple[str, str], node: ast.DropStmt, statement: Statement) -> None:
    table = state.tables.pop(key, None)
    if table is None:
        return
    for members in state.publications.values():
        if key in members:
            members.remove(key)
    for other in state.tables.values():
        dependents = [fk for fk in other.foreign_keys if fk.target == key]
        if dependents and node.behavior != enums.DropBehavior.DROP_CASCADE and not other.external:
            state.conflict(Origin(statement), f"drops {table.qualified_name}, which {other.qualified_name}'s "
                                              f"foreign key {dependents[0].name} references (use cascade)")
        other.foreign_keys = [fk for fk in other.foreign_keys if fk.target != key]


def drop_index(state: SchemaState, target: tuple) -> None:
    schema, name = name_key(target)
    for table in state.tables.values():
        if table.schema == schema:
            table.indexes = [ix for ix in table.indexes if ix.name != name]
