"""`tenantspec prove --export-pgtap DIR`: the proof's requests as pgTAP files, one per spec'd
table, that run under `supabase test db` on real Supabase and under `tenantspec db test` here.

Each file seeds the proof's world (users, workspaces, memberships, every table's rows, parents
first; a row a trigger made already takes the world's values), then sends every request the
proof plans for the table, as its persona: the role and the token claims PostgREST would set.
Each request runs in a block of its own that is rolled back whatever happens (pgTAP's own
bookkeeping stays), and its answer (`N rows` seen or written, or `error SQLSTATE`) is held to
what the access model expects from the intent. The file ends in ROLLBACK: nothing stays.

One more file, ``schema_test.sql``, holds the catalog of the proven database for the spec'd
tables (columns, constraints, indexes, row level security and the API roles' grants, policies,
triggers, the helper schema's functions and grants, the realtime publication): what the proof's
structural checks approved, each kind one assertion. NOT NULL constraints PostgreSQL 18 names
are left out, so the file holds on the majors Supabase runs.

The files are deterministic (fixed ids, requests in the proof's order) so they can be committed
and reviewed; export again after the specs or the intent change.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg
from psycopg import sql

from tenantspec.render.quoting import literal
from tenantspec.spec import model
from tenantspec.standin.supabase import API_ROLES
from tenantspec.testing.expectations import Outcome
from tenantspec.testing.intent import Intent
from tenantspec.testing.probes import describe_probe, statement_for
from tenantspec.testing.requests import Probe
from tenantspec.testing.seeding import insert_statement, seed_order
from tenantspec.testing.world import World

OPTION = EXPORT_OPTION = "--tenantspec-export-pgtap"
TEST = "test_export_pgtap"
WRITTEN: list[str] = []  # what the session wrote, for its summary

# The personas: the role and the token claims PostgREST sets for each.
PERSONAS = "create temp table tenantspec_personas (name text primary key, role text not null, claims text not null);"

# One request as a persona, rolled back whatever it did; its answer as text. The role and the
# claims are set inside the block, so they end with it.
ANSWER = """\
create function pg_temp.tenantspec_answer(persona text, request text, reads boolean)
returns text language plpgsql as $tenantspec$
declare
  who pg_temp.tenantspec_personas;
  answer text;
  n bigint;
begin
  select * into strict who from pg_temp.tenantspec_personas where name = persona;
  begin
    perform set_config('role', who.role, true);
    perform set_config('request.jwt.claims', who.claims, true);
    if reads then
      execute 'select count(*) from (' || request || ') as request' into n;
    else
      execute request;
      get diagnostics n = row_count;
    end if;
    answer := n || ' rows';
    raise sqlstate 'TSRBK';  -- undo what the request did
  exception
    when sqlstate 'TSRBK' then null;
    when others then answer := 'error ' || sqlstate;
  end;
  return answer;
end
$tenantspec$;"""


# A request as a persona with some functions replaced first (a condition made false): its
# answer, everything rolled back.
ANSWER_WHEN = """\
create function pg_temp.tenantspec_answer_when(persona text, replaced text[], request text, reads boolean)
returns text language plpgsql as $tenantspec$
declare
  statement text;
  answer text;
begin
  begin
    foreach statement in array replaced loop
      execute statement;
    end loop;
    answer := pg_temp.tenantspec_answer(persona, request, reads);
    raise sqlstate 'TSRBK';
  exception
    when sqlstate 'TSRBK' then null;
  end;
  return answer;
end
$tenantspec$;"""

# A request with no WHERE as a persona, after a setup as the session's own role, then a query
# (as that role again) of the rows it changed that it may not: their number. All rolled back.
AFTERWARDS = """\
create function pg_temp.tenantspec_afterwards(persona text, setup text, request text, check_query text)
returns bigint language plpgsql as $tenantspec$
declare
  who pg_temp.tenantspec_personas;
  n bigint;
