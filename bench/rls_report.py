"""Turning cells of timings into verdicts, a printed table and a JSON document."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from rls_measure import Cell, Spread
from rls_queries import Kind, Query

# Issue 5's targets, judged on the median server execution time.
MAX_RATIO_TO_NO_RLS = 1.2  # workspace-wide reads: generated / no RLS
MIN_PER_ROW_FACTOR = 100.0  # workspace-wide reads: per-row / generated
MAX_POINT_READ_ADDED_MS = 0.25  # point reads: generated - no RLS


@dataclass(frozen=True)
class Verdict:
    """Whether the generated policies meet the query's target; met is None for writes."""

    met: bool | None
    detail: str


@dataclass(frozen=True)
class QueryResult:
    query: Query
    cells: dict[str, Cell]  # by variant name

    def spread(self, variant: str, measure: str = "execution_ms") -> Spread:
        return Spread.of(getattr(self.cells[variant], measure))

    def ratio(self, over: str, under: str, measure: str = "execution_ms") -> float:
        return self.spread(over, measure).median / self.spread(under, measure).median

    def added_ms(self, measure: str = "execution_ms") -> float:
        return self.spread("generated", measure).median - self.spread("no_rls", measure).median

    def verdict(self) -> Verdict:
        kind = self.query.kind
        if kind is Kind.WORKSPACE_READ:
            to_no_rls = self.ratio("generated", "no_rls")
            per_row = self.ratio("per_row", "generated")
            misses = []
            if to_no_rls > MAX_RATIO_TO_NO_RLS:
                misses.append(f"{to_no_rls:.2f}x no RLS > {MAX_RATIO_TO_NO_RLS}x")
            if per_row < MIN_PER_ROW_FACTOR:
                misses.append(f"per-row only {per_row:.0f}x < {MIN_PER_ROW_FACTOR:.0f}x")
            if misses:
                return Verdict(False, "MISSED: " + "; ".join(misses))
            return Verdict(
                True, f"met (<={MAX_RATIO_TO_NO_RLS}x no RLS, >={MIN_PER_ROW_FACTOR:.0f}x per-row)"
            )
        if kind is Kind.POINT_READ:
            added = self.added_ms()
            if added > MAX_POINT_READ_ADDED_MS:
                return Verdict(False, f"MISSED: +{added:.3f} ms > +{MAX_POINT_READ_ADDED_MS} ms")
            return Verdict(True, f"met (+{added:.3f} ms <= +{MAX_POINT_READ_ADDED_MS} ms)")
        return Verdict(None, "no target")


def _ms(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def _with_spread(spread: Spread) -> str:
    return f"{_ms(spread.median)} ±{_ms(spread.iqr / 2)}"


def format_table(results: list[QueryResult], labels: dict[str, str]) -> str:
    """One line per query and variant: medians with half the interquartile range, rows,
    the two ratios (on server time) and the verdict."""
    header = (
        "query", "variant", "server ms", "wall ms", "plan ms", "n", "rows",
        "gen/noRLS", "per-row/gen", "target",
    )
    lines = [header]
    for result in results:
        verdict = result.verdict()
        for index, (variant, cell) in enumerate(result.cells.items()):
            ratio = ""
            if variant == "generated":
                ratio = f"{result.ratio('generated', 'no_rls'):.2f}x"
            per_row = ""
            if variant == "per_row":
                factor = result.ratio("per_row", "generated")
                per_row = f"{factor:.1f}x" if factor < 10 else f"{factor:.0f}x"
            lines.append((
                result.query.name if index == 0 else "",
                labels[variant],
                _with_spread(result.spread(variant)),
                _with_spread(result.spread(variant, "wall_ms")),
                _ms(result.spread(variant, "planning_ms").median),
                str(len(cell.execution_ms)),
                str(cell.outcome.rows),
                ratio,
                per_row,
                verdict.detail if variant == "generated" else "",
            ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    numeric = {2, 3, 4, 5, 6, 7, 8}
    out = []
    for number, line in enumerate(lines):
        cells = [
            value.rjust(widths[i]) if i in numeric else value.ljust(widths[i])
            for i, value in enumerate(line)
        ]
        out.append("  ".join(cells).rstrip())
        if number == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def query_document(result: QueryResult) -> dict:
    """Everything measured for one query, for the JSON file."""
    verdict = result.verdict()
    variants = {}
    for variant, cell in result.cells.items():
        variants[variant] = {
            "sql": cell.statement,
            "rows": cell.outcome.rows,
            "result_digest": cell.outcome.digest,
            "execution_ms": asdict(result.spread(variant)) | {"samples": cell.execution_ms},
            "planning_ms": asdict(result.spread(variant, "planning_ms"))
            | {"samples": cell.planning_ms},
            "planned_and_executed_ms": asdict(result.spread(variant, "planned_and_executed_ms")),
            "wall_ms": asdict(result.spread(variant, "wall_ms")) | {"samples": cell.wall_ms},
            "plan": cell.plan_text,
        }
    return {
        "name": result.query.name,
        "description": result.query.description,
        "kind": result.query.kind.value,
        "variants": variants,
        "ratios": {
            "generated_over_no_rls": result.ratio("generated", "no_rls"),
            "per_row_over_generated": result.ratio("per_row", "generated"),
            "generated_over_no_rls_planned_and_executed": result.ratio(
                "generated", "no_rls", "planned_and_executed_ms"
            ),
            "generated_over_no_rls_wall": result.ratio("generated", "no_rls", "wall_ms"),
            "per_row_over_generated_wall": result.ratio("per_row", "generated", "wall_ms"),
        },
        "generated_added_ms": result.added_ms(),
        "target": {"met": verdict.met, "detail": verdict.detail},
    }


def write_json(path: Path, document: dict) -> None:
    """Write through a temporary file and rename, so a crash never leaves half a result."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=2, default=str) + "\n")
    os.replace(temporary, path)
