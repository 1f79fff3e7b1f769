"""Structural checks read from the catalog of the migrated database, for whatever the
migrations create: functions, tables and policies that did not exist before them (or that
they replaced), and every spec'd table. Each check returns a list of problems, empty when
all is well.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

from tenantspec.spec import model
from tenantspec.testing.expectations import AccessModel
from tenantspec.testing.personas import Persona
from tenantspec.testing.tables import TableFacts

API_ROLES = ("anon", "authenticated", "service_role")
NEVER_GRANTED = ("TRUNCATE", "REFERENCES", "TRIGGER")
COMMAND_PRIVILEGES = {"select": "SELECT", "insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}

# What makes a function (p) or a policy (pol) the same one before and after the migrations.
FUNCTION_FINGERPRINT = "md5(concat_ws('|', p.prosrc, p.prosecdef, p.proconfig::text, p.proacl::text))"
POLICY_FINGERPRINT = ("md5(concat_ws('|', pol.polcmd, pol.polroles::text, pg_get_expr(pol.polqual, pol.polrelid), "
                      "pg_get_expr(pol.polwithcheck, pol.polrelid)))")

# Records, before the migrations run, what the catalog already holds, so the checks can tell
# what the migrations created or replaced (a fingerprint that changed).
PREEXISTING_SQL = f"""
create table tenantspec_probe.preexisting as
select 'pg_proc'::regclass as catalog, p.oid as objid, {FUNCTION_FINGERPRINT} as fingerprint
from pg_catalog.pg_proc p
union all
select 'pg_class'::regclass, c.oid, md5(concat_ws('|', c.relrowsecurity, c.relacl::text))
from pg_catalog.pg_class c
union all
select 'pg_policy'::regclass, pol.oid, {POLICY_FINGERPRINT}
from pg_catalog.pg_policy pol
"""

_NEW_FUNCTIONS = f"""
select p.oid::regprocedure::text, p.prosecdef, p.proconfig,
       has_function_privilege('anon', p.oid, 'EXECUTE') as anon_executes,
       exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
               where a.grantee = 0 and a.privilege_type = 'EXECUTE') as public_executes
from pg_catalog.pg_proc p
where p.pronamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  and not exists (
    select 1 from tenantspec_probe.preexisting e
    where e.catalog = 'pg_proc'::regclass and e.objid = p.oid
      and e.fingerprint = {FUNCTION_FINGERPRINT})
order by 1
"""

_NEW_TABLES = """
select c.oid::regclass::text
from pg_catalog.pg_class c
where c.relkind in ('r', 'p', 'v', 'm', 'f')
  and c.relnamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  and not exists (select 1 from tenantspec_probe.preexisting e
                  where e.catalog = 'pg_class'::regclass and e.objid = c.oid)
"""


def _policies(conn: psycopg.Connection, tables: Iterable[str]) -> list[tuple]:
    """Policies the migrations created or changed, and every policy on ``tables``."""
    return conn.execute(
        f"""
        select pol.polrelid::regclass::text, pol.polname, pol.polcmd, pol.polroles,
               pol.polwithcheck is not null
        from pg_catalog.pg_policy pol
        where pol.polrelid::regclass::text = any(%s)
           or not exists (
             select 1 from tenantspec_probe.preexisting e
             where e.catalog = 'pg_policy'::regclass and e.objid = pol.oid
               and e.fingerprint = {POLICY_FINGERPRINT})
        order by 1, 2
        """,
        (list(tables),),
    ).fetchall()


def _regclass(name: model.Name) -> str:
    """How ``regclass::text`` names a table (unqualified when in the search path)."""
    return name.name if name.schema == "public" else str(name)


def rls_problems(conn: psycopg.Connection, tables: Iterable[TableFacts]) -> list[str]:
    """Row-level security is on for every spec'd table."""
    problems = []
    for facts in tables:
        row = conn.execute("select relrowsecurity from pg_catalog.pg_class where oid = to_regclass(%s)",
                           (str(facts.name),)).fetchone()
        if row is None:
            problems.append(f"{facts.name}: the migrations do not create it")
        elif not row[0]:
            problems.append(f"{facts.name}: row level security is off: every row is open to any role "
                            "holding a privilege")
    return problems


def tenancy_problems(conn: psycopg.Connection, tables: Iterable[TableFacts]) -> list[str]:
    """Every row has a workspace: the workspace column, or the parent column, is NOT NULL.
    A row without one is visible to nobody and writable by service_role alone."""
    problems = []
    for facts in tables:
        if facts.spec is not None and facts.spec.tenancy.nullable:
            continue  # rows with no workspace, service_role's alone, as the spec says
        column = facts.workspace_column or (facts.parent.column if facts.parent else None)
        row = conn.execute(
            "select attnotnull from pg_catalog.pg_attribute where attrelid = to_regclass(%s) and attname = %s",
            (str(facts.name), column)).fetchone()
        if row is not None and not row[0]:
            problems.append(f"{facts.name}.{column}: nullable; a row without a workspace belongs to nobody")
    return problems


