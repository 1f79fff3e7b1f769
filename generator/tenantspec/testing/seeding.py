"""Writing the world into a database: its rows, each table after the tables it references, as
the tests' seed. The app's own triggers act while it runs; a row one made first (a profile for
each new user) takes the world's values."""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Callable, Mapping

import psycopg
from psycopg import sql

from tenantspec.spec import model
from tenantspec.testing.tables import USERS, TableFacts
from tenantspec.testing.values import sample
from tenantspec.testing.world import Row, World, WorldError


def insert_statement(facts: TableFacts, values: Mapping[str, str | None]) -> tuple[sql.Composed, list]:
    """``insert into <table> (<columns>) values (<value>::<type>, ...)``."""
    columns = list(values)
    # an identity column generated always takes the tests' values only when they say so
    statement = sql.SQL("insert into {} ({}){} values ({})").format(
        sql.Identifier(facts.name.schema, facts.name.name),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(" overriding system value" if facts.identity_always else ""),
        sql.SQL(", ").join(typed_placeholder(facts, c) for c in columns),
    )
    return statement, [values[c] for c in columns]


def update_statement(facts: TableFacts, values: Mapping[str, str | None],
                     found_by: sql.Composable | None = None) -> tuple[sql.Composed, list]:
    """``update <table> set <column> = <value>, ... where <key> = <value>``: the row of
    ``values``' key given the other values (``select``ing it when there are none); with
    ``found_by``, the row that condition finds takes every value, its key too."""
    table = sql.Identifier(facts.name.schema, facts.name.name)
    if found_by is not None:
        return sql.SQL("update {} set {} where {}").format(
            table, sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), typed_placeholder(facts, c))
                                      for c in values), found_by), list(values.values())
    key = [c for c in facts.key if c in values]
    rest = [c for c in values if c not in key]
    where = sql.SQL(" and ").join(sql.SQL("{} = {}").format(sql.Identifier(c), typed_placeholder(facts, c))
                                  for c in key)
    if not rest or not key:
        return sql.SQL("select from {} where {}").format(table, where if key else sql.SQL("false")), \
            [values[c] for c in key]
    statement = sql.SQL("update {} set {} where {}").format(
        table, sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), typed_placeholder(facts, c))
                                  for c in rest), where)
    return statement, [values[c] for c in rest] + [values[c] for c in key]


def typed_placeholder(facts: TableFacts, column: str) -> sql.Composable:
    """``%s::<the column's type>``: values travel as text and the cast makes them typed."""
    return sql.SQL("{}::{}").format(sql.Placeholder(), sql.SQL(facts.columns[column]))


def parents_first(world: World, order: list[model.Name]) -> list[model.Name]:
    """``order`` with every table after the tables its rows reference, else as given; a circle
    keeps the given order. A table keyed by its user (the app's own ``users``, ``profiles``)
    stands for the users: it comes right after them, since an external table (a membership
    naming such a user) need not declare its references."""
    keyed_by_user = [name for name in order if world.facts[name].per_user
                     and world.facts[name].key == (world.facts[name].user,)]
    placed: list[model.Name] = [name for name in order if name == USERS] + keyed_by_user
    waiting = [name for name in order if name not in placed]
    while waiting:
        ready = next((name for name in waiting if all(
            ref.target == name or ref.target in placed or ref.target not in waiting
            for ref in world.facts[name].references)), waiting[0])
        placed.append(ready)
        waiting.remove(ready)
    return placed


def seed_order(world: World) -> list[model.Name]:
    """The tables in the order their rows are written: the users, the workspaces, the accounts
    and memberships, then the rest, each after the tables its rows reference."""
    members = world.project.tenancy.members
    order = [USERS, world.project.tenancy.workspaces] + ([members.user_through.table] if members.user_through else []) \
        + ([members.table] if members.table else [])
    order += [name for name in world.rows if name not in order]
    return parents_first(world, order)


# Set by `prove --observe-change` for the chain before the migration it observes: the world,
# built from today's specs, is written with the tables and columns that chain has.
EARLIER_CHAIN = "TENANTSPEC_EARLIER_CHAIN"


def existing_columns(conn: psycopg.Connection, name: model.Name) -> set[str]:
    """The columns the database's table has (none: no such table)."""
    return {column for (column,) in conn.execute(
        "select attname from pg_attribute where attrelid = to_regclass(format('%%I.%%I', %s::text, %s::text))"
        " and attnum > 0 and not attisdropped", (name.schema, name.name)).fetchall()}


