"""Act as an API user exactly as PostgREST does for one request.

The connection logs in as an authenticator-shaped role (LOGIN NOINHERIT, member of anon,
authenticated and service_role, never a superuser). Each `as_*` block is one transaction that
starts with ``set_config('role', …, true), set_config('request.jwt.claims', …, true)`` and is
rolled back at the end, so blocks never see each other's writes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

import psycopg
from psycopg import sql

from tenantspec.testing.personas import Persona

ANON_CLAIMS = Persona("anon", db_role="anon").claims()
SERVICE_ROLE_CLAIMS = Persona("service_role", db_role="service_role").claims()


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
        conn = self.conn
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        # BEGIN travels with the identity switch in one message (the server then holds the
        # transaction, so nothing in the block commits on its own); the rollback ends it.
        conn.autocommit = True
        try:
            conn.execute(sql.SQL("begin; ") + identity(role, claims))
            yield conn
        finally:
            conn.rollback()
            conn.autocommit = False

    @contextlib.contextmanager
    def requests(self) -> Iterator[Callable[..., psycopg.Connection]]:
        """Many requests one after the other: each call of the function given starts the next
        one as a persona, rolling the previous one back in the same message (one round trip
        where `as_persona` takes two). Each request is as `as_persona` makes it. With
        ``settle=True`` the previous one ends on its own and the server's counts of its writes
        settle first (`SETTLE`), for `tables_snapshot`'s ``written_only``."""
        conn = self.conn
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        conn.autocommit = True

        def next_request(persona: Persona, settle: bool = False) -> psycopg.Connection:
            if settle:
                conn.execute("rollback; " + SETTLE)
            conn.execute(sql.SQL("rollback; begin; ") + identity(persona.db_role, persona.claims()))
            return conn

        try:
            conn.execute("begin")
            yield next_request
        finally:
            conn.rollback()
            conn.autocommit = False

    def as_user(self, persona: Persona) -> contextlib.AbstractContextManager[psycopg.Connection]:
        """One request by a signed-in user (role authenticated, their claims)."""
        return self.as_claims("authenticated", persona.claims())

    def as_persona(self, persona: Persona) -> contextlib.AbstractContextManager[psycopg.Connection]:
        """One request as ``persona``: its database role and its token's claims."""
        return self.as_claims(persona.db_role, persona.claims())

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
    conn.execute(_IDENTITY.format(sql.Placeholder(), sql.Placeholder()), (role, json.dumps(dict(claims))))


# PostgREST's switch of identity, for the rest of the transaction: the role, then the token's claims.
_IDENTITY = sql.SQL("select set_config('role', {}, true), set_config('request.jwt.claims', {}, true)")


def identity(role: str, claims: Mapping) -> sql.Composed:
    """`_IDENTITY` for ``role`` and ``claims``, as literals: to travel in one message with other
    statements."""
    return _IDENTITY.format(sql.Literal(role), sql.Literal(json.dumps(dict(claims))))


def table_snapshot(conn: psycopg.Connection, table: str) -> list:
    """Every row of ``table`` (``schema.name``; ``public`` when unqualified) as the current
    transaction sees it, whoever is acting: the identity is parked, the rows read through the
    plugin's SECURITY DEFINER probe (executable by the login role only), and the identity
    restored."""
    qualified = table if "." in table else f"public.{table}"
    return tables_snapshot(conn, [qualified])[qualified]


def tables_snapshot(conn: psycopg.Connection, tables: Iterable[str], written_only: bool = False) -> dict[str, list]:
    """`table_snapshot` of several tables in one round trip. With ``written_only``, only those
    the transaction has written so far (by its statements, their triggers and cascades, as the
    server counts them: a table written and restored is read too); the others are as they were
    when it began."""
    cur = conn.execute(_SNAPSHOT.format(sql.Literal(list(tables)), sql.Literal(not written_only)))
    cur.nextset()
    cur.nextset()
    return dict(cur.fetchall())


def counts_writes(conn: psycopg.Connection) -> bool:
    """Whether the server counts writes per table (``track_counts``, on unless turned off) and
    can be asked to settle its counts (PostgreSQL 15 and later), which `tables_snapshot` with
    ``written_only`` relies on."""
    return conn.info.server_version >= 150000 and \
        conn.execute("select current_setting('track_counts')::bool").fetchone()[0]