begin
  select * into strict who from pg_temp.tenantspec_personas where name = persona;
  begin
    perform set_config('storage.allow_delete_query', 'true', true);
    execute setup;
    perform set_config('role', who.role, true);
    perform set_config('request.jwt.claims', who.claims, true);
    begin
      execute request;
    exception when others then null;  -- a refusal changes nothing
    end;
    perform set_config('role', 'none', true);
    execute 'select count(*) from (' || check_query || ') as wrong' into n;
    raise sqlstate 'TSRBK';  -- undo it all
  exception
    when sqlstate 'TSRBK' then null;
  end;
  return n;
end
$tenantspec$;"""


def export_files(conn: psycopg.Connection, world: World, probes: list[Probe], intent: Intent) -> dict[str, str]:
    """File name -> pgTAP text, one per spec'd table that the proof probes, and one for the
    buckets' storage requests when the project declares buckets."""
    intent_path = intent.path
    seed = seed_sql(conn, world)
    by_table: dict[model.Name, list[Probe]] = {}
    for probe in probes:
        by_table.setdefault(probe.request.table, []).append(probe)
    files = {"schema_test.sql": schema_file(conn, world)}
    for facts in world.spec_tables:
        table_probes = by_table.get(facts.name, [])
        if not table_probes:
            continue
        name = f"{facts.name.name}_access_test.sql" if facts.name.schema == world.project.schema \
            else f"{facts.name.schema}_{facts.name.name}_access_test.sql"
        files[name] = table_file(conn, world, facts.name, table_probes, seed, intent_path,
                                 when_false(conn, world, probes, intent, facts.name.name))
    if world.project.buckets:
        files["storage_access_test.sql"] = storage_file(conn, world, intent, seed)
    return files


def storage_file(conn: psycopg.Connection, world: World, intent: Intent, seed: list[str]) -> str:
    """The storage requests (`testing.storage`), each held to let through (``1 rows``) or
    refused (``0 rows``, or ``error 42501`` where a WITH CHECK refuses)."""
    from tenantspec.testing.storage import plan_every_row, plan_storage, seed_statements

    buckets = list(world.project.buckets.values())
    probes = plan_storage(world, intent, buckets)
    every_row = plan_every_row(world, intent, buckets)
    lines = [
        f"-- What the proof requires of the buckets' files, request by request, from {intent.path} and the specs.",
        "-- Written by `tenantspec prove --export-pgtap`: export again after a change; do not edit.",
        "begin;",
        f"select plan({len(probes) + len(every_row)});",
        "",
        PERSONAS,
        ANSWER,
        AFTERWARDS,
        "",
        personas_sql(conn, world),
        "",
        *seed,
        "",
        "-- objects in every folder of every bucket, and in a sibling bucket no policy names",
        *(_literal(conn, sql.SQL(statement), list(params)) + ";" for statement, params in seed_statements(world, buckets)),
        "",
    ]
    for probe in probes:
        call = answer_call(conn, probe.persona.name, _literal(conn, probe.statement, list(probe.params)),
                           probe.command == "select")
        accepted = ["1 rows"] if probe.expected else ["0 rows", "error 42501"]
        lines.append(assertion(call, accepted, probe.describe()))
    for check in every_row:
        call = (f"pg_temp.tenantspec_afterwards({sql.Literal(check.persona.name).as_string(conn)}, "
                f"{_quoted(check.setup)}, {_quoted(check.request)}, {_quoted(check.check)})")
        lines.append(f"select is({call}, 0::bigint, {sql.Literal(check.describe() + ': nothing it may not').as_string(conn)});")
    lines += ["", "select * from finish();", "rollback;", ""]
    return "\n".join(lines)


