"""The candidate policy shapes for a parent-join table, each a change from the generated database.

robot_job_items reaches its workspace through job_id. The migrations generate shape (d): the
item carries its job's workspace_id (filled by a trigger, kept equal to the job's by a
composite foreign key, indexed with status) and its policies test that column. Every other
shape is stated as what it changes in the generated database:

- a schema (``Schema``), applied after the migrations and before the data is loaded, so that
  its triggers, keys and indexes see every row go in, as they would in production; shapes
  that share a schema share one load (the others get file copies of it);
- then the shape's helpers and robot_job_items' three policies (SELECT, INSERT, UPDATE).

Everything else (the other tables, their policies and keep-workspace triggers, grants, the
same-workspace check on order_id) stays as generated. A shape that reproduces one of the
generator's strategies names it (``strategy``): rls_strategies.py checks, catalog against
catalog, that the shape's database is what the generator emits for that strategy.
"""

from __future__ import annotations

from dataclasses import dataclass

_MEMBER_WORKSPACES = "array(select private.member_workspace_ids())"

# The same-workspace check the generated INSERT and UPDATE policies of a parent-join table
# carry for order_id: the order's workspace is the job's.
_ORDER_IN_JOBS_WORKSPACE = (
    "(select r.workspace_id from public.orders as r where r.id = robot_job_items.order_id)"
    " = (select p.workspace_id from public.robot_jobs as p where p.id = robot_job_items.job_id)"
)

@dataclass(frozen=True)
class Schema:
    """robot_job_items' table as one or more shapes need it: the generated one, or a change
    of it applied before the data is loaded."""

    name: str
    label: str
    statements: tuple[str, ...] = ()
    carried: bool = True  # robot_job_items has a workspace_id of its own


GENERATED = Schema("generated", "generated")

# From what `tenancy.strategy: carried` generates back to what `parent_ids` and `exists`
# generate: no workspace_id on the item, so no fill trigger, keep-workspace trigger, composite
# key or (workspace_id, status) index; the single-column key on job_id as the first migration
# made it; robot_jobs without the unique (id, workspace_id) the composite key needed. The
# item's policies test workspace_id, so they go first (each shape creates its own).
# robot_jobs and carrier_configs keep their keep-workspace triggers: they hold the workspace
# themselves, whatever strategy their children use.
PARENT_JOIN = Schema(
    "parent_join",
    "parent-join",
    (
        "drop policy robot_job_items_select on public.robot_job_items",
        "drop policy robot_job_items_insert on public.robot_job_items",
        "drop policy robot_job_items_update on public.robot_job_items",
        "drop trigger robot_job_items_keep_workspace_id on public.robot_job_items",
        "drop trigger robot_job_items_carry_workspace_id on public.robot_job_items",
        "drop function private.robot_job_items_carry_workspace_id()",
        "drop index public.robot_job_items_workspace_id_status_idx",
        "alter table public.robot_job_items"
        " drop constraint robot_job_items_job_id_workspace_id_fkey",
        "alter table public.robot_job_items drop column workspace_id",
        "alter table public.robot_job_items add constraint robot_job_items_job_id_fkey"
        " foreign key (job_id) references public.robot_jobs (id) on delete cascade",
        "alter table public.robot_jobs drop constraint robot_jobs_id_workspace_id_key",
    ),
    carried=False,
)

# The generated schema with the carried column indexed alone, as a rule that knows nothing
# of the table's other columns would index it.
PLAIN_INDEX = Schema(
    "plain_index",
    "plain-index",
    (
        "drop index public.robot_job_items_workspace_id_status_idx",
        "create index robot_job_items_workspace_id_idx on public.robot_job_items (workspace_id)",
    ),
)

# What `tenancy.strategy: parent_ids` generates for the policies to call (the first
# migration's text, which rls_strategies.py compares with a fresh render).
_MEMBER_ROBOT_JOBS_IDS = (
    """create or replace function private.member_robot_jobs_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select p.id
  from public.robot_jobs as p
  where p.workspace_id = any (array(select private.member_workspace_ids()))
$$""",
    "revoke execute on function private.member_robot_jobs_ids() from public, anon",
    "grant execute on function private.member_robot_jobs_ids() to authenticated",
)