# A backend's counts of writes hold those of its earlier transactions until it hands them to the
# server's statistics, which it does when idle outside a transaction, at most once a second
# unless asked: a transaction that starts after this ran, idle, counts its own writes alone.
SETTLE = "select pg_stat_force_next_flush()"


def settle_write_counts(conn: psycopg.Connection) -> None:
    """End the transaction and let the counts of its writes settle (see `SETTLE`)."""
    conn.rollback()
    with conn.transaction():
        conn.execute(SETTLE)
    conn.rollback()


# The identity is parked in the transaction's own settings, the rows read (one row per table: a
# function takes at most 100 arguments, so no jsonb_build_object of them all) and the identity
# restored, all in one message. Writes count on a partitioned table's partitions, not on it: it is
# always read.
_SNAPSHOT = sql.SQL(
    "select set_config('tenantspec.parked_role', current_setting('role'), true), "
    "set_config('tenantspec.parked_claims', coalesce(current_setting('request.jwt.claims', true), ''), true); "
    "select set_config('role', 'none', true), set_config('request.jwt.claims', '', true); "
    "select t.name, tenantspec_probe.snapshot(t.id) from unnest({}::text[]) as n(name), "
    "lateral (select n.name, n.name::regclass as id) as t "
    "where {} or pg_stat_get_xact_tuples_inserted(t.id) + pg_stat_get_xact_tuples_updated(t.id) "
    "+ pg_stat_get_xact_tuples_deleted(t.id) > 0 or (select relkind from pg_class where oid = t.id) = 'p'; "
    "select set_config('role', current_setting('tenantspec.parked_role'), true), "
    "set_config('request.jwt.claims', current_setting('tenantspec.parked_claims'), true)")


@dataclass(frozen=True)
class Attempt:
    """Outcome of one statement: how it failed, or the rows it affected or returned."""

    sqlstate: str | None
    rowcount: int
    rows: tuple = ()
    message: str = ""
    surface: str = ""  # "error 42501 privilege", "error 42501 policy", "error 23505", ...
    constraint: str | None = None

    @property
    def failed(self) -> bool:
        return self.sqlstate is not None

    def describe(self) -> str:
        if self.failed:
            return self.surface
        return f"{self.rowcount} row{'s' if self.rowcount != 1 else ''}"


def attempt_as(conn: psycopg.Connection, role: str, claims: Mapping, statement, params=None,
               undo: bool = False) -> Attempt:
    """`attempt` as ``role`` with ``claims``, within the transaction: the identity switch and the
    savepoint travel in one message, and the savepoint is rolled back to on an error (with
    ``undo``, whatever happened: the request leaves nothing behind)."""
    conn.execute(identity(role, claims) + sql.SQL("; savepoint tenantspec_request"))
    result = attempt(conn, statement, params, savepoint=False)
    if result.failed or undo:
        conn.execute("rollback to savepoint tenantspec_request")
    return result


def attempt(conn: psycopg.Connection, statement, params=None, savepoint: bool = True) -> Attempt:
    """Run ``statement`` in a savepoint; an error rolls back to it and is recorded, not raised.
    Without the savepoint an error leaves the transaction aborted: for a request's last statement."""
    try:
        with conn.transaction() if savepoint else contextlib.nullcontext():
            cur = conn.execute(statement, params)
            rows = tuple(cur.fetchall()) if cur.description else ()
            return Attempt(None, cur.rowcount, rows)
    except psycopg.Error as exc:
        return Attempt(exc.sqlstate or "?", 0, (), exc.diag.message_primary or str(exc),
                       error_surface(exc), exc.diag.constraint_name)


def error_surface(exc: psycopg.Error) -> str:
    """How an error shows to a client: its SQLSTATE, and for 42501 whether a missing
    privilege or a row-level security check raised it (both share the code)."""
    state = exc.sqlstate or "?"
    message = exc.diag.message_primary or ""
    if state == "42501" and message.startswith("permission denied"):
        return "error 42501 privilege"
    if state == "42501" and "row-level security" in message:
        return "error 42501 policy"
    return f"error {state}"