def security_definer_problems(conn: psycopg.Connection) -> list[str]:
    """Every SECURITY DEFINER function the migrations create has ``search_path`` fixed to
    empty and is not executable by anon or PUBLIC."""
    problems = []
    for signature, definer, config, anon_executes, public_executes in conn.execute(_NEW_FUNCTIONS):
        if not definer:
            continue
        settings = [c for c in config or () if c.startswith("search_path=")]
        if settings != ['search_path=""']:
            shown = settings[0] if settings else "no search_path setting"
            problems.append(f"{signature}: SECURITY DEFINER with {shown}; it must `set search_path = ''`, "
                            "or a caller's objects can stand in for the ones it names")
        if public_executes:
            problems.append(f"{signature}: SECURITY DEFINER and executable by PUBLIC (the default): "
                            "revoke execute from public, anon")
        elif anon_executes:
            problems.append(f"{signature}: SECURITY DEFINER and executable by anon: revoke execute from anon")
    return problems


def policy_problems(conn: psycopg.Connection, tables: Iterable[TableFacts]) -> list[str]:
    """Every policy names its roles (no TO means PUBLIC, anon included), and every UPDATE
    policy states its WITH CHECK instead of reusing USING by omission."""
    problems = []
    for table, policy, command, roles, has_check in _policies(conn, [_regclass(f.name) for f in tables]):
        if 0 in roles:
            problems.append(f"{table}: policy {policy} applies to PUBLIC (no TO clause), anon included")
        if command in ("w", "*") and not has_check:
            problems.append(f"{table}: policy {policy} updates without a WITH CHECK")
    return problems


def privilege_problems(conn: psycopg.Connection, tables: Iterable[TableFacts]) -> list[str]:
    """No API role (nor PUBLIC) holds TRUNCATE, REFERENCES or TRIGGER on a table the
    migrations create or on a spec'd table: row security does not stop the first two. Tables no
    spec describes get the statement that revokes it."""
    names = {str(f.name) for f in tables} | {r[0] for r in conn.execute(_NEW_TABLES)}
    rows = conn.execute(
        """
        select c.oid::regclass::text, coalesce(r.rolname, 'PUBLIC'), a.privilege_type
        from pg_catalog.pg_class c
        cross join lateral aclexplode(c.relacl) a
        left join pg_catalog.pg_roles r on r.oid = a.grantee
        where c.oid = any(select to_regclass(n) from unnest(%s::text[]) n)
          and (a.grantee = 0 or r.rolname = any(%s))
          and a.privilege_type = any(%s)
        order by 1, 2, 3
        """,
        (sorted(names), list(API_ROLES), list(NEVER_GRANTED)),
    ).fetchall()
    problems = [f"{table}: {role} holds {privilege}" for table, role, privilege in rows]
    specified = {str(f.name) for f in tables if f.spec is not None}
    unspecified = sorted({table for table, _, _ in rows} - specified)
    if unspecified:  # tables no spec describes keep what their own migrations granted
        problems.append(f"(no spec describes {', '.join(unspecified)}: a migration of the project's own revokes it, "
                        f"`revoke truncate, references, trigger on table {', '.join(unspecified)} "
                        "from anon, authenticated, service_role;`)")
    return problems


def grant_problems(conn: psycopg.Connection, access: AccessModel) -> list[str]:
    """Each API role holds on each spec'd table exactly the commands the access model needs:
    anon nothing unless the intent lets it in, authenticated what some member may run,
    service_role what the intent gives it; PUBLIC nothing."""
    problems = []
    stand_ins = {"authenticated": Persona("authenticated"), "anon": Persona("anon", db_role="anon"),
                 "service_role": Persona("service_role", db_role="service_role")}
    for facts in access.world.spec_tables:
        held = {}
        for grantee, privilege in conn.execute(
                """
                select coalesce(r.rolname, 'PUBLIC'), a.privilege_type
                from pg_catalog.pg_class c
                cross join lateral aclexplode(c.relacl) a
                left join pg_catalog.pg_roles r on r.oid = a.grantee
                where c.oid = to_regclass(%s)
                """, (str(facts.name),)):
            held.setdefault(grantee, set()).add(privilege)
        for role, persona in [("PUBLIC", None), *stand_ins.items()]:
            wanted = set() if persona is None else {
                COMMAND_PRIVILEGES[c] for c in COMMAND_PRIVILEGES if access.granted(persona, facts.name, c)}
            have = held.get(role, set()) & (set(COMMAND_PRIVILEGES.values()) | set(NEVER_GRANTED))
            if have - wanted:
                problems.append(f"{facts.name}: {role} holds {', '.join(sorted(have - wanted))} beyond what "
                                "the access model needs")
            if wanted - have:
                problems.append(f"{facts.name}: {role} lacks {', '.join(sorted(wanted - have))}, which the "
                                "access model needs")
    return problems
