"""Rows a migration must keep: written before it, read back after it.

``seed_rows`` writes one row into each table of interest and into every table those rows
reference, parents first, as the migrating role. What to write comes from the replayed state
of the SQL that built the database (``tenantspec.catalog``): each column gets a value of its
type that its checks accept, each foreign key the row written for its target, each unique
column a value of its own.
"""

from __future__ import annotations

import itertools
import uuid

import psycopg
from psycopg import sql

from tenantspec.catalog.expression import value_list
from tenantspec.catalog.state import SchemaState, Table

AUTH_USERS = ("auth", "users")  # Supabase's, created by the stand-in: id and email suffice
VALUES = {
    "uuid": lambda n: uuid.uuid4(), "text": lambda n: f"v{n}", "varchar": lambda n: f"v{n}",
    "bpchar": lambda n: "v", "citext": lambda n: f"v{n}", "int2": lambda n: 1, "int4": lambda n: 1,
    "int8": lambda n: 1, "numeric": lambda n: 1, "float4": lambda n: 1.0, "float8": lambda n: 1.0,
    "bool": lambda n: True, "jsonb": lambda n: "{}", "json": lambda n: "{}", "date": lambda n: "2026-01-02",
    "timestamptz": lambda n: "2026-01-02T03:04:05+00", "timestamp": lambda n: "2026-01-02T03:04:05",
}


def _check_values(table: Table) -> dict[str, str]:
    """A value each value-list check accepts: the first one listed."""
    found = {}
    for check in table.checks:
        listed = value_list(check.expression)
        if listed and listed[0] and listed[1]:
            found[listed[0]] = listed[1][0]
    return found


def _order(state: SchemaState, wanted: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``wanted`` and every table they reference, parents first."""
    ordered: list[tuple[str, str]] = []

    def visit(key, path=()):
        if key in ordered or key in path or (key not in state.tables and key != AUTH_USERS):
            return
        for fk in state.tables[key].foreign_keys if key in state.tables else ():
            if fk.target != key:
                visit(fk.target, path + (key,))
        ordered.append(key)

    for key in wanted:
        visit(key)
    return ordered


def seed_rows(conn: psycopg.Connection, state: SchemaState,
              tables: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """Write one row into each of ``tables`` and what they reference; returns the rows written."""
    counter = itertools.count(1)
    written: dict[tuple[str, str], dict] = {}
    for key in _order(state, tables):
        table = state.tables.get(key)
        if key == AUTH_USERS:
            user = uuid.uuid4()
            conn.execute("insert into auth.users (id, email) values (%s, %s)", (user, f"u{next(counter)}@example.test"))
            written[key] = {"id": user}
            continue
        if table.external:
            continue
        values = {}
        checked = _check_values(table)
        references = {column: fk for fk in table.foreign_keys for column in fk.columns}
        for column in table.columns.values():
            if column.name in references:
                fk = references[column.name]
                target = written.get(fk.target)
                if target is not None and fk.target != key:
                    values[column.name] = target[fk.target_columns[fk.columns.index(column.name)]]
                continue
            if column.name in checked:
                values[column.name] = checked[column.name]
            elif column.default is None or _unique(table, column.name):
                make = VALUES.get(column.type_name)
                if make is not None:
                    values[column.name] = make(next(counter))
        statement = sql.SQL("insert into {} ({}) values ({}) returning to_jsonb({}.*)").format(
            sql.Identifier(*key), sql.SQL(", ").join(map(sql.Identifier, values)),
            sql.SQL(", ").join(sql.Placeholder() * len(values)), sql.Identifier(key[1]))
        row = conn.execute(statement, list(values.values())).fetchone()[0]
        written[key] = {name: _typed(table, name, value) for name, value in row.items()}
    return {key: row for key, row in written.items() if key in tables}


def _unique(table: Table, column: str) -> bool:
    return any(column in index.columns and index.unique for index in table.indexes)


def _typed(table: Table, name: str, value):
    column = table.columns.get(name)
    if column is not None and column.type_name == "uuid" and value is not None:
        return uuid.UUID(value)
    return value


def read_rows(conn: psycopg.Connection, written: dict[tuple[str, str], dict],
              keys: dict[tuple[str, str], str]) -> dict[tuple[str, str], dict | None]:
    """The rows ``written`` read again by their key column (``keys[table]``)."""
    found = {}
    for table, row in written.items():
        column = keys[table]
        result = conn.execute(
            sql.SQL("select to_jsonb(t) from {} t where {} = %s").format(sql.Identifier(*table),
                                                                      sql.Identifier(column)),
            (str(row[column]),)).fetchone()
        found[table] = result[0] if result else None
    return found