def seed_world(conn: psycopg.Connection, world: World) -> None:
    """Write every row of the world, parents before children. A row an app's trigger cannot
    write without a signed-in user (it reads ``auth.uid()``'s profile) is written again as
    that user would write it through the API: its user, or a member of its workspace."""
    users = {str(p.user_id) for p in world.personas.values() if p.user_id is not None}
    earlier = os.environ.get(EARLIER_CHAIN) == "1"
    for name in seed_order(world):
        facts = world.facts[name]
        present = existing_columns(conn, name) if earlier else None
        if present is not None and not present:
            continue  # a table the chain does not have yet
        for row in world.rows.get(name, ()):
            if present is not None and not set(row.values) <= present:
                row = Row(row.table, {k: v for k, v in row.values.items() if k in present}, row.workspace, row.tag)
            try:
                write_row(conn, world, facts, row, users)
            except psycopg.Error as exc:
                raise WorldError(
                    f"creating a row of {name} ({', '.join(f'{k}={v}' for k, v in row.values.items())}) "
                    f"failed: {exc.diag.message_primary or exc}"
                    + (f" ({exc.diag.message_detail})" if exc.diag.message_detail else "")
                    + _where(exc, name, world.project.source, facts.spec is None)
                ) from exc


def write_row(conn: psycopg.Connection, world: World, facts: TableFacts, row: Row, users: set[str]) -> None:
    """Insert ``row``; where a trigger made it first (a profile for each new user), update it
    to the world's values. Each write fits a CHECK the row's defaults miss (`fit_check`)."""
    def insert(values: Mapping[str, str | None]) -> None:
        statement, params = insert_statement(facts, values)
        try:
            insert_with_lookups(conn, statement, params)
        except psycopg.Error as exc:
            user = acting_user(world, facts, row, users)
            if not in_function(exc) or user is None or isinstance(exc, psycopg.errors.UniqueViolation):
                raise
            claims = json.dumps({"sub": user, "role": "authenticated"})
            insert_with_lookups(conn, statement, params, (claims, user))

    try:
        fitted(conn, facts, row, insert)
    except psycopg.errors.UniqueViolation as original:
        # the row a trigger made: by the row's key, else by the unique key it holds
        holder = holder_of(conn, facts, row, original, world.rows.get(facts.name, ()))

        def update(values: Mapping[str, str | None]) -> None:
            with conn.transaction():
                if not (conn.execute(*update_statement(facts, values)).rowcount or holder is not None
                        and conn.execute(*update_statement(facts, values, holder)).rowcount):
                    raise LookupError(facts.name)

        try:
            fitted(conn, facts, row, update)
        except LookupError:
            raise original from None


def holder_of(conn: psycopg.Connection, facts: TableFacts, row: Row, exc: psycopg.Error,
              world_rows: tuple[Row, ...]) -> sql.Composable | None:
    """Where a unique key other than the row's own clashed (a trigger made the workspace's
    owner membership, one a workspace), the condition finding the row that holds it: the
    key's columns equal to the row's values, and the index's predicate. None when the holder is
    a row the world wrote itself (two of its rows clash: that is the error to show)."""
    if exc.diag.constraint_name is None:
        return None
    found = conn.execute(
        "select array(select a.attname from unnest(i.indkey) with ordinality k(n, o)"
        " join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.n order by k.o),"
        " pg_get_expr(i.indpred, i.indrelid) from pg_index i join pg_class c on c.oid = i.indexrelid"
        " where c.relname = %s and i.indrelid = format('%%I.%%I', %s::text, %s::text)::regclass",
        (exc.diag.constraint_name, facts.name.schema, facts.name.name)).fetchone()
    if found is None or not found[0] or any(column not in row.values for column in found[0]):
        return None
    columns, predicate = found
    tests = [sql.SQL("{} = {}").format(sql.Identifier(c), sql.Literal(row.values[c])) for c in columns]
    if predicate:
        tests.append(sql.SQL("(" + predicate.replace("%", "%%") + ")"))
    condition = sql.SQL(" and ").join(tests)
    holder = conn.execute(sql.SQL("select {} from {} where {}").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in facts.key),
        sql.Identifier(facts.name.schema, facts.name.name), condition)).fetchone()
    written = {tuple(str(r.values.get(c)) for c in facts.key) for r in world_rows if r is not row}
    return None if holder is None or tuple(holder) in written else condition  # (a row of the world's own: a clash)


