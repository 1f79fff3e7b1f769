"""Where `make test`'s time goes: the suite run as `make test` runs it (one worker per core),
every test's setup, call and teardown timed by pytest, summed per part of the suite, each part's
share printed beside the wall-clock total measured in the same run.

    .venv/bin/python bench/test_time.py [--workers N] [--top K] [-- PYTEST ARGS]
    .venv/bin/python bench/test_time.py --against REV [--rounds N]

With ``--against``, the suite of REV (checked out in a temporary worktree) and the working
tree's run in turns, ``--rounds`` times each, and the ratio of their wall clocks is printed:
on a shared machine only figures measured side by side compare.

Parts are the folders of tests/ (the policy proof, adoption, change cases, ...); setup time
(servers, template databases, worlds) is shown apart from the tests' own calls, since it is
what sharing between tests can cut. The sum of the parts exceeds the wall clock by about the
number of workers: they run side by side.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^(?P<seconds>[0-9.]+)s (?P<phase>setup|call|teardown)\s+(?P<test>\S+)")
SUMMARY = re.compile(r"(?P<text>[0-9]+ passed[^=]*?) in (?P<seconds>[0-9.]+)s")


def part_of(test: str) -> str:
    path = test.split("::")[0]
    parts = Path(path).parts
    return "/".join(parts[:2]) if parts and parts[0] == "tests" else path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="auto", help="pytest-xdist workers (default: auto, as make test)")
    parser.add_argument("--top", type=int, default=12, help="slowest tests to list")
    parser.add_argument("--against", metavar="REV", help="compare with the suite at git revision REV")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side with --against")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    if args.against:
        return compare(args)
    command = [sys.executable, "-m", "pytest", "-n", args.workers, "--maxprocesses=4", "--durations=0",
               "--durations-min=0", "-q", *args.pytest_args]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=suite_env())
    wall = time.perf_counter() - started
    by_part: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    tests: dict[str, float] = defaultdict(float)
    for line in result.stdout.splitlines():
        match = LINE.match(line)
        if match:
            seconds = float(match["seconds"])
            by_part[part_of(match["test"])][match["phase"]] += seconds
            tests[match["test"]] += seconds
    summary = next((m for m in map(SUMMARY.search, result.stdout.splitlines()) if m), None)
    total = sum(sum(p.values()) for p in by_part.values()) or 1.0
    print(f"make test as run here: {wall:.1f} s wall clock, "
          f"pytest says {summary['text'] + ' in ' + summary['seconds'] + ' s' if summary else 'nothing'}")
    print(f"time summed over tests: {total:.1f} s ({total / wall:.2f}x the wall clock: workers side by side)")
    print(f"\n{'part':<28}{'setup':>9}{'call':>9}{'teardown':>10}{'share':>8}")
    for part, phases in sorted(by_part.items(), key=lambda item: -sum(item[1].values())):
        spent = sum(phases.values())
        print(f"{part:<28}{phases['setup']:>8.1f}s{phases['call']:>8.1f}s{phases['teardown']:>9.1f}s"
              f"{spent / total:>7.0%}")
    print(f"\nslowest {args.top} tests (setup + call + teardown):")
    for test, seconds in sorted(tests.items(), key=lambda item: -item[1])[:args.top]:
        print(f"  {seconds:6.1f}s  {test}")
    return result.returncode


def suite_env() -> dict[str, str]:
    """The environment make test runs the suite in (bytecode written, as a second run finds it)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed_run(root: Path, workers: str, pytest_args: list[str]) -> tuple[float, str]:
    """One run of the suite in ``root`` (its own package code first on the path): wall clock, summary."""
    env = suite_env()
    env["PYTHONPATH"] = str(root / "generator")
    command = [sys.executable, "-m", "pytest", "-n", workers, "--maxprocesses=4", "-q", "-p", "no:cacheprovider",
               *pytest_args]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    summary = next((m["text"] for m in map(SUMMARY.search, result.stdout.splitlines()) if m), "no summary")
    return wall, summary if result.returncode == 0 else f"FAILED ({summary})"


def compare(args) -> int:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tenantspec_bench_") as scratch:
        other = Path(scratch) / "other"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(other), args.against], cwd=ROOT, check=True)
        try:
            walls: dict[str, list[float]] = {args.against: [], "working tree": []}
            for round_ in range(1, args.rounds + 1):
                for label, root in ((args.against, other), ("working tree", ROOT)):
                    wall, summary = timed_run(root, args.workers, args.pytest_args)
                    walls[label].append(wall)
                    print(f"round {round_}: {label:<14} {wall:6.1f} s  {summary}", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT, check=False)
    before, after = (min(walls[k]) for k in (args.against, "working tree"))
    print(f"\nbest of {args.rounds}: {args.against} {before:.1f} s, working tree {after:.1f} s: "
          f"{after / before:.2f}x the time ({before / after:.2f}x as fast)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
