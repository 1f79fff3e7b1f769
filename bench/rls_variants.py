"""The three ways of running the same request, and the per-row policies the bench writes.

- ``no_rls``: service_role (BYPASSRLS) sending the query with an explicit workspace filter.
- ``generated``: the authenticated persona under the policies from ``supabase/migrations``.
- ``per_row``: the authenticated persona under the usual hand-written policies: the
  SECURITY DEFINER helper called with the row's column, and a correlated EXISTS into
  ``robot_jobs`` for items. They live in a clone of the loaded database, so the data is
  the same file-for-file; only the policies differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from psycopg import Connection, sql

from generator.testing.impersonate import SERVICE_ROLE_CLAIMS
from generator.testing.personas import Persona as TestPersona
from rls_data import Persona

TABLES = ("carrier_configs", "robot_jobs", "robot_job_items")

_MEMBER_OF_ROW = "public.is_workspace_member(workspace_id)"
_ADMIN_OF_ROW = "public.is_workspace_admin(workspace_id)"
_MEMBER_OF_JOB = (
    "exists (select 1 from public.robot_jobs as j"
    " where j.id = robot_job_items.job_id and public.is_workspace_member(j.workspace_id))"
)
_MEMBER_OF_JOB_AND_ORDER = (
    "exists (select 1 from public.robot_jobs as j"
    " join public.orders as o on o.workspace_id = j.workspace_id"
    " where j.id = robot_job_items.job_id and o.id = robot_job_items.order_id"
    " and public.is_workspace_member(j.workspace_id))"
)

# (table, command) -> (USING, WITH CHECK): the intent of the generated policies, per row.
PER_ROW_POLICIES: dict[tuple[str, str], tuple[str | None, str | None]] = {
    ("carrier_configs", "SELECT"): (_MEMBER_OF_ROW, None),
    ("carrier_configs", "INSERT"): (None, _ADMIN_OF_ROW),
    ("carrier_configs", "UPDATE"): (_ADMIN_OF_ROW, _ADMIN_OF_ROW),
    ("carrier_configs", "DELETE"): (_ADMIN_OF_ROW, None),
    ("robot_jobs", "SELECT"): (_MEMBER_OF_ROW, None),
    ("robot_jobs", "INSERT"): (None, _MEMBER_OF_ROW),
    ("robot_jobs", "UPDATE"): (_MEMBER_OF_ROW, _MEMBER_OF_ROW),
    ("robot_job_items", "SELECT"): (_MEMBER_OF_JOB, None),
    ("robot_job_items", "INSERT"): (None, _MEMBER_OF_JOB_AND_ORDER),
    ("robot_job_items", "UPDATE"): (_MEMBER_OF_JOB, _MEMBER_OF_JOB_AND_ORDER),
}


class PolicyMismatch(RuntimeError):
    """The generated policies cover other commands than the per-row set mirrors."""


def generated_commands(conn: Connection) -> set[tuple[str, str]]:
    """(table, command) pairs the generated migrations put policies on."""
    rows = conn.execute(
        "select tablename, cmd from pg_catalog.pg_policies"
        " where schemaname = 'public' and tablename = any (%s)",
        (list(TABLES),),
    ).fetchall()
    return {(table, cmd) for table, cmd in rows}


def install_per_row_policies(conn: Connection) -> None:
    """Replace the generated policies in this database with the per-row ones.

    Fails when the generated set covers other commands, so the two variants never
    compare different intents after the migrations change.
    """
    generated = generated_commands(conn)
    if generated != set(PER_ROW_POLICIES):
        raise PolicyMismatch(
            "the generated policies cover "
            f"{sorted(generated)}, the per-row set covers {sorted(PER_ROW_POLICIES)}: "
            "update PER_ROW_POLICIES in bench/rls_variants.py to the new intent"
        )
    with conn.transaction():
        names = conn.execute(
            "select tablename, policyname from pg_catalog.pg_policies"
            " where schemaname = 'public' and tablename = any (%s)",
            (list(TABLES),),
        ).fetchall()
        for table, name in names:
            conn.execute(
                sql.SQL("drop policy {} on {}").format(
                    sql.Identifier(name), sql.Identifier("public", table)
                )
            )
        for (table, command), (using, check) in PER_ROW_POLICIES.items():
            statement = sql.SQL("create policy {} on {} for {} to authenticated").format(
                sql.Identifier(f"{table}_{command.lower()}_per_row"),
                sql.Identifier("public", table),
                sql.SQL(command),
            )
            if using:
                statement += sql.SQL(" using ({})").format(sql.SQL(using))
            if check:
                statement += sql.SQL(" with check ({})").format(sql.SQL(check))
            conn.execute(statement)


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    database: str  # "generated" or "per_row": which copy of the data it runs on
    role: str
    uses_service_sql: bool

    def claims(self, persona: Persona) -> Mapping:
        """The JWT claims PostgREST would put in request.jwt.claims."""
        if self.role == "service_role":
            return SERVICE_ROLE_CLAIMS
        user = TestPersona(name="bench_agent", user_id=persona.user_id, email=persona.email)
        return user.claims()


VARIANTS: tuple[Variant, ...] = (
    Variant("no_rls", "no RLS", "generated", "service_role", uses_service_sql=True),
    Variant("generated", "generated", "generated", "authenticated", uses_service_sql=False),
    Variant("per_row", "per-row", "per_row", "authenticated", uses_service_sql=False),
)
