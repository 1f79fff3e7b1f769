"""The requests an agent of one workspace makes, each as the API would send it.

A query has the SQL the authenticated user sends (the policies do the tenant filtering) and
the SQL the no-RLS variant sends as service_role: the same statement plus an explicit
workspace filter, so both return the same rows. Reads where the request already names the
row (one job, 100 ids) need no extra filter and send the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from psycopg import sql

from rls_data import Persona


class Kind(Enum):
    """Which target applies to a query."""

    WORKSPACE_READ = "workspace-wide read"
    POINT_READ = "point read"
    WRITE = "write"


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    kind: Kind
    as_user: str
    as_service: str

    @property
    def is_write(self) -> bool:
        return self.kind is Kind.WRITE


QUERIES: tuple[Query, ...] = (
    Query(
        name="workspace_items",
        description="list the workspace's items",
        kind=Kind.WORKSPACE_READ,
        as_user="select i.* from public.robot_job_items as i",
        as_service=(
            "select i.* from public.robot_job_items as i"
            " join public.robot_jobs as j on j.id = i.job_id"
            " where j.workspace_id = {workspace_id}"
        ),
    ),
    Query(
        name="job_items",
        description="items of one job",
        kind=Kind.POINT_READ,
        as_user="select i.* from public.robot_job_items as i where i.job_id = {job_id}",
        as_service="select i.* from public.robot_job_items as i where i.job_id = {job_id}",
    ),
    Query(
        name="item_counts",
        description="count items by status for the workspace",
        kind=Kind.WORKSPACE_READ,
        as_user=(
            "select i.status, count(*) from public.robot_job_items as i"
            " group by i.status order by i.status"
        ),
        as_service=(
            "select i.status, count(*) from public.robot_job_items as i"
            " join public.robot_jobs as j on j.id = i.job_id"
            " where j.workspace_id = {workspace_id}"
            " group by i.status order by i.status"
        ),
    ),
    Query(
        name="workspace_jobs",
        description="list the workspace's jobs",
        kind=Kind.WORKSPACE_READ,
        as_user="select j.* from public.robot_jobs as j",
        as_service="select j.* from public.robot_jobs as j where j.workspace_id = {workspace_id}",
    ),
    Query(
        name="carrier_config",
        description="read its carrier config",
        kind=Kind.POINT_READ,
        as_user="select c.* from public.carrier_configs as c where c.carrier = 'coordinadora'",
        as_service=(
            "select c.* from public.carrier_configs as c"
            " where c.workspace_id = {workspace_id} and c.carrier = 'coordinadora'"
        ),
    ),
    Query(
        name="insert_items",
        description="insert 100 items into a job",
        kind=Kind.WRITE,
        as_user=(
            "insert into public.robot_job_items (job_id, order_id)"
            " select {insert_job_id}, o.id from unnest({insert_order_ids}) as o (id)"
        ),
        as_service=(
            "insert into public.robot_job_items (job_id, order_id)"
            " select {insert_job_id}, o.id from unnest({insert_order_ids}) as o (id)"
        ),
    ),
    Query(
        name="update_items",
        description="update 100 items' status",
        kind=Kind.WRITE,
        as_user=(
            "update public.robot_job_items set status = 'processing', started_at = now()"
            " where id = any ({update_item_ids})"
        ),
        as_service=(
            "update public.robot_job_items set status = 'processing', started_at = now()"
            " where id = any ({update_item_ids})"
        ),
    ),
)


def bind(text: str, persona: Persona) -> str:
    """Render a query with the persona's ids as literals, so EXPLAIN and the timed run
    plan exactly the same statement."""
    values = {
        "workspace_id": persona.workspace_id,
        "job_id": persona.read_job_id,
        "insert_job_id": persona.insert_job_id,
        "insert_order_ids": list(persona.insert_order_ids),
        "update_item_ids": list(persona.update_item_ids),
    }
    return sql.SQL(text).format(**{k: sql.Literal(v) for k, v in values.items()}).as_string()
