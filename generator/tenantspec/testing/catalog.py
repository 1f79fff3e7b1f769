"""What a real PostgreSQL holds for a set of tables, read from its catalog, in a form two
databases can be compared by: the convergence tests' measure of "the same schema"."""

from __future__ import annotations

import psycopg

COLUMNS = """
select c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum)
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
where n.nspname = %(schema)s and c.relname = any(%(tables)s) and a.attnum > 0 and not a.attisdropped
"""

CONSTRAINTS = """
select c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), k.convalidated
from pg_constraint k
join pg_class c on c.oid = k.conrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = %(schema)s and c.relname = any(%(tables)s) and k.contype <> all (%(skip_contypes)s::"char"[])
"""

INDEXES = """
select c.relname, i.relname, pg_get_indexdef(i.oid)
from pg_index x
join pg_class c on c.oid = x.indrelid
join pg_class i on i.oid = x.indexrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = %(schema)s and c.relname = any(%(tables)s)
"""

TABLES = """
select c.relname, c.relrowsecurity, c.relforcerowsecurity, obj_description(c.oid, 'pg_class'),
       coalesce((select array_agg(distinct format('%%s:%%s', case when g.grantee = 0 then 'PUBLIC'
                                                              else pg_get_userbyid(g.grantee) end,
                                                  g.privilege_type))
                 from aclexplode(c.relacl) g where %(grantees)s::text[] is null or (case when g.grantee = 0 then 'PUBLIC' else pg_get_userbyid(g.grantee) end) = any (%(grantees)s::text[])), '{}')
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = %(schema)s and c.relname = any(%(tables)s) and c.relkind = 'r'
"""

POLICIES = """
select tablename, policyname, permissive, roles::text[], cmd, qual, with_check
from pg_policies
where schemaname = %(schema)s and tablename = any(%(tables)s)
"""

TRIGGERS = """
select c.relname, t.tgname, pg_get_triggerdef(t.oid)
from pg_trigger t
join pg_class c on c.oid = t.tgrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = %(schema)s and c.relname = any(%(tables)s) and not t.tgisinternal
"""

FUNCTIONS = """
select p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid), p.prosrc,
       p.provolatile, p.prosecdef, p.proconfig,
       coalesce((select array_agg(distinct format('%%s:%%s', case when g.grantee = 0 then 'PUBLIC'
                                                              else pg_get_userbyid(g.grantee) end,
                                                  g.privilege_type))
                 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) g where %(grantees)s::text[] is null or (case when g.grantee = 0 then 'PUBLIC' else pg_get_userbyid(g.grantee) end) = any (%(grantees)s::text[])), '{}')
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
where n.nspname = %(helper_schema)s
"""

SCHEMA = """
select n.nspname,
       coalesce((select array_agg(distinct format('%%s:%%s', case when g.grantee = 0 then 'PUBLIC'
                                                              else pg_get_userbyid(g.grantee) end,
                                                  g.privilege_type))
                 from aclexplode(n.nspacl) g where %(grantees)s::text[] is null or (case when g.grantee = 0 then 'PUBLIC' else pg_get_userbyid(g.grantee) end) = any (%(grantees)s::text[])), '{}')
from pg_namespace n where n.nspname = %(helper_schema)s
"""

# Enum types of the tables' columns (arrays of them too): each value in its place.
ENUMS = """
select distinct t.typnamespace::regnamespace::text, t.typname, e.enumsortorder::text, e.enumlabel
from pg_catalog.pg_attribute as a
join pg_catalog.pg_type as c on c.oid = a.atttypid
join pg_catalog.pg_type as t on t.oid = case when c.typcategory = 'A' then c.typelem else c.oid end
join pg_catalog.pg_enum as e on e.enumtypid = t.oid
where a.attrelid = any (select to_regclass(format('%%I.%%I', %(schema)s::text, name)) from unnest(%(tables)s::text[]) as name)
  and a.attnum > 0 and not a.attisdropped
"""

PUBLICATION = """
select tablename from pg_publication_tables
where pubname = 'supabase_realtime' and schemaname = %(schema)s and tablename = any(%(tables)s)
"""


# What `read_catalog` reads, by kind, from its queries.
QUERIES = {"tables": TABLES, "columns": COLUMNS, "constraints": CONSTRAINTS, "indexes": INDEXES,
           "policies": POLICIES, "triggers": TRIGGERS, "functions": FUNCTIONS, "helper schema": SCHEMA,
           "publication": PUBLICATION}


def catalog_args(tables: list[str], schema: str, helper_schema: str, grantees: list[str] | None = None,
                 skip_contypes: list[str] = ()) -> dict:
    """The queries' parameters: ``grantees`` keeps the ACLs' entries of those roles only (all
    when None); ``skip_contypes`` leaves out constraints of those kinds."""
    return {"schema": schema, "tables": list(tables), "helper_schema": helper_schema, "grantees": grantees,
            "skip_contypes": list(skip_contypes)}


def read_catalog(conn: psycopg.Connection, tables: list[str], schema: str = "public",
                 helper_schema: str = "private") -> dict[str, object]:
    """Columns (as a set per table: added columns go last), constraints, indexes, tables' RLS,
    comments and grants, policies with their expressions, triggers, the helper schema's
    functions with settings and ACLs, and the publication."""
    args = catalog_args(tables, schema, helper_schema)

    def rows(query: str) -> set[tuple]:
        return {tuple(tuple(v) if isinstance(v, list) else v for v in row) for row in conn.execute(query, args)}

    return {
        **{kind: rows(query) for kind, query in QUERIES.items()},
        "enum values": {(schema_, name, rank, label) for schema_, name, _, label, rank in _ranked(rows(ENUMS))},
    }


def _ranked(found: set[tuple]) -> list[tuple]:
    """Enum values with their position among their type's values (sort orders are floats that
    differ between a value added later and one created in place)."""
    ranked = []
    for schema, name in sorted({(s, n) for s, n, _, _ in found}):
        values = sorted((float(order), label) for s, n, order, label in found if (s, n) == (schema, name))
        ranked += [(schema, name, order, label, i) for i, (order, label) in enumerate(values)]
    return ranked


def catalog_differences(left: dict, right: dict, left_name: str = "before+migration",
                        right_name: str = "fresh") -> list[str]:
    """Lines naming what only one side has, by kind."""
    lines = []
    for kind in left:
        for row in sorted(left[kind] - right[kind], key=repr):
            lines.append(f"{kind}: only {left_name}: {row}")
        for row in sorted(right[kind] - left[kind], key=repr):
            lines.append(f"{kind}: only {right_name}: {row}")
    return lines
