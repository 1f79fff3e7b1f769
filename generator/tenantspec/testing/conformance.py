"""The migrations do what the specs say beyond access: columns and types, allowed values,
unique keys, foreign keys and their ON DELETE actions, triggers and the realtime
publication. Each check runs as the migrating role (past RLS and grants, so only the
constraints decide) inside one transaction that is rolled back, and returns its problems.
"""

from __future__ import annotations

from functools import cache

import pglast
import psycopg
from pglast import ast
from psycopg import sql

from tenantspec.spec.expressions import storage_type
from tenantspec.testing.impersonate import attempt
from tenantspec.testing.introspect import constraint_columns, trigger_shape
from tenantspec.testing.requests import RequestMaker
from tenantspec.testing.seeding import insert_statement, typed_placeholder
from tenantspec.testing.state import State
from tenantspec.testing.tables import TableFacts
from tenantspec.testing.values import family, outside, sample
from tenantspec.testing.world import World

REALTIME_PUBLICATION = "supabase_realtime"


@cache
def normalized_type(type_text: str) -> tuple:
    """A type name as PostgreSQL resolves it, so ``timestamptz`` equals
    ``timestamp with time zone`` and ``int`` equals ``integer``."""
    try:
        type_name = pglast.parse_sql(f"select null::{type_text}")[0].stmt.targetList[0].val.typeName
    except pglast.parser.ParseError:
        return (type_text,)
    mods = tuple(m.val.ival for m in type_name.typmods or () if isinstance(m, ast.A_Const)
                 and isinstance(m.val, ast.Integer))
    return type_name.names[-1].sval.lower(), mods, len(type_name.arrayBounds or ())


def column_problems(conn: psycopg.Connection, world: World) -> list[str]:
    """Every spec'd column exists with the declared type and nullability, and the primary key
    is the declared one."""
    problems = []
    for facts in world.spec_tables:
        rows = conn.execute(
            """
            select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
            from pg_catalog.pg_attribute a
            where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped
            """, (str(facts.name),)).fetchall()
        if not rows:
            problems.append(f"{facts.name}: the migrations do not create it")
            continue
        found = {name: (type_text, not_null) for name, type_text, not_null in rows}
        for column in facts.spec.columns:
            if column.name not in found:
                problems.append(f"{facts.name}.{column.name}: missing")
                continue
            type_text, not_null = found[column.name]
            if normalized_type(type_text) != normalized_type(storage_type(column.type)):
                problems.append(f"{facts.name}.{column.name}: {type_text}, the spec says {column.type}")
            if not_null != column.not_null:
                problems.append(f"{facts.name}.{column.name}: {'not null' if not_null else 'nullable'}, "
                                f"the spec says {'not null' if column.not_null else 'nullable'}")
        key = next((columns for _, columns in constraint_columns(conn, str(facts.name), "p")), None)
        if (sorted(key) if key else None) != sorted(facts.key):
            problems.append(f"{facts.name}: primary key ({', '.join(key) if key else 'none'}), "
                            f"the spec says ({', '.join(facts.key)})")
    return problems


def _first_row(world: World, facts: TableFacts):
    return world.rows[facts.name][0]


def _where_key(facts: TableFacts, key) -> tuple[sql.Composable, list]:
    clause = sql.SQL(" and ").join(sql.SQL("{} = {}").format(sql.Identifier(c), typed_placeholder(facts, c))
                                   for c in facts.key)
    return clause, list(key)


def _update(conn, facts: TableFacts, key, column: str, value):
    where, params = _where_key(facts, key)
    statement = sql.SQL("update {} set {} = {} where ").format(
        sql.Identifier(facts.name.schema, facts.name.name), sql.Identifier(column),
        typed_placeholder(facts, column)) + where
    return attempt(conn, statement, [value] + params)


def _single_column_checks(conn, facts: TableFacts, column: str) -> set[str]:
    return {r[0] for r in conn.execute(
        """
        select c.conname from pg_catalog.pg_constraint c
        join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
        where c.conrelid = to_regclass(%s) and c.contype = 'c' and cardinality(c.conkey) = 1
          and a.attname = %s
        """, (str(facts.name), column))}


