"""The proof and `generate` at the sizes real apps have: 3, 30 and 100 tables, side by side.

Each project is built as a user builds one: ``tenantspec init``, then synthetic table specs (a
third with a workspace column of their own, the rest parent-join children of them, access levels
varied), ``tenantspec generate``, and the intent block the first failing ``tenantspec prove``
prints pasted under ``tables:``. Then, in one run:

- ``tenantspec prove``: wall clock, the proof's own phases (probe run, probe planning, random
  sequences, server and templates, as its summary prints them) and the peak memory of the
  process running pytest;
- ``tenantspec generate`` with nothing pending, on the proof's sizes and on 300 tables.

It prints the figures, the cost of each size as a ratio to the previous one beside the ratio of
their tables (linear growth keeps the two close), writes them to ``bench/results`` as JSON and
plots time and memory against tables (with matplotlib, the ``bench`` extra).

    .venv/bin/python bench/proof_scale.py [--sizes 3,30,100] [--generate-sizes 300] [--rounds 1]
    .venv/bin/python bench/proof_scale.py --against REV   # the same, REV's code and this tree's in turns

With ``--against``, REV is checked out in a temporary worktree and each measurement runs once
with its code and once with this tree's, one after the other, so the two compare on a shared
machine.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

LEVELS = [  # (select, insert, update, delete), varied across the tables
    ("member", "member", "member", "admin"),
    ("member", "admin", "admin", "admin"),
    ("member", "member", "member", "nobody"),
]
DIRECT = """table: {name}
comment: Synthetic table {name}, with a workspace column.
columns:
  id: {{type: uuid, primary_key: true, default: gen_random_uuid()}}
  workspace_id: {{type: uuid, not_null: true, references: {{table: workspaces, on_delete: cascade}}}}
  status: {{type: text, not_null: true, default: "'new'", one_of: [new, done, failed]}}
  title: {{type: text}}
  amount: {{type: integer, not_null: true, default: 0}}
  created_at: {{type: timestamptz, not_null: true, default: now()}}
indexes:
  - columns: [workspace_id, status]
tenancy: {{column: workspace_id}}
access: {{select: {a[0]}, insert: {a[1]}, update: {a[2]}, delete: {a[3]}}}
"""
CHILD = """table: {name}
comment: Synthetic child of {parent}.
columns:
  id: {{type: uuid, primary_key: true, default: gen_random_uuid()}}
  parent_id: {{type: uuid, not_null: true, references: {{table: {parent}, on_delete: cascade}}}}
  note: {{type: text}}
  created_at: {{type: timestamptz, not_null: true, default: now()}}
tenancy: {{parent: parent_id}}
access: {{select: {a[0]}, insert: {a[1]}, update: {a[2]}, delete: {a[3]}}}
"""
PASTED = re.compile(r"^(  [a-z0-9_]+:|    (# .*|(select|insert|update|delete): \{.*\}))$")
PROBES = re.compile(r"^tenantspec: (?P<probes>\d+) probes in (?P<seconds>[0-9.]+)s")
TIMINGS = re.compile(r"^tenantspec: server start ")
PASSED = re.compile(r"(?P<passed>\d+) passed")


def run(command: list[str], cwd: Path, env: dict) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run ``command``; its result, wall seconds and peak resident memory (MB) of the process."""
    started = time.perf_counter()
    with subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as process:
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    return subprocess.CompletedProcess(command, process.returncode, output), wall, usage.ru_maxrss / 1024


