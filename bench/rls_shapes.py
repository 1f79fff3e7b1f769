"""The candidate policy shapes for a parent-join table, as SQL applied to a copy of the data.

robot_job_items reaches its workspace through job_id. Each shape states how its policies
decide that an item belongs to one of the user's workspaces; everything else (the other
tables, their policies, grants, the same-workspace check on order_id) stays as generated.

A shape is either a policy swap on a file copy of the generated database (``policies``), or
a schema change applied before the data is loaded (``schema``), so that its triggers and
constraints see every row go in, as they would in production.
"""

from __future__ import annotations

from dataclasses import dataclass

# The same-workspace check the generated INSERT and UPDATE policies carry for order_id.
_ORDER_IN_JOBS_WORKSPACE = (
    "(select r.workspace_id from public.orders as r where r.id = robot_job_items.order_id)"
    " = (select p.workspace_id from public.robot_jobs as p where p.id = robot_job_items.job_id)"
)
_ORDER_IN_ITEMS_WORKSPACE = (
    "(select r.workspace_id from public.orders as r where r.id = robot_job_items.order_id)"
    " = robot_job_items.workspace_id"
)
_MEMBER_WORKSPACES = "array(select private.member_workspace_ids())"


# Added to every database of every scenario before the data: the index a newest-jobs page
# needs (robot_jobs has none on created_at), so the page's no-RLS baseline is what a tuned
# service pays and the page compares the policies, not a missing index.
PAGE_INDEXES: tuple[str, ...] = (
    "create index robot_jobs_workspace_id_created_at_idx"
    " on public.robot_jobs (workspace_id, created_at)",
)


@dataclass(frozen=True)
class Shape:
    """One way of writing robot_job_items' policies (and what they need)."""

    name: str
    label: str
    summary: str
    visible: str | None  # USING of SELECT and UPDATE; None keeps the generated policies
    order_check: str = _ORDER_IN_JOBS_WORKSPACE
    schema: tuple[str, ...] = ()  # applied before loading the data (own template)
    helpers: tuple[str, ...] = ()  # applied with the policies

    @property
    def own_schema(self) -> bool:
        return bool(self.schema)

    def policy_statements(self) -> list[str]:
        """Drop robot_job_items' generated policies and create this shape's."""
        if self.visible is None:
            return []
        check = f"{self.visible} and {self.order_check}"
        return [
            *self.helpers,
            "drop policy robot_job_items_select on public.robot_job_items",
            "drop policy robot_job_items_insert on public.robot_job_items",
            "drop policy robot_job_items_update on public.robot_job_items",
            "create policy robot_job_items_select on public.robot_job_items"
            f" for select to authenticated using ({self.visible})",
            "create policy robot_job_items_insert on public.robot_job_items"
            f" for insert to authenticated with check ({check})",
            "create policy robot_job_items_update on public.robot_job_items"
            f" for update to authenticated using ({self.visible}) with check ({check})",
        ]


ARRAY = Shape(
    "array",
    "(a) array of job ids",
    "job_id = any (array(select private.member_robot_jobs_ids())): the generated policies",
    visible=None,
)

EXISTS = Shape(
    "exists",
    "(b) exists via parent",
    "a correlated EXISTS into robot_jobs, member workspaces as an initPlan array",
    visible=(
        "exists (select 1 from public.robot_jobs as p"
        " where p.id = robot_job_items.job_id"
        f" and p.workspace_id = any ({_MEMBER_WORKSPACES}))"
    ),
)

IN_SELECT = Shape(
    "in_select",
    "(c) in (select job ids)",
    "job_id in (select private.member_robot_jobs_ids())",
    visible="job_id in (select private.member_robot_jobs_ids())",
)

DEFINER_BOOL = Shape(
    "definer_bool",
    "(e) definer boolean",
    "(select private.is_member_of_robot_job(job_id)): a SECURITY DEFINER boolean helper",
    visible="(select private.is_member_of_robot_job(robot_job_items.job_id))",
    helpers=(
        """
        create function private.is_member_of_robot_job(p_job_id uuid)
        returns boolean
        language sql
        stable
        security definer
        set search_path = ''
        as $$
          select exists (
            select 1 from public.robot_jobs as p
            where p.id = p_job_id
              and p.workspace_id = any (array(select private.member_workspace_ids())))
        $$
        """,
        "revoke execute on function private.is_member_of_robot_job(uuid) from public, anon",
        "grant execute on function private.is_member_of_robot_job(uuid) to authenticated",
    ),
)

# The child carries its parent's workspace: filled from the parent by a trigger (so neither
# the API nor the service sends it, and a sent value is overwritten), kept equal to the
# parent's by a composite foreign key (which replaces the one on job_id alone), and indexed
# for the policy.
def carried_schema(index_columns: str) -> tuple[str, ...]:
    return (
        "alter table public.robot_jobs"
        " add constraint robot_jobs_id_workspace_id_key unique (id, workspace_id)",
        "alter table public.robot_job_items add column workspace_id uuid not null",
        "alter table public.robot_job_items drop constraint robot_job_items_job_id_fkey",
        "alter table public.robot_job_items"
        " add constraint robot_job_items_job_id_workspace_id_fkey"
        " foreign key (job_id, workspace_id) references public.robot_jobs (id, workspace_id)"
        " on delete cascade",
        f"create index robot_job_items_{index_columns.replace(', ', '_')}_idx"
        f" on public.robot_job_items ({index_columns})",
        """
        create function private.robot_job_items_workspace_id()
        returns trigger
        language plpgsql
        security definer
        set search_path = ''
        as $$
        begin
          select p.workspace_id into new.workspace_id
          from public.robot_jobs as p
          where p.id = new.job_id;
          return new;
        end
        $$
        """,
        # Trigger functions need no EXECUTE grant to fire; nobody calls this one directly.
        "revoke execute on function private.robot_job_items_workspace_id()"
        " from public, anon, authenticated",
        "create trigger robot_job_items_set_workspace_id"
        " before insert or update of job_id, workspace_id on public.robot_job_items"
        " for each row execute function private.robot_job_items_workspace_id()",
    )


_CARRIED_POLICY = f"workspace_id = any ({_MEMBER_WORKSPACES})"

CARRIED = Shape(
    "carried",
    "(d) carried workspace_id",
    "workspace_id on the item (trigger-filled, composite FK to robot_jobs (id, workspace_id),"
    " index (workspace_id, status)); workspace_id = any (array(select"
    " private.member_workspace_ids()))",
    visible=_CARRIED_POLICY,
    order_check=_ORDER_IN_ITEMS_WORKSPACE,
    schema=carried_schema("workspace_id, status"),
)

CARRIED_PLAIN = Shape(
    "carried_plain",
    "(d2) carried, plain index",
    "as (d), with an index on (workspace_id) alone: what a rule that knows nothing of the"
    " table's other columns would emit",
    visible=_CARRIED_POLICY,
    order_check=_ORDER_IN_ITEMS_WORKSPACE,
    schema=carried_schema("workspace_id"),
)

SHAPES: tuple[Shape, ...] = (ARRAY, EXISTS, IN_SELECT, CARRIED, CARRIED_PLAIN, DEFINER_BOOL)
