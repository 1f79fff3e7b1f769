"""The project's tables read from the catalog, for a project without table specs.

A project that keeps hand-written migrations still gives ``schema/project.yaml`` (how
workspaces and memberships are stored, the external tables) and the intent. The tables
its migrations create are read from a scratch database migrated like the template: a table
with a column referencing the workspaces table is a tenant table; a table whose foreign key
points at a tenant table, and which has no workspace column, belongs to its parent's
workspace. Every other foreign key to a table with a workspace is taken as a same-workspace
reference: across workspaces, a reference is the classic leak. Allowed values come from
``col in (...)`` checks, unique keys from constraints and unique indexes.
"""

from __future__ import annotations

import dataclasses

import pglast
import psycopg

from tenantspec.catalog.expression import value_list
from tenantspec.spec import model
from tenantspec.standin.databases import drop_database
from tenantspec.standin.server import RunningServer
from tenantspec.testing.database import MigrationSource, build_template

ON_DELETE = {"a": None, "r": "restrict", "c": "cascade", "n": "set null", "d": None}
SCRATCH_REGIME = "2026"
TRIGGER_BEFORE, TRIGGER_INSERT, TRIGGER_DELETE, TRIGGER_UPDATE = 2, 4, 8, 16  # pg_trigger.tgtype bits


class IntrospectionError(ValueError):
    """The catalog does not give a usable model."""


def project_from_catalog(project: model.Project, server: RunningServer, source: MigrationSource,
                         probe) -> model.Project:
    """``project`` (loaded from a project file without table specs) with the tables the
    migrations create."""
    scratch = build_template(server, SCRATCH_REGIME, source, probe, None)
    try:
        with server.connect_admin(scratch.name) as conn:
            tables = read_tables(conn, project, str(source.migrations_dir))
    finally:
        drop_database(server, scratch.name)
    if not tables:
        raise IntrospectionError(
            f"the migrations in {source.migrations_dir} create no table with a column referencing "
            f"{project.tenancy.workspaces} (directly or through a parent): nothing to prove")
    return dataclasses.replace(project, tables=tables)


def read_tables(conn: psycopg.Connection, project: model.Project, source: str) -> dict[str, model.Table]:
    names = [r[0] for r in conn.execute(
        """
        select c.relname from pg_catalog.pg_class c
        where c.relkind in ('r', 'p') and c.relnamespace = to_regnamespace(%s)
          and not exists (select 1 from tenantspec_probe.preexisting e
                          where e.catalog = 'pg_class'::regclass and e.objid = c.oid)
        order by c.oid
        """, (project.schema,))]
    names = [n for n in names if model.Name(project.schema, n) not in project.external_tables]
    raw = {name: _read_table(conn, project, name, source) for name in names}
    direct = {n for n, t in raw.items() if t["workspace_column"]}
    tables = {}
    for name in sorted(raw, key=lambda n: (n not in direct, names.index(n))):
        spec = raw[name]
        parent = None
        if not spec["workspace_column"]:
            parent = next((c.name for c in spec["columns"] if c.references and c.references.table.schema ==
                           project.schema and c.references.table.name in direct), None)
            if parent is None:
                continue  # not a tenant table
        columns = tuple(_tie(project, c, spec["workspace_column"], parent, direct) for c in spec["columns"])
        tenancy = model.Tenancy(column=spec["workspace_column"]) if spec["workspace_column"] \
            else model.Tenancy(parent=parent, strategy=model.PARENT_IDS)
        tables[name] = model.Table(
            name=model.Name(project.schema, name), source=source, comment=None, columns=columns,
            unique=spec["unique"], checks=spec["checks"], indexes=spec["indexes"], tenancy=tenancy,
            access=dict.fromkeys(model.COMMANDS, model.NOBODY), service_role=(),
            triggers=spec["triggers"], realtime=spec["realtime"])
    return tables


def _tie(project: model.Project, column: model.Column, workspace_column: str | None, parent: str | None,
         direct: set[str]) -> model.Column:
    ref = column.references
    if ref is None or column.name in (workspace_column, parent):
        return column
    has_workspace = (ref.table.schema == project.schema and ref.table.name in direct) or bool(
        project.external_tables.get(ref.table) and project.external_tables[ref.table].workspace_column)
    if not has_workspace or ref.table == project.tenancy.workspaces:
        return column
    return dataclasses.replace(column, references=dataclasses.replace(ref, same_workspace=True))