def one_of_problems(conn: psycopg.Connection, world: World) -> list[str]:
    """Each allowed value is accepted and a value outside the list is refused (23514)."""
    problems = []
    for facts in world.spec_tables:
        row = _first_row(world, facts)
        for column, allowed in facts.one_of.items():
            own_checks = _single_column_checks(conn, facts, column)
            for value in allowed:
                result = _update(conn, facts, row.key(facts), column, value)
                if result.failed and (result.sqlstate != "23514" or result.constraint in own_checks) \
                        and result.sqlstate != "23505":
                    problems.append(f"{facts.name}.{column} = {value!r} is refused ({result.surface}: "
                                    f"{result.message}); the spec allows it")
            kind = family(facts.columns[column])
            bad = outside(allowed) if kind == "text" else str(max(int(v) for v in allowed) + 1) \
                if kind == "integer" else None
            if bad is None:
                continue
            result = _update(conn, facts, row.key(facts), column, bad)
            if result.sqlstate != "23514":
                problems.append(f"{facts.name}.{column} = {bad!r} gives {result.describe()}; the spec allows only "
                                f"{', '.join(allowed)}, so a check must refuse it (23514)")
    return problems


def unique_problems(conn: psycopg.Connection, world: World) -> list[str]:
    """A second row with an existing row's values in a unique key is refused (23505)."""
    problems = []
    make = RequestMaker(world)
    state = State(world)
    for facts in world.spec_tables:
        row = _first_row(world, facts)
        for unique in facts.unique_keys:
            if unique.where and not _predicate_holds(conn, facts, row, unique.where):
                continue
            duplicate = {**make.new_row(state, facts, row.workspace),
                         **{c: row.values.get(c) for c in unique.columns}}
            with conn.transaction():
                # A fresh row goes in, so the duplicate can fail for its key alone.
                control = attempt(conn, *insert_statement(facts, make.new_row(state, facts, row.workspace)))
                result = attempt(conn, *insert_statement(facts, duplicate))
                raise psycopg.Rollback()
            if control.failed:
                problems.append(f"{facts.name}: a fresh row cannot be inserted ({control.surface}: "
                                f"{control.message}), so unique ({', '.join(unique.columns)}) cannot be checked")
            elif result.sqlstate != "23505":
                problems.append(f"{facts.name}: a second row with the same ({', '.join(unique.columns)}) gives "
                                f"{result.describe()}; the spec makes it unique (23505)")
    return problems


def _predicate_holds(conn, facts: TableFacts, row, predicate: str) -> bool:
    where, params = _where_key(facts, row.key(facts))
    statement = sql.SQL("select coalesce(({}), false) from {} where ").format(
        sql.SQL(predicate), sql.Identifier(facts.name.schema, facts.name.name)) + where
    result = attempt(conn, statement, params)
    return bool(result.rows and result.rows[0][0])


def reference_problems(conn: psycopg.Connection, world: World) -> list[str]:
    """A reference to a row that does not exist is refused (23503), and deleting the
    referenced row does what ``on_delete`` says: cascade, set null, or refuse (restrict and
    the default, no action)."""
    problems = []
    make, state = RequestMaker(world), State(world)
    for facts in world.spec_tables:
        row = _first_row(world, facts)
        for ref in facts.references:
            missing = sample(facts.columns[ref.column], 987_654, "missing", f"{facts.name}.{ref.column}")
            if missing is not None:
                result = _update(conn, facts, row.key(facts), ref.column, missing)
                if result.sqlstate != "23503":
                    problems.append(f"{facts.name}.{ref.column} pointing at a row of {ref.target} that does not "
                                    f"exist gives {result.describe()}; the foreign key must refuse it (23503)")
            problems += _on_delete_problems(conn, world, facts, row, ref, make, state)
    return problems


