"""Turning cells of timings into added milliseconds, goals met, tables and a JSON document.

Every figure is planning plus execution time of the server (EXPLAIN (ANALYZE) Planning Time
plus Execution Time), median over the cell's samples. A shape's cost is what it adds to the
no-RLS request on the generated schema (service_role, filtering the item's own workspace_id),
measured side by side in the same run.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from rls_data import DataSet, Persona
from rls_measure import Cell, Spread
from rls_queries import Kind, Query
from rls_shapes import Shape
from rls_variants import Variant

# Issue 9's goals.
MAX_WHALE_ADDED_MS = 1.0  # skewed: every request of the largest tenant, over no RLS
MAX_FLAT_GROWTH_MS = 0.5  # skewed: added ms at the largest tenant over the smallest
MAX_WORKSPACE_RATIO = 1.2  # workspace-wide reads, over no RLS
MAX_SMALL_READ_ADDED_MS = 0.1  # even: reads of 100 rows or fewer, over no RLS


@dataclass(frozen=True)
class Verdict:
    shape: str
    goal: str
    query: str
    tenant: str
    value: str
    met: bool


@dataclass
class ScenarioResult:
    data: DataSet
    personas: list[Persona]
    queries: list[Query]
    variants: tuple[Variant, ...]
    shapes: tuple[Shape, ...]
    cells: dict[tuple[str, str, str], Cell]
    load: dict
    checks: dict
    measure_seconds: float
    triggers: dict | None = None  # the workspace triggers' cost per row (rls.measure_triggers)

    @property
    def skewed(self) -> bool:
        return len(self.personas) > 1

    def variant(self, name: str) -> Variant:
        return next(variant for variant in self.variants if variant.name == name)

    def spread(self, tenant: str, query: str, variant: str,
               measure: str = "planned_and_executed_ms") -> Spread | None:
        cell = self.cells[tenant, query, variant]
        samples = getattr(cell, measure)
        return None if cell.timed_out or not samples else Spread.of(samples)

    def added(self, tenant: str, query: str, variant: str) -> float | None:
        own = self.spread(tenant, query, variant)
        base = self.spread(tenant, query, self.variant(variant).baseline)
        return None if own is None or base is None else own.median - base.median

    def ratio(self, tenant: str, query: str, variant: str) -> float | None:
        own = self.spread(tenant, query, variant)
        base = self.spread(tenant, query, self.variant(variant).baseline)
        return None if own is None or base is None else own.median / base.median

    def verdicts(self) -> list[Verdict]:
        """Each shape against each goal that applies to each request."""
        out = []
        largest = max(self.personas, key=lambda persona: persona.jobs)
        smallest = min(self.personas, key=lambda persona: persona.jobs)
        for shape in self.shapes:
            for query in self.queries:
                if self.skewed:
                    out.extend(self._skewed_verdicts(shape.name, query, largest, smallest))
                else:
                    out.extend(self._even_verdicts(shape.name, query, largest))
        return out

    def _ratio_verdict(self, shape: str, query: Query, tenant: str, goal: str) -> Verdict:
        ratio = self.ratio(tenant, query.name, shape)
        if ratio is None:
            return Verdict(shape, goal, query.name, tenant, "timed out", False)
        return Verdict(shape, goal, query.name, tenant, f"{ratio:.2f}x",
                       ratio <= MAX_WORKSPACE_RATIO)

    def _added_verdict(self, shape: str, query: Query, tenant: str, goal: str,
                       limit: float) -> Verdict:
        added = self.added(tenant, query.name, shape)
        if added is None:
            return Verdict(shape, goal, query.name, tenant, "timed out", False)
        return Verdict(shape, goal, query.name, tenant, f"{added:+.3f} ms", added <= limit)

    def _skewed_verdicts(self, shape: str, query: Query, largest: Persona,
                         smallest: Persona) -> list[Verdict]:
        if query.kind is Kind.WORKSPACE_READ:
            return [self._ratio_verdict(shape, query, largest.tenant,
                                        f"largest tenant <= {MAX_WORKSPACE_RATIO}x no RLS")]
        verdicts = [self._added_verdict(shape, query, largest.tenant,
                                        f"largest tenant <= +{MAX_WHALE_ADDED_MS} ms",
                                        MAX_WHALE_ADDED_MS)]
        high = self.added(largest.tenant, query.name, shape)
        low = self.added(smallest.tenant, query.name, shape)
        goal = f"flat: {smallest.tenant} to {largest.tenant} grows <= {MAX_FLAT_GROWTH_MS} ms"
        if high is None or low is None:
            verdicts.append(Verdict(shape, goal, query.name, "", "timed out", False))
        else:
            verdicts.append(Verdict(shape, goal, query.name, "", f"{high - low:+.3f} ms",
                                    high - low <= MAX_FLAT_GROWTH_MS))
        return verdicts

    def _even_verdicts(self, shape: str, query: Query, persona: Persona) -> list[Verdict]:
        if query.kind is Kind.WORKSPACE_READ:
            return [self._ratio_verdict(shape, query, persona.tenant,
                                        f"workspace-wide <= {MAX_WORKSPACE_RATIO}x no RLS")]
        if query.kind is Kind.POINT_READ:
            return [self._added_verdict(shape, query, persona.tenant,
                                        f"<= 100 rows: <= +{MAX_SMALL_READ_ADDED_MS} ms",
                                        MAX_SMALL_READ_ADDED_MS)]
        return []


def _ms(value: float) -> str:
    size = abs(value)
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _signed(value: float) -> str:
    return ("+" if value >= 0 else "") + _ms(value)


def shape_cell(result: ScenarioResult, tenant: str, query: Query, variant: str) -> str:
    """'+0.091 ±0.004' (added ms, half the IQR of the variant's own samples), with the ratio
    for workspace-wide reads; 'timeout' when it ran past the statement timeout."""
    own = result.spread(tenant, query.name, variant)
    added = result.added(tenant, query.name, variant)
    if own is None or added is None:
        return "timeout"
    text = f"{_signed(added)} ±{_ms(own.iqr / 2)}"
    if query.kind is Kind.WORKSPACE_READ:
        text += f" ({result.ratio(tenant, query.name, variant):.2f}x)"
    return text


def baseline_cell(result: ScenarioResult, tenant: str, query: Query, variant: str) -> str:
    own = result.spread(tenant, query.name, variant)
    return "timeout" if own is None else f"{_ms(own.median)} ±{_ms(own.iqr / 2)}"


def table_rows(result: ScenarioResult) -> tuple[list[str], list[list[str]]]:
    """Header and rows: request, tenant, rows, the no-RLS medians, each shape's added ms."""
    baselines = [variant for variant in result.variants if variant.baseline is None]
    measured = [variant for variant in result.variants if variant.baseline is not None]
    header = ["request", "tenant", "rows", *(f"{v.label} ms" for v in baselines),
              *(v.label for v in measured)]
    rows = []
    for query in result.queries:
        for persona in result.personas:
            cell = result.cells[persona.tenant, query.name, "no_rls"]
            rows.append([
                query.name,
                f"{persona.tenant} ({persona.jobs:,} jobs)",
                str(cell.outcome.rows),
                *(baseline_cell(result, persona.tenant, query, v.name) for v in baselines),
                *(shape_cell(result, persona.tenant, query, v.name) for v in measured),
            ])
    return header, rows


def format_table(result: ScenarioResult) -> str:
    header, rows = table_rows(result)
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [f"scenario {result.data.name}: {result.data.items:,} items; planning + execution ms, "
           "median ±half IQR; shapes: added ms over no RLS (generated schema)"]
    for number, line in enumerate(lines):
        out.append("  ".join(
            value.ljust(widths[i]) if i < 2 else value.rjust(widths[i])
            for i, value in enumerate(line)
        ).rstrip())
        if number == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def format_goals(result: ScenarioResult) -> str:
    """Per shape: the goals it meets, and each miss with its figure."""
    out = [f"goals, scenario {result.data.name}:"]
    verdicts = result.verdicts()
    for shape in result.shapes:
        mine = [verdict for verdict in verdicts if verdict.shape == shape.name]
        missed = [verdict for verdict in mine if not verdict.met]
        met = len(mine) - len(missed)
        out.append(f"  {shape.label}: {met}/{len(mine)} met")
        for verdict in missed:
            where = f" at {verdict.tenant}" if verdict.tenant else ""
            out.append(f"    missed {verdict.goal}: {verdict.query}{where} {verdict.value}")
    return "\n".join(out)


def _cell_document(result: ScenarioResult, tenant: str, query: str, variant: str) -> dict:
    cell = result.cells[tenant, query, variant]
    document = {
        "sql": cell.statement,
        "rows": cell.outcome.rows if cell.outcome else None,
        "result_digest": cell.outcome.digest if cell.outcome else None,
        "timed_out": cell.timed_out,
        "plan": cell.plan_text,
    }
    for measure in ("planned_and_executed_ms", "execution_ms", "planning_ms", "wall_ms"):
        spread = result.spread(tenant, query, variant, measure)
        document[measure] = None if spread is None else asdict(spread) | {
            "samples": getattr(cell, measure)
        }
    return document


def scenario_document(result: ScenarioResult) -> dict:
    """Everything measured in one scenario, for the JSON file."""
    measured = [variant for variant in result.variants if variant.baseline is not None]
    return {
        "data": result.data.describe(),
        "load": result.load,
        "checks": result.checks,
        "personas": [persona.describe() for persona in result.personas],
        "shapes": {
            shape.name: {"label": shape.label, "summary": shape.summary,
                         "strategy": shape.strategy, "schema": shape.schema.name,
                         "schema_change": list(shape.schema.statements),
                         "policies": shape.policy_statements()}
            for shape in result.shapes
        },
        "variants": {variant.name: {"label": variant.label, "database": variant.database,
                                    "role": variant.role, "baseline": variant.baseline,
                                    "item_carries_workspace": variant.carried}
                     for variant in result.variants},
        "measure_seconds": result.measure_seconds,
        "table": format_table(result),
        "goals_text": format_goals(result),
        "goals": [asdict(verdict) for verdict in result.verdicts()],
        "triggers": result.triggers,
        "results": [
            {
                "tenant": persona.tenant,
                "jobs": persona.jobs,
                "query": query.name,
                "description": query.description,
                "kind": query.kind.value,
                "added_ms": {v.name: result.added(persona.tenant, query.name, v.name)
                             for v in measured},
                "ratio": {v.name: result.ratio(persona.tenant, query.name, v.name)
                          for v in measured},
                "variants": {v.name: _cell_document(result, persona.tenant, query.name, v.name)
                             for v in result.variants},
            }
            for query in result.queries
            for persona in result.personas
        ],
    }


def write_json(path: Path, document: dict) -> None:
    """Write through a temporary file and rename, so a crash never leaves half a result."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=2, default=str) + "\n")
    os.replace(temporary, path)