def tenantspec(code: Path | None) -> tuple[list[str], dict]:
    """The command line and environment that run tenantspec from ``code`` (a checkout's
    ``generator`` folder), or from this tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(code or ROOT / "generator")
    env.pop("DATABASE_URL", None)
    return [sys.executable, "-m", "tenantspec"], env


def build(root: Path, tables: int, code: Path | None) -> None:
    """A project as a user makes one: init, specs, generate, the printed intent pasted."""
    command, env = tenantspec(code)
    root.mkdir(parents=True)
    result, _, _ = run([*command, "init"], root, env)
    if result.returncode:
        raise SystemExit(f"init failed in {root}:\n{result.stdout}")
    schema = root / "schema"
    parent = None
    for i in range(1, tables):  # init's first table is the first of them
        name = f"table_{i:03d}"
        levels = LEVELS[i % len(LEVELS)]
        if i % 3 == 1:
            parent = name
            (schema / f"{name}.yaml").write_text(DIRECT.format(name=name, a=levels))
        else:
            (schema / f"{name}.yaml").write_text(CHILD.format(name=name, parent=parent, a=levels))
    result, _, _ = run([*command, "generate"], root, env)
    if result.returncode:
        raise SystemExit(f"generate failed in {root}:\n{result.stdout}")
    if tables > 1:
        result, _, _ = run([*command, "prove", "--", "-x", "-q"], root, env)
        block = [line for line in result.stdout.splitlines() if PASTED.match(line)]
        if not block:
            raise SystemExit(f"prove printed no intent to paste in {root}:\n{result.stdout[-3000:]}")
        intent = root / "tests" / "access_intent.yaml"
        intent.write_text(intent.read_text().rstrip("\n") + "\n" + "\n".join(block) + "\n")


def prove(root: Path, code: Path | None) -> dict:
    command, env = tenantspec(code)
    result, wall, peak = run([*command, "prove", "--", "-q"], root, env)
    lines = result.stdout.splitlines()
    if result.returncode:
        raise SystemExit(f"the proof failed in {root}:\n" + "\n".join(lines[-60:]))
    figures = {"wall": wall, "peak_mb": peak}
    for line in lines:
        if match := PROBES.match(line):
            figures["probes"] = int(match["probes"])
            figures["probe run"] = float(match["seconds"])
        elif TIMINGS.match(line):
            for part in line.removeprefix("tenantspec: ").split(", "):
                name, _, seconds = part.rstrip().removesuffix(" (slowest of 2 workers)").rpartition(" ")
                figures[name] = float(seconds.rstrip("s"))
        elif match := PASSED.search(line):
            figures["passed"] = int(match["passed"])
    return figures


def generate_noop(root: Path, code: Path | None, rounds: int) -> float:
    """Median wall seconds of ``tenantspec generate`` with nothing pending."""
    command, env = tenantspec(code)
    samples = []
    for _ in range(rounds):
        result, wall, _ = run([*command, "generate"], root, env)
        if result.returncode or "up to date" not in result.stdout:
            raise SystemExit(f"generate was not a no-op in {root}:\n{result.stdout}")
        samples.append(wall)
    return statistics.median(samples)


def measure(sizes: list[int], generate_sizes: list[int], rounds: int, codes: dict[str, Path | None],
            work: Path) -> dict:
    results: dict[str, dict] = {label: {"proof": {}, "generate": {}} for label in codes}
    for tables in sorted(set(sizes) | set(generate_sizes)):
        for label, code in codes.items():
            root = work / f"{label}-{tables}"
            build(root, tables, code)
            if tables in sizes:
                samples = [prove(root, code) for _ in range(rounds)]
                best = min(samples, key=lambda s: s["wall"])
                results[label]["proof"][tables] = best
                print(f"{label:>8} {tables:>4} tables: proof {best['wall']:.1f}s, {best.get('probes', 0)} probes "
                      f"in {best.get('probe run', 0):.1f}s, peak {best['peak_mb']:.0f} MB", flush=True)
            results[label]["generate"][tables] = generate_noop(root, code, max(rounds, 3))
            print(f"{label:>8} {tables:>4} tables: no-op generate {results[label]['generate'][tables]:.2f}s",
                  flush=True)
    return results


def report(results: dict) -> None:
    phases = ["wall", "probe run", "probe planning", "random sequences (legacy)", "server start", "peak_mb"]
    for label, figures in results.items():
        proof = figures["proof"]
        print(f"\n{label}: the proof")
        print(f"{'tables':>6} {'probes':>7} " + " ".join(f"{p[:18]:>18}" for p in phases) + f" {'time ratio':>10} "
              f"{'size ratio':>10}")
        previous = None
        for tables, f in sorted(proof.items()):
            ratios = ("", "")
            if previous is not None:
                ratios = (f"{f['wall'] / proof[previous]['wall']:.2f}", f"{tables / previous:.2f}")
            print(f"{tables:>6} {f.get('probes', 0):>7} " + " ".join(f"{f.get(p, 0):>18.2f}" for p in phases)
                  + f" {ratios[0]:>10} {ratios[1]:>10}")
            previous = tables
        print(f"\n{label}: no-op generate")
        for tables, seconds in sorted(figures["generate"].items()):
            print(f"{tables:>6} tables {seconds:>6.2f}s {1000 * seconds / tables:>7.1f} ms/table")
    labels = list(results)
    if len(labels) == 2:
        old, new = labels
        print(f"\n{new} against {old}, measured in turns (time ratio new/old):")
        for tables in sorted(results[new]["proof"]):
            a, b = results[old]["proof"][tables], results[new]["proof"][tables]
            print(f"  proof {tables:>4} tables: {b['wall'] / a['wall']:.2f}  (memory {b['peak_mb'] / a['peak_mb']:.2f})")
        for tables in sorted(results[new]["generate"]):
            a, b = results[old]["generate"][tables], results[new]["generate"][tables]
            print(f"  no-op generate {tables:>4} tables: {b / a:.2f}")


def plot(results: dict, out: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        print("no plot: matplotlib is not installed (pip install -e '.[bench]')")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 4.2))
    for label, figures in results.items():
        proof = sorted(figures["proof"].items())
        tables = [t for t, _ in proof]
        left.plot(tables, [f["wall"] for _, f in proof], marker="o", label=f"{label}: proof")
        left.plot(tables, [f.get("probe run", 0) for _, f in proof], marker=".", linestyle="--",
                  label=f"{label}: probe run")
        middle.plot(tables, [f["peak_mb"] for _, f in proof], marker="o", label=label)
        generate = sorted(figures["generate"].items())
        right.plot([t for t, _ in generate], [s for _, s in generate], marker="o", label=label)
    left.axhline(120, color="grey", linestyle=":", label="100 tables: 120 s")
    right.axhline(1, color="grey", linestyle=":", label="300 tables: 1 s")
    left.set(title="tenantspec prove", xlabel="tables", ylabel="seconds")
    middle.set(title="peak memory of the proof", xlabel="tables", ylabel="MB")
    right.set(title="no-op tenantspec generate", xlabel="tables", ylabel="seconds")
    for axis in (left, middle, right):
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
        axis.set_xlim(left=0)
        axis.set_ylim(bottom=0)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="3,30,100", help="tables of the projects proved")
    parser.add_argument("--generate-sizes", default="300", help="further sizes for the no-op generate only")
    parser.add_argument("--rounds", type=int, default=1, help="proof runs per size (the fastest is kept)")
    parser.add_argument("--against", metavar="REV", help="measure REV's code and this tree's in turns")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    generate_sizes = [int(s) for s in args.generate_sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="tenantspec-scale-") as tmp:
        work = Path(tmp)
        codes: dict[str, Path | None] = {}
        if args.against:
            checkout = work / "against"
            subprocess.run(["git", "worktree", "add", "--detach", str(checkout), args.against], cwd=ROOT,
                           check=True, capture_output=True)
            codes[args.against] = checkout / "generator"
        codes["tree"] = None
        try:
            results = measure(sizes, generate_sizes, args.rounds, codes, work)
        finally:
            if args.against:
                subprocess.run(["git", "worktree", "remove", "--force", str(work / "against")], cwd=ROOT,
                               capture_output=True)
    report(results)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.date.today().isoformat()
    data = {"date": stamp, "cores": os.cpu_count(), "results": results}
    (RESULTS / f"proof-scale-{stamp}.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    plot(results, RESULTS / f"proof-scale-{stamp}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