def fitted(conn: psycopg.Connection, facts: TableFacts, row: Row,
           write: Callable[[Mapping[str, str | None]], None]) -> None:
    try:
        write(row.values)
    except psycopg.errors.CheckViolation as exc:
        if in_function(exc) or not fit_check(conn, facts, row, exc, write):
            raise
    except psycopg.errors.RaiseException as exc:
        if not in_function(exc) or not fit_raised(conn, facts, row, write):
            raise


LOOKUPS = 10  # lookup rows one insert may need (a plan, its tier, ...)
ACT_AS = "select set_config('request.jwt.claims', %s, true), set_config('request.jwt.claim.sub', %s, true)"
MISSING_KEY = re.compile(r'Key \(([^,()]+)\)=\((.*)\) is not present in table "[^"]+"\.', re.DOTALL)


def insert_with_lookups(conn: psycopg.Connection, statement, params, user: tuple[str, str] | None = None) -> None:
    """Insert one row (as ``user``: its claims and id, when given). A trigger's row that
    references a lookup row no migration inserts (a new team's plan of tier 'launch', which
    the app's seed file adds) gets that row first: its key, and its other required columns
    filled by type; then the insert runs again."""
    for _ in range(LOOKUPS + 1):
        try:
            with conn.transaction():
                if user is not None:
                    conn.execute(ACT_AS, user)
                conn.execute(statement, params)
                if user is not None:  # (a local setting outlives its savepoint: the next row is no one's)
                    conn.execute(ACT_AS, ("", ""))
            return
        except psycopg.errors.ForeignKeyViolation as exc:
            if not in_function(exc) or not add_lookup_row(conn, exc):
                raise
    raise psycopg.errors.ForeignKeyViolation(f"more than {LOOKUPS} lookup rows missing")


def add_lookup_row(conn: psycopg.Connection, exc: psycopg.Error) -> bool:
    """The row a trigger's foreign key missed, where it is a lookup row of one key column
    whose other required columns take values of their types; False when it is not."""
    match = MISSING_KEY.search(exc.diag.message_detail or "")
    if match is None or exc.diag.constraint_name is None:
        return False
    found = conn.execute(
        "select c.confrelid::regclass::text, a.attname from pg_constraint c"
        " join pg_attribute a on a.attrelid = c.confrelid and a.attnum = c.confkey[1]"
        " where c.conname = %s and c.conrelid = format('%%I.%%I', %s::text, %s::text)::regclass"
        " and cardinality(c.confkey) = 1",
        (exc.diag.constraint_name, exc.diag.schema_name, exc.diag.table_name)).fetchone()
    if found is None:
        return False
    target, key = found
    values = {key: match[2]}
    for column, type_text, first_label in conn.execute(
            "select attname, format_type(atttypid, atttypmod),"
            " (select enumlabel from pg_enum where enumtypid = atttypid order by enumsortorder limit 1)"
            " from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped and attnotnull"
            " and not atthasdef and attidentity = '' and attgenerated = '' order by attnum", (target,)).fetchall():
        if column not in values:
            value = first_label if first_label is not None else sample(type_text, 1, match[2][-20:], f"{target}.{column}")
            if value is None:
                return False
            values[column] = value
    try:
        with conn.transaction():
            # the row stands for the seed file's: its own triggers (a webhook) are not the proof's
            conn.execute("set local session_replication_role = replica")
            conn.execute(sql.SQL("insert into {} ({}) values ({})").format(
                sql.SQL(target), sql.SQL(", ").join(map(sql.Identifier, values)),
                sql.SQL(", ").join(sql.Placeholder() * len(values))), list(values.values()))
            conn.execute("set local session_replication_role = origin")
    except psycopg.Error:
        return False  # (a CHECK the values miss: the trigger's own error is the one to show)
    return True


FITTINGS = 64  # combinations of defaulted columns' values one refused row may try


