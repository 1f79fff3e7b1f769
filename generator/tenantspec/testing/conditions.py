"""The conditions of hand-written policies, and whether the world ever made each false.

A hand-written policy says what no access level says: a feature flag, a status, a time
window. The probes judge it only in the states the world holds; a condition the world never
makes false could be dropped from the policy and no probe would notice. Each condition (a
leaf of the policy's AND / OR / NOT tree that reads a column, a function or a setting) is
evaluated on every row of its table, with every persona's token claims, as the superuser (so
the table's own policies hide no row): one that is true everywhere is reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import psycopg
from pglast import ast
from psycopg import sql

from tenantspec.catalog.nodes import deparse, walk
from tenantspec.spec import model
from tenantspec.spec.expressions import expression_node
from tenantspec.testing.personas import Persona


@dataclass(frozen=True)
class Condition:
    table: model.Name
    policy: str
    text: str

    def describe(self) -> str:
        return f"{self.table.name}: policy {self.policy}: {self.text}"


def conditions_of(table: model.Table) -> list[Condition]:
    """The leaves of every hand-written policy's USING that read something, and those of its
    WITH CHECK that read no column of the row: a new row's columns are the probes' to vary
    (they write other workspaces' ids, other users' rows), the rest (a flag, a setting, the
    time) only the world's data can make false."""
    columns = {column.name for column in table.columns}
    found: dict[str, Condition] = {}
    for policy in table.policies:
        for text, checks in ((policy.using, False), (policy.check, True)):
            if text:
                for leaf in _leaves(expression_node(text)):
                    if _reads_something(leaf) and not (checks and _reads_the_row(leaf, columns)):
                        shown = deparse(leaf)
                        found.setdefault(f"{policy.name}\0{shown}", Condition(table.name, policy.name, shown))
    return list(found.values())


def _leaves(node) -> list:
    if isinstance(node, ast.BoolExpr):
        return [leaf for arg in node.args for leaf in _leaves(arg)]
    return [node]


def _reads_the_row(node, columns: set[str]) -> bool:
    return any(isinstance(found, ast.ColumnRef) and isinstance(found.fields[-1], ast.String)
               and found.fields[-1].sval in columns for found, _ in walk(node))


def _reads_something(node) -> bool:
    return any(isinstance(found, (ast.ColumnRef, ast.FuncCall, ast.SubLink, ast.SQLValueFunction))
               for found, _ in walk(node))


def never_false(conn: psycopg.Connection, tables: list[model.Table], personas: list[Persona]) -> list[str]:
    """The conditions no row and no persona made false (or null), described; a table with no
    rows cannot tell and says so. ``conn`` is the superuser's, in a transaction rolled back
    by the caller."""
    found = []
    for table in tables:
        conditions = conditions_of(table)
        if not conditions:
            continue
        target = sql.Identifier(table.name.schema, table.name.name)
        if not conn.execute(sql.SQL("select exists (select from {})").format(target)).fetchone()[0]:
            found += [f"{c.describe()} (the world has no {table.name.name} rows to tell)" for c in conditions]
            continue
        try:
            falsified = _falsified(conn, target, conditions, personas)
        except psycopg.Error as error:
            found.append(f"{table.name.name}: the conditions of its policies cannot be evaluated row by row "
                         f"({error.diag.message_primary or error})")
            continue
        found += [c.describe() for c, done in zip(conditions, falsified) if not done]
    return found


def _falsified(conn: psycopg.Connection, target: sql.Composable, conditions: list[Condition],
               personas: list[Persona]) -> list[bool]:
    """Per condition, whether some persona's claims and some row make it false or null."""
    counts = sql.SQL(", ").join(
        sql.SQL("count(*) filter (where ({}) is not true)").format(sql.SQL(c.text)) for c in conditions)
    falsified = [False] * len(conditions)
    for persona in personas:
        with conn.transaction():
            conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(persona.claims()),))
            row = conn.execute(sql.SQL("select {} from {}").format(counts, target)).fetchone()
        falsified = [done or bool(n) for done, n in zip(falsified, row)]
        if all(falsified):
            break
    return falsified


NEVER_FALSE: set[str] = set()  # what the proof found in this process, for the run's summary
