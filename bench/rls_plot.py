"""Plot what each policy shape adds over no RLS against the tenant's size (skewed scenario).

One panel per request, tenant size (jobs) on a log x axis, added milliseconds (planning plus
execution, shape minus no RLS: service_role on the generated schema) on a symmetric-log y
axis, one line per shape, the +1 ms goal dashed; workspace-wide reads, whose rows grow with
the tenant, as the ratio to no RLS (goal 1.2x). Needs matplotlib (the ``bench`` extra).

    .venv/bin/python bench/rls_plot.py bench/results/rls-<date>.json [out.png]
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter  # noqa: E402

from rls_queries import Kind  # noqa: E402
from rls_report import MAX_WHALE_ADDED_MS as GOAL_MS  # noqa: E402
from rls_report import MAX_WORKSPACE_RATIO as GOAL_RATIO  # noqa: E402  (workspace-wide reads, as a ratio)

STYLES = {  # shape -> (colour, marker)
    "array": ("#d62728", "o"),
    "exists": ("#1f77b4", "s"),
    "in_select": ("#ff7f0e", "^"),
    "carried": ("#2ca02c", "D"),
    "carried_plain": ("#8c564b", "P"),
    "definer_bool": ("#9467bd", "v"),
}


def plot_document(document: dict, out: Path) -> Path | None:
    """Draw the skewed scenario of a results document; None when it has none."""
    scenario = document["scenarios"].get("skewed")
    if scenario is None:
        return None
    results = scenario["results"]
    queries = list(dict.fromkeys(result["query"] for result in results))
    shapes = [name for name, variant in scenario["variants"].items() if variant["baseline"]]
    labels = {name: scenario["variants"][name]["label"] for name in shapes}
    columns = 3
    rows = math.ceil(len(queries) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.3 * rows),
                                squeeze=False)
    sizes = sorted({result["jobs"] for result in results})
    for index, query in enumerate(queries):
        ax = axes[index // columns][index % columns]
        mine = sorted((r for r in results if r["query"] == query), key=lambda r: r["jobs"])
        as_ratio = mine[0]["kind"] == Kind.WORKSPACE_READ.value
        measure = "ratio" if as_ratio else "added_ms"
        for shape in shapes:
            points = [(r["jobs"], r[measure][shape]) for r in mine
                      if r[measure][shape] is not None]
            if not points:
                continue
            colour, marker = STYLES.get(shape, (None, "x"))
            ax.plot(*zip(*points), marker=marker, color=colour, label=labels[shape],
                    linewidth=1.6, markersize=5)
        ax.set_xscale("log")
        if as_ratio:
            ax.axhline(GOAL_RATIO, color="black", linestyle="--", linewidth=0.8)
            ax.set_yscale("log")
            ax.set_ylabel("RLS / no RLS")
        else:
            ax.axhline(GOAL_MS, color="black", linestyle="--", linewidth=0.8)
            ax.axhline(0, color="grey", linewidth=0.5)
            ax.set_yscale("symlog", linthresh=0.1)
            ax.set_ylim(-0.2, 2000)
            if index % columns == 0:
                ax.set_ylabel("added ms (RLS - no RLS)")
        ax.xaxis.set_major_locator(FixedLocator(sizes))
        ax.xaxis.set_minor_locator(FixedLocator([]))
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda value, _: f"{value / 1000:g}k" if value >= 1000 else f"{value:g}"))
        ax.set_title(f"{query}: {mine[0]['description']}", fontsize=9)
        ax.grid(True, which="major", linewidth=0.3)
        if index // columns == rows - 1 or index + columns >= len(queries):
            ax.set_xlabel("jobs in the tenant's workspace")
    for index in range(len(queries), rows * columns):
        axes[index // columns][index % columns].axis("off")
    handles, names = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, names, loc="lower center", ncol=len(names), fontsize=9,
                  frameon=False)
    figure.suptitle(
        "Skewed scenario: what each policy shape adds to a request over no RLS on the generated "
        f"schema\n(planning + execution, median); dashed: the goal (+{GOAL_MS:g} ms, or "
        f"{GOAL_RATIO:g}x)", fontsize=11)
    figure.tight_layout(rect=(0, 0.04, 1, 0.96))
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    source = Path(argv[0])
    out = Path(argv[1]) if len(argv) == 2 else source.with_suffix(".png")
    written = plot_document(json.loads(source.read_text()), out)
    if written is None:
        print(f"{source}: no skewed scenario to plot", file=sys.stderr)
        return 1
    print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