def schema_file(conn: psycopg.Connection, world: World) -> str:
    """The proven catalog of the spec'd tables, a `bag_eq` per kind of object."""
    from tenantspec.testing.catalog import QUERIES, catalog_args

    project = world.project
    args = catalog_args(sorted(project.tables), project.schema, project.helper_schema,
                        grantees=["PUBLIC", *API_ROLES], skip_contypes=["n"])
    queries = dict(QUERIES)
    if project.buckets:  # the buckets' policies on storage.objects, by the names the specs give them
        names = [f"{bucket_id}_{command}" for bucket_id in project.buckets for command in model.COMMANDS]
        queries["storage policies"] = ("select policyname, permissive, roles::text[], cmd, qual, with_check "
                                       "from pg_policies where schemaname = 'storage' and tablename = 'objects' "
                                       f"and policyname = any ({sql.Literal(names).as_string(conn)})")
    lines = [
        "-- The catalog of the spec'd tables as the proof approved it: columns, constraints, indexes, row level",
        "-- security and grants, policies, triggers, helpers, the realtime publication, the buckets' policies.",
        "-- Written by `tenantspec prove --export-pgtap`: export again after a change; do not edit.",
        "begin;",
        f"select plan({len(queries)});",
        "",
    ]
    for kind, query in queries.items():
        query_text = " ".join(_literal(conn, sql.SQL(query), args).split())
        wrapped = f"select row(r.*)::text from ({query_text}) as r"
        have = sorted(row[0] for row in conn.execute(wrapped))
        rows = ",\n".join(f"    {sql.Literal(row).as_string(conn)}" for row in have)
        lines.append(f"select bag_eq({_quoted(wrapped)},\n  array[\n{rows}\n  ]::text[],\n"
                     f"  {sql.Literal(f'the proven {kind}').as_string(conn)});\n")
    lines += ["", "select * from finish();", "rollback;", ""]
    return "\n".join(lines)


def when_false(conn: psycopg.Connection, world: World, probes: list[Probe], intent: Intent,
               table: str) -> list[str]:
    """The table's ``only_when`` conditions as assertions: each request the intent lets
    through, sent again with the condition's functions answering false, must be refused."""
    from tenantspec.testing.conditions import (
        falsifying_statements,
        judged,
        refused_while_false,
    )

    lines = []
    for rule in intent.only_when:
        if rule.table != table:
            continue
        replaced = falsifying_statements(conn, rule.condition)
        listed = "array[" + ", ".join(_quoted(r) for r in replaced) + "]::text[]"
        for probe in judged(refused_while_false(probes, rule)):
            request = probe.request
            statement, params = statement_for(world.facts[request.table], request)
            call = answer_call(conn, request.persona.name, _literal(conn, statement, params), request.command == "select",
                               "tenantspec_answer_when", listed)
            lines.append(assertion(call, ["0 rows", "error 42501"],
                                   f"{describe_probe(probe)}, with {rule.condition} false"))
    return lines


def table_file(conn: psycopg.Connection, world: World, table: model.Name, probes: list[Probe],
               seed: list[str], intent_path: str, conditions: list[str] = ()) -> str:
    lines = [
        f"-- What the proof requires of {table}, request by request, from {intent_path} and the specs.",
        "-- Written by `tenantspec prove --export-pgtap`: export again after a change; do not edit.",
        "-- Runs under `supabase test db` (real Supabase) and `tenantspec db test` (the stand-in).",
        "begin;",
        f"select plan({len(probes) + len(conditions)});",
        "",
        PERSONAS,
        ANSWER,
        ANSWER_WHEN,
        "",
        "-- who makes the requests",
        personas_sql(conn, world),
        "",
        "-- the world the requests act on: users, workspaces, memberships, rows",
        *seed,
        "",
    ]
    for probe in probes:
        request = probe.request
        statement, params = statement_for(world.facts[request.table], request)
        call = answer_call(conn, request.persona.name, _literal(conn, statement, params), request.command == "select")
        lines.append(assertion(call, answers(probe.expected, request.command), describe_probe(probe)))
    if conditions:
        lines += ["", "-- the conditions the intent names (only_when), made false"] + list(conditions)
    lines += ["", "select * from finish();", "rollback;", ""]
    return "\n".join(lines)


