"""The requests an agent of one workspace makes, each as the API would send it.

A query has the SQL the authenticated user sends (the policies do the tenant filtering) and
the SQL the no-RLS variants send as service_role: the same statement plus an explicit
workspace filter, so both return the same rows. Where robot_job_items carries its workspace
(the generated schema) a service filters the item's own column; on the parent-join schema it
can only filter through the job. Requests that already name their rows (a job, an item, a
list of ids) need no extra filter and send the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from psycopg import sql

from rls_data import Persona


class Kind(Enum):
    """Which goal applies to a query."""

    WORKSPACE_READ = "workspace-wide read"
    POINT_READ = "read of 100 rows or fewer"
    WRITE = "write"


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    kind: Kind
    as_user: str
    as_service: str  # through the job: works on every schema
    scenarios: tuple[str, ...] = ("even", "skewed")
    as_service_carried: str | None = None  # by the item's own workspace_id, where it has one

    @property
    def is_write(self) -> bool:
        return self.kind is Kind.WRITE

    def service_text(self, carried: bool) -> str:
        """What a service sends on a schema where the item carries its workspace, or not."""
        return self.as_service_carried if carried and self.as_service_carried else self.as_service


# The columns every schema has: a shape that adds a column to robot_job_items must still
# return rows the no-RLS variant of the generated schema can be compared with.
_ITEM = (
    "i.id, i.job_id, i.order_id, i.status, i.tracking_number, i.validated_city, i.value_sent,"
    " i.error_type, i.error_message, i.retry_count, i.last_retry_at, i.started_at,"
    " i.completed_at, i.created_at, i.updated_at"
)


def _same(text: str) -> tuple[str, str]:
    return text, text


QUERIES: tuple[Query, ...] = (
    Query(
        "workspace_items", "list the workspace's items", Kind.WORKSPACE_READ,
        "select " + _ITEM + " from public.robot_job_items as i",
        "select " + _ITEM + " from public.robot_job_items as i"
        " join public.robot_jobs as j on j.id = i.job_id where j.workspace_id = {workspace_id}",
        scenarios=("even",),
        as_service_carried="select " + _ITEM + " from public.robot_job_items as i"
        " where i.workspace_id = {workspace_id}",
    ),
    Query(
        "item_counts", "count the workspace's items by status", Kind.WORKSPACE_READ,
        "select i.status, count(*) from public.robot_job_items as i"
        " group by i.status order by i.status",
        "select i.status, count(*) from public.robot_job_items as i"
        " join public.robot_jobs as j on j.id = i.job_id where j.workspace_id = {workspace_id}"
        " group by i.status order by i.status",
        scenarios=("even",),
        as_service_carried="select i.status, count(*) from public.robot_job_items as i"
        " where i.workspace_id = {workspace_id} group by i.status order by i.status",
    ),
    Query(
        "workspace_jobs", "list the workspace's jobs", Kind.WORKSPACE_READ,
        "select j.* from public.robot_jobs as j",
        "select j.* from public.robot_jobs as j where j.workspace_id = {workspace_id}",
        scenarios=("even",),
    ),
    Query(
        "carrier_config", "read its carrier config", Kind.POINT_READ,
        "select c.* from public.carrier_configs as c where c.carrier = 'coordinadora'",
        "select c.* from public.carrier_configs as c"
        " where c.workspace_id = {workspace_id} and c.carrier = 'coordinadora'",
        scenarios=("even",),
    ),
    Query(
        "error_items", "the workspace's items in error (status filter)", Kind.WORKSPACE_READ,
        "select i.id, i.job_id, i.order_id, i.error_type, i.error_message"
        " from public.robot_job_items as i where i.status = 'error'",
        "select i.id, i.job_id, i.order_id, i.error_type, i.error_message"
        " from public.robot_job_items as i join public.robot_jobs as j on j.id = i.job_id"
        " where j.workspace_id = {workspace_id} and i.status = 'error'",
        as_service_carried="select i.id, i.job_id, i.order_id, i.error_type, i.error_message"
        " from public.robot_job_items as i"
        " where i.workspace_id = {workspace_id} and i.status = 'error'",
    ),
    Query(
        "job_items", "items of one job", Kind.POINT_READ,
        *_same("select " + _ITEM + " from public.robot_job_items as i where i.job_id = {job_id}"),
    ),
    Query(
        "item_by_id", "one item by id", Kind.POINT_READ,
        *_same("select " + _ITEM + " from public.robot_job_items as i where i.id = {item_id}"),
    ),
    Query(
        "job_counts", "status counts of one job", Kind.POINT_READ,
        *_same(
            "select i.status, count(*) from public.robot_job_items as i"
            " where i.job_id = {job_id} group by i.status order by i.status"
        ),
    ),
    Query(
        "newest_jobs", "newest 50 jobs, unfiltered", Kind.POINT_READ,
        "select j.* from public.robot_jobs as j order by j.created_at desc limit 50",
        "select j.* from public.robot_jobs as j where j.workspace_id = {workspace_id}"
        " order by j.created_at desc limit 50",
    ),
    Query(
        "newest_jobs_ws", "newest 50 jobs, filtered by workspace", Kind.POINT_READ,
        *_same(
            "select j.* from public.robot_jobs as j where j.workspace_id = {workspace_id}"
            " order by j.created_at desc limit 50"
        ),
    ),
    # Realtime checks each change against each subscriber's SELECT policy, as the
    # subscriber's role and claims, by the row's primary key: one statement per row.
    Query(
        "realtime_check", "Realtime's RLS check of one changed row", Kind.POINT_READ,
        *_same("select 1 from public.robot_job_items as i where i.id = {item_id}"),
    ),
    Query(
        "insert_items", "insert one job's worth of items", Kind.WRITE,
        *_same(
            "insert into public.robot_job_items (job_id, order_id)"
            " select {insert_job_id}, o.id from unnest({insert_order_ids}) as o (id)"
        ),
    ),
    Query(
        "update_items", "update items' status", Kind.WRITE,
        *_same(
            "update public.robot_job_items set status = 'processing', started_at = now()"
            " where id = any ({update_item_ids})"
        ),
    ),
)


def queries_for(scenario: str) -> list[Query]:
    return [query for query in QUERIES if scenario in query.scenarios]


def bind(text: str, persona: Persona) -> str:
    """Render a query with the persona's ids as literals, so EXPLAIN and the timed run
    plan exactly the same statement."""
    values = {
        "workspace_id": persona.workspace_id,
        "job_id": persona.read_job_id,
        "item_id": persona.item_id,
        "insert_job_id": persona.insert_job_id,
        "insert_order_ids": list(persona.insert_order_ids),
        "update_item_ids": list(persona.update_item_ids),
    }
    return sql.SQL(text).format(**{k: sql.Literal(v) for k, v in values.items()}).as_string()