def _read_table(conn: psycopg.Connection, project: model.Project, name: str, source: str) -> dict:
    qualified = f"{project.schema}.{name}"
    primary = {c for _, columns in constraint_columns(conn, qualified, "p") for c in columns}
    foreign = {}
    for column, target_schema, target_table, target_column, action in conn.execute(
            """
            select a.attname, tn.nspname, t.relname, ta.attname, c.confdeltype
            from pg_catalog.pg_constraint c
            join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
            join pg_catalog.pg_class t on t.oid = c.confrelid
            join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace
            join pg_catalog.pg_attribute ta on ta.attrelid = c.confrelid and ta.attnum = c.confkey[1]
            where c.conrelid = to_regclass(%s) and c.contype = 'f' and cardinality(c.conkey) = 1
            """, (qualified,)):
        foreign[column] = model.Reference(model.Name(target_schema, target_table), target_column,
                                          ON_DELETE.get(action), False)
    checks, one_of = [], {}
    for check_name, definition, key in conn.execute(
            "select conname, pg_get_constraintdef(oid), conkey from pg_catalog.pg_constraint "
            "where conrelid = to_regclass(%s) and contype = 'c'", (qualified,)):
        expression = definition.removeprefix("CHECK ").removesuffix(" NOT VALID")
        values = allowed_values(expression)
        if values and len(key) == 1:
            one_of[values[0]] = values[1]
        else:
            checks.append(model.Check(check_name, expression))
    columns = []
    workspace_column = None
    for column, type_text, not_null, has_default in conn.execute(
            """
            select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef
            from pg_catalog.pg_attribute a
            where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped order by a.attnum
            """, (qualified,)):
        ref = foreign.get(column)
        if ref and ref.table == project.tenancy.workspaces and workspace_column is None:
            workspace_column = column
        # The default's text does not matter here, only that there is one.
        columns.append(model.Column(name=column, type=type_text, not_null=not_null, primary_key=column in primary,
                                    default="default" if has_default else None,
                                    one_of=one_of.get(column, ()), comment=None, references=ref))
    unique = tuple(tuple(cols) for _, cols in constraint_columns(conn, qualified, "u"))
    indexes = tuple(model.Index(index_name, tuple(cols), True, predicate) for index_name, cols, predicate in conn.execute(
        """
        select i.relname, array(select a.attname from unnest(x.indkey) k
                                join pg_catalog.pg_attribute a on a.attrelid = x.indrelid and a.attnum = k),
               pg_get_expr(x.indpred, x.indrelid)
        from pg_catalog.pg_index x join pg_catalog.pg_class i on i.oid = x.indexrelid
        where x.indrelid = to_regclass(%s) and x.indisunique and not x.indisprimary
          and not exists (select 1 from pg_catalog.pg_constraint c where c.conindid = x.indexrelid)
        """, (qualified,)))
    triggers = tuple(
        model.Trigger(trigger, *trigger_shape(tgtype), model.Name(schema, function))
        for trigger, tgtype, schema, function in conn.execute(
            """
            select t.tgname, t.tgtype, n.nspname, p.proname
            from pg_catalog.pg_trigger t join pg_catalog.pg_proc p on p.oid = t.tgfoid
            join pg_catalog.pg_namespace n on n.oid = p.pronamespace
            where t.tgrelid = to_regclass(%s) and not t.tgisinternal
            """, (qualified,)))
    realtime = conn.execute(
        "select exists (select 1 from pg_catalog.pg_publication_tables where pubname = 'supabase_realtime' "
        "and schemaname = %s and tablename = %s)", (project.schema, name)).fetchone()[0]
    return {"columns": columns, "workspace_column": workspace_column, "unique": unique, "checks": tuple(checks),
            "indexes": indexes, "triggers": triggers, "realtime": realtime}


def trigger_shape(tgtype: int) -> tuple[str, tuple[str, ...]]:
    """``(timing, events)`` of a trigger, from ``pg_trigger.tgtype``'s bits."""
    events = (("insert", TRIGGER_INSERT), ("update", TRIGGER_UPDATE), ("delete", TRIGGER_DELETE))
    return ("before" if tgtype & TRIGGER_BEFORE else "after", tuple(e for e, bit in events if tgtype & bit))


def constraint_columns(conn: psycopg.Connection, qualified: str, kind: str) -> list[tuple[str, list[str]]]:
    return conn.execute(
        """
        select c.conname, array(select a.attname from unnest(c.conkey) k
                                join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k)
        from pg_catalog.pg_constraint c where c.conrelid = to_regclass(%s) and c.contype = %s order by c.conname
        """, (qualified, kind)).fetchall()


def allowed_values(expression: str) -> tuple[str | None, tuple[str, ...]] | None:
    """``(column, values)`` when a check reads ``col in ('a', 'b')`` (stored by PostgreSQL as
    ``col = ANY (ARRAY['a'::text, 'b'::text])``)."""
    try:
        node = pglast.parse_sql(f"select {expression}")[0].stmt.targetList[0].val
    except pglast.parser.ParseError:
        return None
    return value_list(node)
