"""Generation time for synthetic projects of growing size: it should grow linearly.

Builds projects of 50 to 300 tables (a third of them parent-join children with a
same-workspace reference) and times, side by side in one run:

- first: a new project's first ``tenantspec generate`` (load → render → verify → write);
- change: ``tenantspec generate`` after one spec changes (a column added to one table), which
  replays the whole history and a fresh render, plans, and checks the plan by replaying it;
- up to date: ``tenantspec generate`` with nothing pending.

It prints seconds, milliseconds per table and the growth ratios of each.

    .venv/bin/python bench/generate.py [--sizes 50,100,200,300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from tenantspec.plan.pipeline import plan_project, write_outputs

ROOT = Path(__file__).resolve().parents[1]

PARENT = """table: {name}
comment: Synthetic parent table {i}.
columns:
  id: {{type: uuid, primary_key: true, default: gen_random_uuid()}}
  workspace_id: {{type: uuid, not_null: true, references: {{table: workspaces, on_delete: cascade}}}}
  status: {{type: text, not_null: true, default: "'new'", one_of: [new, done, failed]}}
  title: {{type: text}}
  amount: {{type: integer, not_null: true, default: 0}}
  payload: {{type: jsonb}}
  created_at: {{type: timestamptz, not_null: true, default: now()}}
  updated_at: {{type: timestamptz, not_null: true, default: now()}}
indexes:
  - columns: [workspace_id, status]
tenancy: {{column: workspace_id}}
access: {{select: member, insert: member, update: member, delete: admin}}
triggers:
  - {{name: set_updated_at, timing: before, events: [update], function: update_updated_at_column}}
"""

CHILD = """table: {name}
columns:
  id: {{type: uuid, primary_key: true, default: gen_random_uuid()}}
  parent_id: {{type: uuid, not_null: true, references: {{table: {parent}, on_delete: cascade}}}}
  order_id: {{type: uuid, not_null: true, references: {{table: orders, same_workspace: true}}}}
  status: {{type: text, not_null: true, default: "'pending'"}}
  note: {{type: text}}
  created_at: {{type: timestamptz, not_null: true, default: now()}}
unique:
  - [parent_id, order_id]
indexes:
  - columns: [order_id]
  - columns: [workspace_id, status]
tenancy: {{parent: parent_id}}
access: {{select: member, insert: member, update: member, delete: nobody}}
realtime: true
"""


def make_project(root: Path, tables: int) -> None:
    schema = root / "schema"
    schema.mkdir(parents=True)
    project = (ROOT / "schema" / "project.yaml").read_text()
    project = project[: project.index("\nmigrations:")] + "\nmigrations:\n"
    for i in range(0, tables, 3):
        parent = f"parent_{i:04d}"
        names = [parent] + [f"child_{j:04d}" for j in (i + 1, i + 2) if j < tables]
        (schema / f"{parent}.yaml").write_text(PARENT.format(name=parent, i=i))
        for child in names[1:]:
            (schema / f"{child}.yaml").write_text(CHILD.format(name=child, parent=parent))
        project += f'  - {{version: "2026{i:010d}", name: {parent}, tables: [{", ".join(names)}]}}\n'
    (schema / "project.yaml").write_text(project)


def time_generation(tables: int, repeat: int) -> dict[str, float]:
    """Median seconds of the first generation, a one-column change, and an up-to-date run."""
    samples: dict[str, list[float]] = {"first": [], "change": [], "up to date": []}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            make_project(root, tables)
            start = time.perf_counter()
            write_outputs(root, plan_project(root).outputs)
            samples["first"].append(time.perf_counter() - start)
            spec = root / "schema" / "parent_0000.yaml"
            spec.write_text(spec.read_text().replace("  payload:", "  notes: {type: text}\n  payload:"))
            start = time.perf_counter()
            generation = plan_project(root, "add_notes")
            write_outputs(root, generation.outputs)
            samples["change"].append(time.perf_counter() - start)
            assert len(generation.migrations) == 1
            del generation  # each command runs in a process of its own: the next timing starts empty
            start = time.perf_counter()
            assert not plan_project(root).migrations
            samples["up to date"].append(time.perf_counter() - start)
            shutil.rmtree(root / "supabase")
    return {kind: statistics.median(values) for kind, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,100,200,300")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    time_generation(sizes[0], 1)  # warm imports and caches
    results = [(n, time_generation(n, args.repeat)) for n in sizes]
    base_n, base = results[0]
    for kind in base:
        print(f"\n{kind}")
        print(f"{'tables':>6} {'seconds':>8} {'ms/table':>9} {'time ratio':>10} {'size ratio':>10}")
        for n, times in results:
            t = times[kind]
            print(f"{n:>6} {t:>8.3f} {1000 * t / n:>9.2f} {t / base[kind]:>10.2f} {n / base_n:>10.2f}")
    print("\nlinear growth keeps ms/table flat and time ratio close to size ratio")


if __name__ == "__main__":
    main()
