"""The conditions of hand-written policies, and whether the world ever made each false.

A hand-written policy says what no access level says: a feature flag, a status, a time
window. The probes judge it only in the states the world holds; a condition the world never
makes false could be dropped from the policy and no probe would notice. Each condition (a
leaf of the policy's AND / OR / NOT tree that reads a column, a function or a setting) is
evaluated on every row of its table, with every persona's token claims, as the superuser (so
the table's own policies hide no row): one that is true everywhere is reported.

The intent can say what a condition decides (``only_when``: these commands run only while it
holds). The proof then makes it false itself: its function answers false for the length of a
rolled-back transaction, and every request the intent allows on those commands must be
refused. Dropping the condition from the policy, in the specs or in SQL, then fails the proof.
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
from tenantspec.testing.impersonate import Attempt, attempt_as
from tenantspec.testing.intent import OnlyWhen, falsifiable_call
from tenantspec.testing.personas import Persona
from tenantspec.testing.probes import describe_probe, statement_for
from tenantspec.testing.requests import Probe
from tenantspec.testing.world import World


@dataclass(frozen=True)
class Condition:
    table: model.Name
    policy: str
    text: str

    def describe(self) -> str:
        return f"{self.table.name}: policy {self.policy}: {self.text}"


def shown(text: str) -> str:
    """A condition as the report shows it (pglast's deparse), to match an intent's spelling."""
    return deparse(expression_node(text))


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


def never_false(conn: psycopg.Connection, tables: list[model.Table], personas: list[Persona],
                exercised: frozenset[tuple[str, str]] = frozenset()) -> list[str]:
    """The conditions no row and no persona made false (or null), described; a table with no
    rows cannot tell and says so. ``exercised``: (table, condition as shown) the proof makes
    false itself (the intent's ``only_when``). ``conn`` is the superuser's, in a transaction
    rolled back by the caller."""
    found = []
    for table in tables:
        conditions = [c for c in conditions_of(table) if (table.name.name, c.text) not in exercised]
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


# -- making a condition false -------------------------------------------------------------------

def make_false(conn: psycopg.Connection, text: str) -> int:
    """Make the condition ``text`` false until the transaction rolls back: every boolean
    function of its name that the call can reach answers false (true when the call is
    negated), whatever its arguments. The number of functions replaced (0: none found).
    ``conn`` is the superuser's."""
    statements = falsifying_statements(conn, text)
    for statement in statements:
        conn.execute(statement)
    return len(statements)


def falsifying_statements(conn: psycopg.Connection, text: str) -> list[str]:
    """The ``create or replace function`` statements `make_false` runs, as SQL text."""
    name, arguments, negated = falsifiable_call(text)
    schema = name[0] if len(name) > 1 else None
    found = conn.execute(
        "select n.nspname, p.proname, pg_catalog.pg_get_function_arguments(p.oid)"
        "  from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace"
        " where p.proname = %(name)s and p.prokind = 'f' and p.prorettype = 'pg_catalog.bool'::regtype"
        "   and (n.nspname = %(schema)s or %(schema)s::text is null and n.nspname = any (current_schemas(false)))"
        "   and p.pronargs >= %(n)s and p.pronargs - p.pronargdefaults <= %(n)s"
        " order by 1, 2, 3",
        {"name": name[-1], "schema": schema, "n": arguments}).fetchall()
    return [sql.SQL("create or replace function {}.{}({}) returns boolean language sql as {}").format(
                sql.Identifier(nspname), sql.Identifier(proname), sql.SQL(signature),
                sql.Literal(f"select {'true' if negated else 'false'}")).as_string(conn)
            for nspname, proname, signature in found]


NEVER_FALSE: set[str] = set()  # what the proof found in this process, for the run's summary


def refused_while_false(probes: list[Probe], rule: OnlyWhen) -> list[Probe]:
    """The basic probes of the rule's table and commands that the intent lets through (the
    ones its condition, made false, must turn into refusals)."""
    return [probe for probe in probes if probe.cell and probe.cell[0] == rule.table
            and probe.cell[1] in rule.commands and _succeeds(probe.expected)]


def allowed_while_false(conn: psycopg.Connection, world: World, probes: list[Probe], rule: OnlyWhen) -> list[str]:
    """What the intent's ``rule`` refuses and the database still does with its condition
    false: each basic probe of the rule's table and commands that the intent allows to a
    persona the policies judge (service_role bypasses them) runs again as that persona, and
    must be refused. ``conn`` is the superuser's, in a transaction rolled back by the caller."""
    planned = refused_while_false(probes, rule)
    if not judged(planned):
        return [f"{rule.where}: the intent lets nobody but service_role {' or '.join(rule.commands)} on "
                f"{rule.table}, so whether {rule.condition} holds decides nothing"]
    try:
        answers = with_condition_false(conn, world, judged(planned), rule.condition)
    except ValueError as error:
        return [f"{rule.where}: {error}"]
    return [f"{rule.where}: {describe_probe(probe)}: {result.describe()} with {rule.condition} false; the intent "
            f"runs {probe.request.command} on {rule.table} only while it holds"
            for probe, result in answers if not refused(probe.request.command, result)]


def judged(probes: list[Probe]) -> list[Probe]:
    """The probes of personas the policies judge: all but service_role's (BYPASSRLS)."""
    return [probe for probe in probes if probe.request.persona.db_role != "service_role"]


def with_condition_false(conn: psycopg.Connection, world: World, probes: list[Probe],
                         condition: str) -> list[tuple[Probe, Attempt]]:
    """Each probe's answer with ``condition`` made false (`make_false`), every request rolled
    back and the condition left false until the caller rolls back. Raises ValueError when the
    condition cannot be made false."""
    try:
        if not make_false(conn, condition):
            name, arguments, _ = falsifiable_call(condition)
            raise ValueError(f"no boolean function {'.'.join(name)} taking {arguments} argument(s) in the "
                             f"database to make {condition} false")
    except psycopg.Error as error:
        raise ValueError(f"{condition} cannot be made false ({error.diag.message_primary or error})") from None
    answers = []
    for probe in probes:
        request = probe.request
        statement, params = statement_for(world.facts[request.table], request)
        result = attempt_as(conn, request.persona.db_role, request.persona.claims(), statement, params, undo=True)
        answers.append((probe, result))
    return answers


def refused(command: str, result: Attempt) -> bool:
    """Denied, as the matrix counts it: an error other than a constraint's (class 23 comes after
    every privilege and policy check passed), no row seen, or no row written."""
    if result.failed:
        return not (result.sqlstate or "").startswith("23")
    return not (result.rows if command == "select" else result.rowcount)


def _succeeds(expected) -> bool:
    """Whether the access model expects a probe to be let through (rows seen or written)."""
    if expected.failed:
        return False
    return bool(expected.visible) if expected.visible is not None else expected.rows > 0
