"""The adoption path on real projects, as a new user runs it, per app: a gate for CI and the
figures for the notes.

For each FOLDER (a corpus app holding ``migrations/``, a project holding
``supabase/migrations``, or a folder of migrations), on a copy:

1. ``tenantspec adopt --init`` writes schema/project.yaml (``--project FILE``, or a
   project.yaml beside the migrations, is used instead). Where the app has a TENANCY.md, the
   membership table it names is compared with the one init chose ("init right");
2. ``tenantspec adopt`` with no table names: every table whose workspace or user it can
   trace; the others stay hand-written;
3. policies mapped onto levels = the adopted tables' policies minus those kept as written;
4. ``tenantspec diff``, ``tenantspec generate`` (no --allow-narrowing), ``tenantspec db
   apply`` on the stand-in, and a second ``generate``, which must write nothing;
5. with ``--observe``: ``tenantspec prove --observe-change`` on the correction generate wrote:
   the chain without it and with it observed by the proof's probes, every cell (table, command,
   persona, workspace) counted lost (by members or the service: a narrowing the access model
   missed), closed (to people outside the workspace) or gained.

    .venv/bin/python bench/corpus_gate.py ../shared/corpus/* [--project FILE] [--gate] [--observe]

Prints one line per app and the totals. With ``--gate`` it exits 1 on a traceback, on a spec
the loader refuses and on a correction refused because it takes access away from members;
other stops (no membership table found, a migration the stand-in cannot apply) are reported,
not failed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from tenantspec.adopt.tables import replayed
from tenantspec.spec.load import load_project

NARROWING = "take access away from members"
LOADER_REFUSAL = re.compile(r"^schema/[^:]+\.yaml:\d+:\d+: ", re.M)
STEP_TIMEOUT = 600


@dataclass
class App:
    name: str
    crashes: int = 0
    init: str = "-"  # right, wrong (…), refused (…), given
    stopped: str | None = None
    tables: int = 0
    left_out: int = 0
    policies: int = 0
    kept: int = 0
    steps: dict[str, str] = field(default_factory=dict)
    refused_specs: int = 0
    narrowings: int = 0
    observed: str = ""  # --observe: what prove --observe-change found
    lost_cells: int = 0
    reasons: Counter = field(default_factory=Counter)  # why policies stay as written, by kind

    @property
    def mapped(self) -> int:
        return self.policies - self.kept


def tenantspec(root: Path, *args: str) -> tuple[int, str]:
    try:
        done = subprocess.run([sys.executable, "-m", "tenantspec", "--root", str(root), *args],
                              capture_output=True, text=True, timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        return 124, f"timed out after {STEP_TIMEOUT} s"
    return done.returncode, done.stdout + done.stderr


def crashed(output: str) -> bool:
    return "Traceback (most recent call last)" in output or "internal error" in output


def last_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def membership_named(tenancy_md: Path) -> str | None:
    """The membership table an app's TENANCY.md names first."""
    text = tenancy_md.read_text(encoding="utf-8")
    found = re.search(r"Membership[^`]*`([^`(]+)", text)
    return found.group(1).strip().split(".")[-1].strip('"') if found else None


def migrations_of(folder: Path) -> Path:
    for candidate in (folder / "migrations", folder / "supabase" / "migrations"):
        if candidate.is_dir():
            return candidate
    return folder


def measure(folder: Path, project: Path | None, work: Path, observe: bool = False) -> App:
    source = migrations_of(folder)
    app = App(folder.name if source != folder else folder.parent.name)
    root = work / app.name
    (root / "supabase" / "migrations").mkdir(parents=True)
    for file in source.glob("*.sql"):  # contents only: the corpus may be read-only, the copy is not
        shutil.copyfile(file, root / "supabase" / "migrations" / file.name)
    (root / "schema").mkdir()
    beside = source.parent / "project.yaml"
    project = project or (beside if beside.is_file() else None)
    if project is not None:
        shutil.copy(project, root / "schema" / "project.yaml")
        app.init = "given"
    else:
        code, output = tenantspec(root, "adopt", "--init")
        app.crashes += crashed(output)
        if code != 0:
            app.init, app.stopped = "refused", last_line(output)
            return app
        expected = membership_named(folder / "TENANCY.md") if (folder / "TENANCY.md").is_file() else None
        members = load_project(root).tenancy.members.table
        chosen = members.name if members else "(the token's claims)"
        app.init = "chosen" if expected is None else "right" if chosen == expected else \
            f"wrong ({chosen}, TENANCY.md says {expected})"
    code, output = tenantspec(root, "adopt")
    app.crashes += crashed(output)
    app.left_out = len(set(re.findall(r"(\S+) stays hand-written", output)))
    app.reasons = kept_reasons(output)
    if code != 0:
        app.stopped = "adopt: " + last_line(output)
        return app
    spec = load_project(root)
    state = replayed(root, passed_over=[])["legacy"]  # as adopt read it
    app.tables = len(spec.tables)
    app.policies = sum(len(state.tables[(spec.schema, name)].policies) for name in spec.tables
                       if (spec.schema, name) in state.tables)
    app.kept = sum(len(YAML(typ="safe").load((root / "schema" / f"{name}.yaml").read_text()).get("policies") or [])
                   for name in spec.tables)
    for step, args in (("diff", ("diff",)), ("generate", ("generate",)), ("apply", ("db", "apply")),
                       ("again", ("generate",))):
        code, output = tenantspec(root, *args)
        app.crashes += crashed(output)
        if step == "diff":
            app.steps[step] = "ok" if code in (0, 1) else last_line(output)
            ok = code in (0, 1)
        else:
            app.steps[step] = "ok" if code == 0 else last_line(output)
            ok = code == 0
        if NARROWING in output:
            app.narrowings += len(re.findall(r" would lose ", output))
        if not ok and LOADER_REFUSAL.search(output) and NARROWING not in output:
            app.refused_specs += 1
        if step == "again" and code == 0 and "up to date" not in output:
            app.steps[step] = "wrote again"
        if not ok:
            break
    if observe and app.steps.get("again") == "ok":
        code, output = tenantspec(root, "prove", "--observe-change")
        app.crashes += crashed(output)
        counts = re.search(r"changes \d+ observed cells: (\d+) lost by members or the service, (\d+) closed to "
                           r"people outside the workspace, (\d+) gained", output)
        if counts:
            app.lost_cells = int(counts.group(1))
            app.observed = (f"observed {counts.group(1)} cells lost by members, {counts.group(2)} closed to "
                            f"outsiders, {counts.group(3)} gained")
        elif "changes no observed cell" in output:
            app.observed = "observed no cell changed"
        else:
            app.observed = "not observed: " + last_line(output)
    return app