def fit_check(conn: psycopg.Connection, facts: TableFacts, row: Row, exc: psycopg.Error,
              write: Callable[[Mapping[str, str | None]], None]) -> bool:
    """A row a CHECK refused for a column it left to its default (``mode`` stays 'personal'
    where the check asks 'organization' of a row with an organization): the values of such
    columns of few values (an enum, a boolean) are tried, and the first combination the check
    accepts is written (``write``: the insert, or the update of a row a trigger made) and kept
    in the row. False when none is."""
    if exc.diag.constraint_name is None:
        return False
    free = [(column, choices) for column, choices in few_valued(conn, facts, exc.diag.constraint_name)
            if column not in row.values]
    if not free:
        return False
    for values in itertools.islice(itertools.product(*(choices for _, choices in free)), FITTINGS):
        tried = dict(row.values) | {column: value for (column, _), value in zip(free, values)}
        try:
            write(tried)
        except psycopg.errors.CheckViolation:
            continue
        row.values.update(tried)  # the world knows the row as it was written
        return True
    return False


def few_valued(conn: psycopg.Connection, facts: TableFacts, constraint: str | None = None) -> list[tuple[str, list]]:
    """``(column, values)`` of the table's columns of few values (a boolean, an enum), those a
    constraint reads when it is named, in the table's order."""
    return [(column, choices) for column, choices in conn.execute(
        "select a.attname, case when a.atttypid = 'boolean'::regtype then array['false', 'true']"
        " else (select array_agg(e.enumlabel order by e.enumsortorder) from pg_enum e where e.enumtypid = a.atttypid)"
        " end from pg_attribute a where a.attrelid = format('%%I.%%I', %s::text, %s::text)::regclass"
        " and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''"
        " and (%s::text is null or a.attnum = any (select unnest(c.conkey) from pg_constraint c"
        "      where c.conname = %s and c.conrelid = a.attrelid)) order by a.attnum",
        (facts.name.schema, facts.name.name, constraint, constraint)).fetchall() if choices]


def fit_raised(conn: psycopg.Connection, facts: TableFacts, row: Row,
               write: Callable[[Mapping[str, str | None]], None]) -> bool:
    """A row an app's trigger refused by raising (``each course must have an active tier``):
    each column of few values (a boolean, an enum) that is not the row's key, workspace,
    reference or user is given its other values, one column at a time, and the first row the
    trigger lets through is written and kept. False when none is."""
    fixed = {*facts.key, facts.workspace_column, facts.user, *(r.column for r in facts.references)}
    tries = [(column, value) for column, choices in few_valued(conn, facts) if column not in fixed
             for value in choices if value != row.values.get(column)]
    for column, value in tries[:FITTINGS]:
        tried = Row(row.table, dict(row.values) | {column: value}, row.workspace, row.tag)
        try:
            write(tried.values)
        except psycopg.errors.RaiseException:
            continue
        except psycopg.errors.CheckViolation as exc:  # past the trigger, a CHECK its defaults miss
            if in_function(exc) or not fit_check(conn, facts, tried, exc, write):
                continue
        row.values.update(tried.values)
        return True
    return False


def in_function(exc: psycopg.Error) -> bool:
    """Whether the error arose inside a function (a trigger's), not in the row's own values."""
    return "function" in (exc.diag.context or "")


def acting_user(world: World, facts: TableFacts, row: Row, users: set[str]) -> str | None:
    """Who writes ``row`` through the API: the user it names, else a member of its workspace."""
    named = [row.values.get(facts.user)] if facts.user else []
    named += [v for v in row.values.values() if v in users]
    if found := next((v for v in named if v in users), None):
        return found
    members = world.members(row.workspace) if row.workspace else []
    return str(members[0].user_id) if members else None


def _where(exc: psycopg.Error, name: model.Name, source: str, external: bool) -> str:
    """What to do about a row the database refused: a trigger's write to another table is the
    app's (its own rows, or values its triggers need: a migration or the seed must give them);
    an external table's own row needs the project file's seed values."""
    schema, table = exc.diag.schema_name, exc.diag.table_name
    if table and (schema, table) != (name.schema, name.name):
        return (f". The row of {schema}.{table} was written by a trigger of {name} (or a function it calls): "
                f"give {name} the values that trigger needs, or make the rows it needs exist first")
    return _SEED_HINT.format(source=source, table=name) if external else ""


_SEED_HINT = (". The tests write an external table's key and workspace columns only; give the other "
              "required columns under external.tables.{table}.seed in {source}")
