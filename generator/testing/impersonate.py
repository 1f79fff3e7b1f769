"""Act as an API user exactly as PostgREST does for one request.

The connection logs in as an authenticator-shaped role (LOGIN NOINHERIT, member of anon,
authenticated and service_role, never a superuser). Each `as_*` block is one transaction that
starts with ``set_config('role', …, true), set_config('request.jwt.claims', …, true)`` and is
rolled back at the end, so blocks never see each other's writes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping

import psycopg
from psycopg import sql

from generator.testing.personas import Persona

ANON_CLAIMS = {"iss": "supabase", "role": "anon", "iat": 1_780_000_000, "exp": 4_102_444_800}
SERVICE_ROLE_CLAIMS = {
    "iss": "supabase", "role": "service_role", "iat": 1_780_000_000, "exp": 4_102_444_800,
}


class ImpersonationError(RuntimeError):
    """The probe connection is not shaped like PostgREST's authenticator."""


class Impersonator:
    """One authenticator-shaped connection; each `as_*` block is one rolled-back request."""

    def __init__(self, conninfo: Mapping[str, str]):
        self.conn = psycopg.connect(**conninfo, autocommit=False)
        self._check_not_privileged()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Impersonator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def as_claims(self, role: str, claims: Mapping) -> Iterator[psycopg.Connection]:
        """One request as database `role` carrying `claims`; rolled back afterwards."""
        if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self.conn.rollback()
        try:
            switch_identity(self.conn, role, claims)
            yield self.conn
        finally:
            self.conn.rollback()

    def as_user(self, persona: Persona) -> contextlib.AbstractContextManager[psycopg.Connection]:
        """One request by a signed-in user (role authenticated, their claims)."""
        return self.as_claims("authenticated", persona.claims())

    def as_anon(self) -> contextlib.AbstractContextManager[psycopg.Connection]:
        """One request with the anon key and no user token."""
        return self.as_claims("anon", ANON_CLAIMS)

    def as_service_role(self) -> contextlib.AbstractContextManager[psycopg.Connection]:
        """One request with the service key (BYPASSRLS)."""
        return self.as_claims("service_role", SERVICE_ROLE_CLAIMS)

    def _check_not_privileged(self) -> None:
        row = self.conn.execute(
            "select rolsuper, rolinherit, rolbypassrls from pg_catalog.pg_roles "
            "where rolname = session_user"
        ).fetchone()
        self.conn.rollback()
        if row is None or row[0] or row[1] or row[2]:
            raise ImpersonationError(
                f"Probe login {self.conn.info.user!r} must be LOGIN NOINHERIT without "
                "SUPERUSER or BYPASSRLS, like Supabase's authenticator; a privileged login "
                "hides privilege mistakes. Connect with the role the plugin creates."
            )


def switch_identity(conn: psycopg.Connection, role: str, claims: Mapping) -> None:
    """What PostgREST runs at the start of each request's transaction (also usable to switch
    identity between statements of one transaction, as the property test does)."""
    conn.execute(
        "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
        (role, json.dumps(dict(claims))),
    )


def reset_identity(conn: psycopg.Connection) -> None:
    """Back to the login role itself within the current transaction."""
    conn.execute("select set_config('role', 'none', true), set_config('request.jwt.claims', '', true)")


def table_snapshot(conn: psycopg.Connection, table: str) -> list:
    """Every row of public.`table` as the current transaction sees it, whoever is acting: the
    identity is parked, the rows read through the plugin's SECURITY DEFINER probe (executable
    by the login role only), and the identity restored."""
    role, claims = conn.execute(
        "select current_setting('role'), current_setting('request.jwt.claims', true)"
    ).fetchone()
    reset_identity(conn)
    rows = conn.execute(
        sql.SQL("select tenantspec_probe.snapshot({}::regclass)").format(
            sql.Literal(f"public.{table}")
        )
    ).fetchone()[0]
    conn.execute(
        "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
        (role, claims or ""),
    )
    return rows