def _on_delete_problems(conn, world: World, facts: TableFacts, row, ref, make: RequestMaker,
                        state: State) -> list[str]:
    """A fresh row pointing at a fresh referenced row: delete the referenced one and see what
    became of the other. Nothing else references either, so no other foreign key blurs it."""
    target_facts = world.facts[ref.target]
    fk = conn.execute(
        """
        select c.conname from pg_catalog.pg_constraint c
        join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
        where c.conrelid = to_regclass(%s) and c.contype = 'f' and a.attname = %s
        """, (str(facts.name), ref.column)).fetchone()
    if fk is None:
        return [f"{facts.name}.{ref.column}: no foreign key to {ref.target}"]
    action = ref.on_delete or "no action"
    n = next(make.counter)
    if target_facts.spec is not None:
        fresh = make.new_row(state, target_facts, row.workspace or "A")
    else:
        fresh = world.fresh_row(ref.target, row.workspace if target_facts.workspace_column else None, n)
    child = {**make.new_row(state, facts, row.workspace or "A"), ref.column: fresh.get(ref.target_column)}
    where, params = _where_key(facts, tuple(child.get(c) for c in facts.key))
    table = sql.Identifier(facts.name.schema, facts.name.name)
    delete = sql.SQL("delete from {} where {} = {}").format(
        sql.Identifier(ref.target.schema, ref.target.name), sql.Identifier(ref.target_column),
        typed_placeholder(target_facts, ref.target_column))
    check = sql.SQL("select {} from {} where ").format(sql.Identifier(ref.column), table) + where
    what = f"deleting the {ref.target} row a {facts.name} row points at through {ref.column}"
    with conn.transaction():
        created = attempt(conn, *insert_statement(target_facts, fresh))
        pointed = attempt(conn, *insert_statement(facts, child))
        result = attempt(conn, delete, [fresh.get(ref.target_column)])
        child = conn.execute(check, params).fetchone()
        raise psycopg.Rollback()  # undo it all before the next check
    if created.failed or pointed.failed:
        failed = created if created.failed else pointed
        return [f"{facts.name}.{ref.column}: cannot make a row pointing at a new {ref.target} row to check "
                f"on delete {action} ({failed.surface}: {failed.message})"]
    problems = []
    if action in ("restrict", "no action"):
        refusal = "23001" if action == "restrict" else "23503"
        if not (result.sqlstate == refusal and result.constraint == fk[0]):
            problems.append(f"{what} gives {result.describe()}; on delete {action} must refuse it "
                            f"({refusal} from {fk[0]})")
    elif result.failed:
        problems.append(f"{what} fails ({result.surface}: {result.message}), so on delete {action} "
                        "cannot be checked")
    elif action == "cascade" and child is not None:
        problems.append(f"{what} leaves the row behind; on delete cascade must delete it")
    elif action == "set null" and (child is None or child[0] is not None):
        problems.append(f"{what} {'deletes the row' if child is None else 'leaves the reference'}; "
                        "on delete set null must empty the column")
    return problems


def realtime_problems(conn: psycopg.Connection, world: World) -> list[str]:
    """Exactly the spec'd tables marked realtime are in the supabase_realtime publication."""
    published = {f"{s}.{t}" for s, t in conn.execute(
        "select schemaname, tablename from pg_catalog.pg_publication_tables where pubname = %s",
        (REALTIME_PUBLICATION,))}
    problems = []
    for facts in world.spec_tables:
        inside = str(facts.name) in published
        if facts.spec.realtime and not inside:
            problems.append(f"{facts.name}: realtime in the spec, but not in {REALTIME_PUBLICATION}")
        if inside and not facts.spec.realtime:
            problems.append(f"{facts.name}: in {REALTIME_PUBLICATION}, but the spec does not ask for realtime")
    return problems


def trigger_problems(conn: psycopg.Connection, world: World) -> list[str]:
    """Every spec'd trigger exists on its table with its timing, events and function."""
    problems = []
    for facts in world.spec_tables:
        found = {name: (tgtype, function) for name, tgtype, function in conn.execute(
            """
            select t.tgname, t.tgtype, p.pronamespace::regnamespace::text || '.' || p.proname
            from pg_catalog.pg_trigger t join pg_catalog.pg_proc p on p.oid = t.tgfoid
            where t.tgrelid = to_regclass(%s) and not t.tgisinternal
            """, (str(facts.name),))}
        for trigger in facts.spec.triggers:
            if trigger.name not in found:
                problems.append(f"{facts.name}: trigger {trigger.name} is missing")
                continue
            tgtype, function = found[trigger.name]
            timing, events = trigger_shape(tgtype)
            events = set(events)
            wanted = (trigger.timing, set(trigger.events), str(trigger.function))
            if (timing, events, function) != wanted:
                problems.append(f"{facts.name}: trigger {trigger.name} is {timing} {' or '.join(sorted(events))} "
                                f"calling {function}; the spec says {trigger.timing} "
                                f"{' or '.join(sorted(trigger.events))} calling {trigger.function}")
    return problems
