"""Before timing anything: prove every shape lets the same users see and write the same rows.

Two checks per shape, on its own copy of the data:

- visibility: for each persona, and for an agent of two workspaces, the items of a sample of
  jobs (every workspace's newest job) the policies let them see, by count and digest, must
  equal what the memberships say, read as the owner;
- writes: a fixed list of probes (own and foreign jobs, orders and items, an agent of two
  workspaces mixing them, anon, service_role) must end the same way (rows affected, or the
  SQLSTATE) under every shape, and as the intent says. One probe differs on purpose: an agent
  of two workspaces moving an item to a job of the other workspace (with an order of that
  workspace) succeeds where the item reaches its workspace through the job, and is refused
  where the item carries a workspace of its own, which the generated keep-workspace trigger
  fixes.

Any difference raises ShapeMismatch: timings of policies that decide differently compare
nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from psycopg import sql

from tenantspec.testing.impersonate import ANON_CLAIMS, SERVICE_ROLE_CLAIMS, Impersonator
from rls_data import Persona
from rls_variants import user_claims


class ShapeMismatch(RuntimeError):
    """Two shapes (or a shape and the intent) disagree on who sees or writes what."""


@dataclass(frozen=True)
class Probe:
    name: str
    who: str  # "agent", "two" (agent of two workspaces), "anon" or "service"
    statement: str
    expected: str  # "rows:<n>" or "error:<sqlstate>"
    carried_only: bool = False
    expected_carried: str | None = None  # where the item carries the workspace, if different


@dataclass(frozen=True)
class Fixture:
    """Ids the probes use, read as the owner from the generated database."""

    persona: Persona
    sample_job_ids: tuple[uuid.UUID, ...]
    foreign_job_id: uuid.UUID
    foreign_order_id: uuid.UUID
    foreign_item_id: uuid.UUID
    two_user_id: uuid.UUID
    two_email: str
    two_workspace_ids: tuple[uuid.UUID, uuid.UUID]  # persona's workspace, then the other
    second_job_id: uuid.UUID  # a job of the other workspace
    second_order_id: uuid.UUID  # an order of the other workspace not in second_job_id


def read_fixture(conn: psycopg.Connection, persona: Persona) -> Fixture:
    one = lambda query, *args: conn.execute(query, args).fetchone()  # noqa: E731
    sample = tuple(
        row[0]
        for row in conn.execute(
            "select distinct on (workspace_id) id from public.robot_jobs"
            " order by workspace_id, created_at desc"
        )
    )
    other = persona.other_workspace_id
    (foreign_job,) = one(
        "select id from public.robot_jobs where workspace_id = %s order by created_at desc"
        " limit 1", other)
    (foreign_order,) = one(
        "select id from public.orders where workspace_id = %s order by id limit 1", other)
    (foreign_item,) = one(
        "select id from public.robot_job_items where job_id = %s order by id limit 1",
        foreign_job)
    two_user, email = one(
        "select m.user_id, u.email from public.workspace_members as m"
        " join auth.users as u on u.id = m.user_id"
        " group by m.user_id, u.email"
        " having count(*) = 2 and bool_or(m.workspace_id = %s) order by m.user_id limit 1",
        persona.workspace_id)
    (second,) = one(
        "select workspace_id from public.workspace_members where user_id = %s"
        " and workspace_id <> %s", two_user, persona.workspace_id)
    (second_job,) = one(
        "select id from public.robot_jobs where workspace_id = %s order by created_at desc"
        " limit 1", second)
    (second_order,) = one(
        "select o.id from public.orders as o where o.workspace_id = %s and not exists"
        " (select 1 from public.robot_job_items as i where i.job_id = %s and i.order_id = o.id)"
        " order by o.id limit 1", second, second_job)
    return Fixture(
        persona, sample, foreign_job, foreign_order, foreign_item, two_user, email,
        (persona.workspace_id, second), second_job, second_order,
    )


def probes(f: Fixture) -> list[Probe]:
    p = f.persona
    own_job, own_order = p.insert_job_id, p.insert_order_ids[0]
    own_item = p.update_item_ids[0]

    def insert(job, order, extra: str = "") -> str:
        columns, values = "job_id, order_id", f"{_lit(job)}, {_lit(order)}"
        if extra:
            columns, values = columns + ", workspace_id", values + f", {_lit(extra)}"
        return f"insert into public.robot_job_items ({columns}) values ({values})"

    def update(item, assignment: str) -> str:
        return f"update public.robot_job_items set {assignment} where id = {_lit(item)}"

    items_workspace = (
        "returning (workspace_id = (select workspace_id from public.robot_jobs"
        " where id = job_id))::int"
    )
    return [
        Probe("insert into own job, own order", "agent", insert(own_job, own_order), "rows:1"),
        Probe("insert into own job, foreign order", "agent", insert(own_job, f.foreign_order_id),
              "error:42501"),
        Probe("insert into foreign job, its order", "agent",
              insert(f.foreign_job_id, f.foreign_order_id), "error:42501"),
        Probe("insert into foreign job, own order", "agent", insert(f.foreign_job_id, own_order),
              "error:42501"),
        Probe("update own item", "agent", update(own_item, "status = 'error'"), "rows:1"),
        Probe("update foreign item", "agent", update(f.foreign_item_id, "status = 'error'"),
              "rows:0"),
        Probe("move own item to foreign job", "agent",
              update(own_item, f"job_id = {_lit(f.foreign_job_id)}"), "error:42501"),
        Probe("point own item at foreign order", "agent",
              update(own_item, f"order_id = {_lit(f.foreign_order_id)}"), "error:42501"),
        Probe("delete own item (no grant)", "agent",
              f"delete from public.robot_job_items where id = {_lit(own_item)}", "error:42501"),
        Probe("two workspaces: job of one, order of the other", "two",
              insert(f.second_job_id, own_order), "error:42501"),
        Probe("two workspaces: move item, keep its order", "two",
              update(own_item, f"job_id = {_lit(f.second_job_id)}"), "error:42501"),
        # An item whose workspace is its own column is fixed in it (the keep-workspace
        # trigger, 42501); one that reaches it through the job follows the job it is moved to.
        Probe("two workspaces: move item with an order of the new job's workspace", "two",
              update(own_item, f"job_id = {_lit(f.second_job_id)},"
                               f" order_id = {_lit(f.second_order_id)}"), "rows:1",
              expected_carried="error:42501"),
        Probe("move own item to another own job", "agent",
              update(own_item, f"job_id = {_lit(own_job)}"), "rows:1"),
        # Issue 9's drift: moving a job that has items. robot_jobs' keep-workspace trigger
        # refuses any API role a change of a job's workspace, under every shape.
        Probe("two workspaces: move a job with items to the other", "two",
              f"update public.robot_jobs set workspace_id = {_lit(f.two_workspace_ids[1])}"
              f" where id = {_lit(p.read_job_id)}", "error:42501"),
        Probe("service_role: move a job with items to another workspace", "service",
              f"update public.robot_jobs set workspace_id = {_lit(p.other_workspace_id)}"
              f" where id = {_lit(p.read_job_id)}", "error:42501"),
        Probe("anon reads items", "anon", "select 1 from public.robot_job_items limit 1",
              "error:42501"),
        # Only where the item carries the workspace: it is the parent's whatever is sent.
        Probe("carried: filled from the job", "agent",
              insert(own_job, own_order) + " " + items_workspace, "rows:1 value:1",
              carried_only=True),
        Probe("carried: a sent workspace is overwritten", "agent",
              insert(own_job, own_order, extra=str(p.other_workspace_id)) + " " + items_workspace,
              "rows:1 value:1", carried_only=True),
        Probe("carried: an update sending another workspace is overwritten", "agent",
              update(own_item, f"workspace_id = {_lit(p.other_workspace_id)}") + " "
              + items_workspace, "rows:1 value:1", carried_only=True),
        Probe("carried: moving an item to another job of its workspace", "agent",
              update(own_item, f"job_id = {_lit(own_job)}") + " " + items_workspace,
              "rows:1 value:1", carried_only=True),
    ]


def _lit(value) -> str:
    return sql.Literal(value).as_string()


def _identity(f: Fixture, who: str) -> tuple[str, Mapping]:
    if who == "anon":
        return "anon", ANON_CLAIMS
    if who == "service":
        return "service_role", SERVICE_ROLE_CLAIMS
    if who == "two":
        return "authenticated", user_claims(f.two_user_id, f.two_email)
    return "authenticated", user_claims(f.persona.user_id, f.persona.email)


def run_probe(api: Impersonator, f: Fixture, probe: Probe) -> str:
    """One rolled-back request; 'rows:<n>' (plus the returned value) or 'error:<sqlstate>'."""
    role, claims = _identity(f, probe.who)
    with api.as_claims(role, claims) as conn:
        try:
            cur = conn.execute(probe.statement)
        except psycopg.Error as exc:
            return f"error:{exc.sqlstate}"
        result = f"rows:{cur.rowcount}"
        if cur.description:
            values = cur.fetchall()
            if "returning" in probe.statement:
                result += " value:" + ",".join(str(v) for (v,) in values)
        return result


def visible_sample(api: Impersonator, role: str, claims: Mapping, job_ids) -> str:
    """Count and digest of the sampled jobs' items the identity sees."""
    with api.as_claims(role, claims) as conn:
        count, digest = conn.execute(
            "select count(*), md5(coalesce(string_agg(id::text, ',' order by id), ''))"
            " from public.robot_job_items where job_id = any (%s)",
            (list(job_ids),),
        ).fetchone()
    return f"{count}:{digest}"


