"""What robot_job_items' generated workspace triggers cost per row, side by side.

The generated schema gives robot_job_items two triggers besides updated_at:

- ``robot_job_items_carry_workspace_id``, before insert or update of job_id, workspace_id:
  fills workspace_id from the job (a primary-key lookup in a SECURITY DEFINER function);
- ``robot_job_items_keep_workspace_id``, before update, ``when (old.workspace_id is distinct
  from new.workspace_id)``: refuses an API role's move to another workspace. Its function
  runs only when the workspace changes; the WHEN is evaluated for every updated row.

A file copy of the loaded generated database without both triggers runs the same requests
as the generated one, as service_role (no policies), so the difference is the triggers'
alone:

- insert a job's worth of items sending workspace_id (the copy needs it; the fill trigger
  overwrites it with the same value): the fill trigger;
- update those items' status: the keep trigger's WHEN (the fill trigger does not fire);
- move them to another job of their workspace (an update of job_id): both, the fill trigger
  running and the WHEN finding the workspace unchanged.
"""

from __future__ import annotations

import re

from rls_measure import Spread
from rls_queries import Kind, Query
from rls_variants import Variant

TRIGGERS = ("robot_job_items_carry_workspace_id", "robot_job_items_keep_workspace_id")
DATABASE = "no_triggers"

DROP_TRIGGERS: tuple[str, ...] = tuple(
    f"drop trigger {name} on public.robot_job_items" for name in TRIGGERS
)

# EXPLAIN (ANALYZE) reports each trigger that fired: "Trigger <name>: time=<ms> calls=<n>".
_FIRED = re.compile(r"^Trigger (\S+): time=([0-9.]+) calls=([0-9]+)$", re.MULTILINE)


def _same(name: str, description: str, text: str) -> Query:
    return Query(name, description, Kind.WRITE, text, text)


QUERIES: tuple[Query, ...] = (
    _same(
        "insert_items", "insert a job's worth of items (fill trigger)",
        "insert into public.robot_job_items (job_id, workspace_id, order_id)"
        " select {insert_job_id}, {workspace_id}, o.id from unnest({insert_order_ids}) as o (id)",
    ),
    _same(
        "update_status", "update items' status (keep trigger's WHEN)",
        "update public.robot_job_items set status = 'processing', started_at = now()"
        " where id = any ({update_item_ids})",
    ),
    _same(
        "move_within_workspace", "move items to another job of the workspace (both)",
        "update public.robot_job_items set job_id = {insert_job_id}"
        " where id = any ({update_item_ids})",
    ),
)


def variants(generated: str) -> tuple[Variant, ...]:
    """service_role without the triggers (the baseline), and on the generated database."""
    return (
        Variant("without_triggers", "without the triggers", DATABASE, "service_role", None),
        Variant("with_triggers", "generated (with the triggers)", generated, "service_role",
                "without_triggers"),
    )


def summary(cells: dict, tenant: str) -> list[dict]:
    """Per request: rows, both medians (planning plus execution), the difference and the
    difference per row in microseconds; and the triggers that fired in the kept plan (one
    EXPLAIN (ANALYZE) with per-node timing), with their time per call."""
    out = []
    for query in QUERIES:
        without = cells[tenant, query.name, "without_triggers"]
        with_ = cells[tenant, query.name, "with_triggers"]
        rows = with_.outcome.rows
        a, b = Spread.of(with_.planned_and_executed_ms), Spread.of(without.planned_and_executed_ms)
        out.append({
            "query": query.name,
            "description": query.description,
            "rows": rows,
            "with_ms": a.median,
            "with_half_iqr_ms": a.iqr / 2,
            "without_ms": b.median,
            "without_half_iqr_ms": b.iqr / 2,
            "difference_ms": a.median - b.median,
            "per_row_us": (a.median - b.median) * 1000 / rows,
            "samples": a.n,
            "fired_in_plan": {
                name: {"ms": float(ms), "calls": int(calls),
                       "us_per_call": float(ms) * 1000 / int(calls)}
                for name, ms, calls in _FIRED.findall(with_.plan_text)
                if name in TRIGGERS and int(calls)
            },
        })
    return out


def format_summary(rows: list[dict]) -> str:
    lines = ["trigger costs (service_role, generated database with and without "
             f"{' and '.join(TRIGGERS)}; planning + execution ms, median ±half IQR):"]
    for row in rows:
        lines.append(
            f"  {row['query']:<22} {row['rows']:>4} rows: {row['with_ms']:.3f} ±"
            f"{row['with_half_iqr_ms']:.3f} with, {row['without_ms']:.3f} ±"
            f"{row['without_half_iqr_ms']:.3f} without: {row['difference_ms']:+.3f} ms,"
            f" {row['per_row_us']:+.2f} µs a row (n={row['samples']})"
        )
        for name, fired in row["fired_in_plan"].items():
            lines.append(f"  {'':<22} plan: {name} {fired['calls']} calls,"
                         f" {fired['us_per_call']:.2f} µs each")
    return "\n".join(lines)