def answers(expected: Outcome, command: str) -> list[str]:
    """The answers the access model accepts: each expected error's SQLSTATE, or the rows."""
    if expected.failed:
        return sorted({f"error {code}" for how in expected.errors if (code := _sqlstate(how))})
    rows = len(expected.visible or ()) if command == "select" and expected.visible is not None else expected.rows
    return [f"{rows} rows"]


def answer_call(conn: psycopg.Connection, persona: str, request: str, reads: bool, function: str = "tenantspec_answer",
                extra: str = "") -> str:
    """``pg_temp.<function>('<persona>', [extra, ]$q$<request>$q$, <reads>)``: one request as a persona."""
    return (f"pg_temp.{function}({sql.Literal(persona).as_string(conn)}, {extra + ', ' if extra else ''}"
            f"{_quoted(request)}, {'true' if reads else 'false'})")


def assertion(call: str, accepted: list[str], description: str) -> str:
    described = literal(description)
    if len(accepted) == 1:
        return f"select is({call}, '{accepted[0]}', {described});"
    pattern = "^(" + "|".join(re.escape(a) for a in accepted) + ")$"
    return f"select matches({call}, '{pattern}', {described});"


def personas_sql(conn: psycopg.Connection, world: World) -> str:
    rows = [sql.SQL("  ({}, {}, {})").format(sql.Literal(p.name), sql.Literal(p.db_role),
                                             sql.Literal(json.dumps(p.claims(), sort_keys=True))).as_string(conn)
            for p in world.personas.values()]
    return "insert into tenantspec_personas (name, role, claims) values\n" + ",\n".join(rows) + ";"


def _quoted(text: str) -> str:
    """``text`` as a dollar-quoted literal (as written, no doubled quotes) with a tag it lacks."""
    tag = "$q$"
    while tag in text:
        tag = tag[:-1] + "q$"
    return f"{tag}{text}{tag}"


def seed_sql(conn: psycopg.Connection, world: World) -> list[str]:
    """The world's rows as SQL, in the order the proof seeds them; a row a trigger made first
    (a profile for each new user) takes the world's values, as in the proof."""
    lines = []
    for name in seed_order(world):
        facts = world.facts[name]
        for row in world.rows.get(name, ()):
            statement, params = insert_statement(facts, row.values)
            rest = [c for c in row.values if c not in facts.key]
            key = [c for c in facts.key if c in row.values]
            if key:
                statement += sql.SQL(" on conflict ({}) do ").format(sql.SQL(", ").join(map(sql.Identifier, key)))
                statement += sql.SQL("update set {}").format(sql.SQL(", ").join(
                    sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in rest)) if rest \
                    else sql.SQL("nothing")
            lines.append(_literal(conn, statement, params) + ";")
    return lines


def _literal(conn: psycopg.Connection, statement: sql.Composable, params: list) -> str:
    """The statement with its parameters as literals, as the server would receive it."""
    return psycopg.ClientCursor(conn).mogrify(statement.as_string(conn), params)


def _sqlstate(how: str) -> str | None:
    match = re.match(r"error (\w{5})", how)
    return match.group(1) if match else None


def write_export(target: Path, files: dict[str, str], shown: str) -> None:
    """Write the files (only those that changed), and say where."""
    target.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(files.items()):
        path = target / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    count = sum(text.count("\nselect is(") + text.count("\nselect matches(") + text.count("\nselect bag_eq(")
                for text in files.values())
    WRITTEN.append(f"tenantspec: wrote {len(files)} pgTAP file(s) to {shown} ({count} assertions): "
                   f"`tenantspec db test {shown}` or `supabase test db` runs them")