def expected_sample(conn: psycopg.Connection, user_id, job_ids) -> str:
    """What the memberships say the user sees of the sampled jobs' items (as the owner)."""
    count, digest = conn.execute(
        "select count(*), md5(coalesce(string_agg(i.id::text, ',' order by i.id), ''))"
        " from public.robot_job_items as i join public.robot_jobs as j on j.id = i.job_id"
        " where i.job_id = any (%s) and j.workspace_id in"
        " (select workspace_id from public.workspace_members where user_id = %s)",
        (list(job_ids), user_id),
    ).fetchone()
    return f"{count}:{digest}"


def check_shapes(
    admin: psycopg.Connection,
    apis: Mapping[str, Impersonator],
    carried: set[str],
    fixtures: list[Fixture],
) -> dict:
    """Run both checks for every shape database in ``apis``; raise ShapeMismatch on any
    difference. Returns what was checked, for the JSON."""
    report: dict = {"visibility": {}, "probes": {}}
    for f in fixtures:
        users = {
            f"agent of {f.persona.tenant}": (f.persona.user_id, f.persona.email),
            f"agent of {f.persona.tenant} and one more": (f.two_user_id, f.two_email),
        }
        for label, (user_id, email) in users.items():
            expected = expected_sample(admin, user_id, f.sample_job_ids)
            seen = {
                shape: visible_sample(api, "authenticated", user_claims(user_id, email),
                                      f.sample_job_ids)
                for shape, api in apis.items()
            }
            wrong = {shape: got for shape, got in seen.items() if got != expected}
            if wrong:
                raise ShapeMismatch(
                    f"{label}: the sampled items visible differ from the memberships "
                    f"({expected}): {wrong}"
                )
            report["visibility"][label] = expected
        for probe in probes(f):
            outcomes = {
                shape: run_probe(api, f, probe)
                for shape, api in apis.items()
                if shape in carried or not probe.carried_only
            }
            expected = {
                shape: probe.expected_carried if shape in carried and probe.expected_carried
                else probe.expected
                for shape in outcomes
            }
            wrong = {shape: got for shape, got in outcomes.items() if got != expected[shape]}
            if wrong:
                raise ShapeMismatch(
                    f"{f.persona.tenant}: probe {probe.name!r} expected {expected}, "
                    f"got {wrong} (all: {outcomes})"
                )
            report["probes"][f"{f.persona.tenant}: {probe.name}"] = outcomes
    return report