KEPT_REASONS = (  # (kind, pattern of adopt's note)
    ("lets in people outside the workspace", r"kept its policies as written \(it lets in people outside"),
    ("names a user column besides the row's user", r"kept its policies as written \(its policies name the row's user in"),
    ("admits roles no level names", r"kept its policies as written \(it admits roles"),
    ("a helper or condition not read", r"cannot read "),
    ("a restrictive policy", r"a restrictive policy \(it narrows"),
    ("other", r"kept its policies as written \("),
)


def kept_reasons(output: str) -> Counter:
    """adopt's notes on policies kept as written, by kind: one per note (a command's policies,
    or one policy)."""
    found: Counter = Counter()
    for note in output.splitlines():
        kind = next((kind for kind, pattern in KEPT_REASONS if re.search(pattern, note)), None)
        if kind is not None:
            found[kind] += 1
    return found


def line(app: App) -> str:
    head = f"{app.name}: init {app.init}"
    if app.stopped:
        return f"{head}; stopped: {app.stopped}" + (f"; {app.crashes} crash(es)" if app.crashes else "")
    share = f" ({100 * app.mapped / app.policies:.0f}%)" if app.policies else ""
    return (f"{head}; {app.tables} tables adopted, {app.left_out} left hand-written; policies mapped "
            f"{app.mapped}/{app.policies}{share}, kept {app.kept}; "
            + ", ".join(f"{k} {v}" for k, v in app.steps.items())
            + (f"; {app.observed}" if app.observed else "")
            + (f"; {app.narrowings} narrowing(s)" if app.narrowings else "")
            + (f"; {app.refused_specs} refused spec(s)" if app.refused_specs else "")
            + (f"; {app.crashes} crash(es)" if app.crashes else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--project", type=Path, help="project.yaml to use instead of adopt --init")
    parser.add_argument("--gate", action="store_true",
                        help="exit 1 on a traceback, a refused spec or a narrowing")
    parser.add_argument("--observe", action="store_true",
                        help="observe each correction's change of access with the proof's probes (slow)")
    args = parser.parse_args(argv)
    apps = []
    with tempfile.TemporaryDirectory() as work:
        for folder in args.folders:
            if not folder.is_dir():
                continue
            try:
                app = measure(folder.resolve(), args.project, Path(work), args.observe)
            except Exception as error:  # the gate reports a crash of its own steps too
                app = App(folder.name, crashes=1, stopped=f"the gate's own step: {type(error).__name__}: {error}"[:200])
            apps.append(app)
            print(line(app), flush=True)
    policies = sum(a.policies for a in apps)
    mapped = sum(a.mapped for a in apps)
    crashes, refused, narrowings = (sum(a.crashes for a in apps), sum(a.refused_specs for a in apps),
                                    sum(a.narrowings for a in apps))
    inits = [a for a in apps if a.init not in ("-", "given")]
    right = sum(a.init in ("right", "chosen") for a in inits)
    share = f"{100 * mapped / policies:.0f}%" if policies else "-"
    print(f"total: {len(apps)} apps; init right {right}/{len(inits)}; tables adopted {sum(a.tables for a in apps)}; "
          f"policies mapped {mapped}/{policies} ({share}), kept {sum(a.kept for a in apps)}; "
          f"narrowings {narrowings}; refused specs {refused}; crashes {crashes}")
    if args.observe:
        seen = [a for a in apps if a.observed and not a.observed.startswith("not")]
        print(f"observed: {len(seen)} apps' corrections, {sum(a.lost_cells for a in apps)} cells lost by members "
              "or the service")
    reasons = sum((a.reasons for a in apps), Counter())
    if reasons:
        print("kept as written, by adopt's notes: " + "; ".join(f"{kind} {n}" for kind, n in reasons.most_common()))
    narrowings += sum(a.lost_cells for a in apps)
    if args.gate and (crashes or refused or narrowings):
        print("gate: FAILED (tracebacks, refused specs or narrowings above)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
