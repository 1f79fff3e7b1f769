"""Where `make test`'s time goes: the suite run as `make test` runs it (one worker per core),
every test's setup, call and teardown timed by pytest, summed per part of the suite, each part's
share printed beside the wall-clock total measured in the same run.

    .venv/bin/python bench/test_time.py [--workers N] [--top K] [-- PYTEST ARGS]

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
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    command = [sys.executable, "-m", "pytest", "-n", args.workers, "--maxprocesses=4", "--durations=0",
               "--durations-min=0", "-q", *args.pytest_args]
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as make test runs it
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
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


if __name__ == "__main__":
    sys.exit(main())
