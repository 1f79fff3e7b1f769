"""Enum types as replay sees them: ``create type ... as enum``, ``alter type ... add value`` /
``rename value``, renames and drops, in PostgreSQL's order of values; and domains, by the base
type they stand for."""

from __future__ import annotations

from pglast import ast

from tenantspec.catalog.nodes import deparse
from tenantspec.catalog.source import Statement
from tenantspec.catalog.state import EnumType, Origin, SchemaState

DEFAULT_SCHEMA = "public"


def _key(names) -> tuple[str, str]:
    parts = [n.sval for n in names]
    return (parts[-2] if len(parts) > 1 else DEFAULT_SCHEMA, parts[-1])


def create_enum(state: SchemaState, node: ast.CreateEnumStmt, statement: Statement) -> None:
    key = _key(node.typeName)
    if key in state.enums:
        state.conflict(Origin(statement), f"creates type {key[0]}.{key[1]}, which exists")
    state.enums[key] = EnumType(*key, [v.sval for v in node.vals or ()])


def create_domain(state: SchemaState, node: ast.CreateDomainStmt, statement: Statement) -> None:
    state.domains[_key(node.domainname)] = deparse(node.typeName)


def alter_enum(state: SchemaState, node: ast.AlterEnumStmt, statement: Statement) -> None:
    enum = state.enums.get(_key(node.typeName))
    if enum is None:
        return  # a type made before the migrations: nothing to follow
    if node.oldVal is not None:
        if node.oldVal not in enum.values:
            state.conflict(Origin(statement), f"{enum.schema}.{enum.name} has no value {node.oldVal!r}")
            return
        enum.values[enum.values.index(node.oldVal)] = node.newVal
        return
    if node.newVal in enum.values:
        if not node.skipIfNewValExists:
            state.conflict(Origin(statement), f"{enum.schema}.{enum.name} already has the value {node.newVal!r}")
        return
    if node.newValNeighbor in enum.values:
        at = enum.values.index(node.newValNeighbor) + (1 if node.newValIsAfter else 0)
        enum.values.insert(at, node.newVal)
    else:
        enum.values.append(node.newVal)


def rename_enum(state: SchemaState, names, new_name: str) -> None:
    enum = state.enums.pop(_key(names), None)
    if enum is not None:
        enum.name = new_name
        state.enums[(enum.schema, new_name)] = enum


def drop_enum(state: SchemaState, names) -> None:
    state.enums.pop(_key(names), None)