@dataclass(frozen=True)
class Shape:
    """One way of writing robot_job_items' policies, and the schema and helpers it needs."""

    name: str
    label: str
    summary: str
    visible: str | None  # USING of SELECT and UPDATE; None keeps the generated policies
    schema: Schema = GENERATED
    helpers: tuple[str, ...] = ()  # applied with the policies
    strategy: str | None = None  # the generator's tenancy.strategy it reproduces, if any

    def policy_statements(self) -> list[str]:
        """This shape's helpers and robot_job_items' policies, in place of the generated ones
        (which a changed schema may already have dropped)."""
        if self.visible is None:
            return []
        check = f"{self.visible} and {_ORDER_IN_JOBS_WORKSPACE}"
        return [
            *self.helpers,
            "drop policy if exists robot_job_items_select on public.robot_job_items",
            "drop policy if exists robot_job_items_insert on public.robot_job_items",
            "drop policy if exists robot_job_items_update on public.robot_job_items",
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
    "job_id = any (array(select private.member_robot_jobs_ids())) on the parent-join schema:"
    " what tenancy.strategy parent_ids generates",
    visible="job_id = any (array(select private.member_robot_jobs_ids()))",
    schema=PARENT_JOIN,
    helpers=_MEMBER_ROBOT_JOBS_IDS,
    strategy="parent_ids",
)

EXISTS = Shape(
    "exists",
    "(b) exists via parent",
    "a correlated EXISTS into robot_jobs, member workspaces as an initPlan array, on the"
    " parent-join schema: what tenancy.strategy exists generates",
    visible=(
        "exists (select 1 from public.robot_jobs as p"
        " where p.id = robot_job_items.job_id"
        f" and p.workspace_id = any ({_MEMBER_WORKSPACES}))"
    ),
    schema=PARENT_JOIN,
    strategy="exists",
)

IN_SELECT = Shape(
    "in_select",
    "(c) in (select job ids)",
    "job_id in (select private.member_robot_jobs_ids()) on the parent-join schema",
    visible="job_id in (select private.member_robot_jobs_ids())",
    schema=PARENT_JOIN,
    helpers=_MEMBER_ROBOT_JOBS_IDS,
)

CARRIED = Shape(
    "carried",
    "(d) carried, as generated",
    "the migrations as they are: workspace_id on the item (trigger-filled, composite FK to"
    " robot_jobs (id, workspace_id), index (workspace_id, status)); workspace_id = any"
    " (array(select private.member_workspace_ids())): what tenancy.strategy carried generates",
    visible=None,
    strategy="carried",
)

CARRIED_PLAIN = Shape(
    "carried_plain",
    "(d2) carried, plain index",
    "as (d), with the index (workspace_id, status) replaced by one on (workspace_id) alone",
    visible=None,
    schema=PLAIN_INDEX,
)

DEFINER_BOOL = Shape(
    "definer_bool",
    "(e) definer boolean",
    "(select private.is_member_of_robot_job(job_id)): a SECURITY DEFINER boolean helper, on"
    " the parent-join schema",
    visible="(select private.is_member_of_robot_job(robot_job_items.job_id))",
    schema=PARENT_JOIN,
    helpers=(
        """create function private.is_member_of_robot_job(p_job_id uuid)
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
$$""",
        "revoke execute on function private.is_member_of_robot_job(uuid) from public, anon",
        "grant execute on function private.is_member_of_robot_job(uuid) to authenticated",
    ),
)

SHAPES: tuple[Shape, ...] = (ARRAY, EXISTS, IN_SELECT, CARRIED, CARRIED_PLAIN, DEFINER_BOOL)


def schemas_of(shapes: tuple[Shape, ...]) -> list[Schema]:
    """The schemas the shapes need, the generated one first."""
    found = {GENERATED.name: GENERATED}
    for shape in shapes:
        found.setdefault(shape.schema.name, shape.schema)
    return list(found.values())


def base_shape(shapes: tuple[Shape, ...]) -> Shape:
    """The shape measured on the generated database exactly as the migrations build it."""
    return next(shape for shape in shapes if shape.schema is GENERATED and shape.visible is None)
