"""How much of a real project `tenantspec adopt` maps onto the vocabulary, and whether the
correction it leads to is safe: run as a new user would, on copies of migration folders.

For each FOLDER (a folder of migrations, or a project holding supabase/migrations):

1. ``tenantspec adopt --init`` writes schema/project.yaml (``--project FILE``, or a
   project.yaml beside the migrations folder, is used instead); a folder with no membership
   table is reported and skipped;
2. ``tenantspec adopt`` on every table of the project schema with row-level security other
   than the tenant and membership tables (tables with neither a workspace nor a user are
   reported and left out);
3. policies mapped onto levels = the adopted tables' policies minus those the specs keep as
   written;
4. ``tenantspec generate`` (without --allow-narrowing: a refusal means a membership role
   would lose a command), ``tenantspec db apply`` on the stand-in, and a second
   ``generate``, which must write nothing.

    .venv/bin/python bench/adopt_coverage.py ../shared/corpus/*/migrations [--project FILE]

Prints one line per folder and the totals; tracebacks and internal errors are counted.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ruamel.yaml import YAML
from tenantspec.plan.history import read_history
from tenantspec.plan.pipeline import current_state
from tenantspec.spec.load import load_project

NOT_A_WORKSPACE_TABLE = re.compile(r"public\.(\w+): no column references")


def tenantspec(root: Path, *args: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "tenantspec", "--root", str(root), *args],
                          capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def crashed(output: str) -> bool:
    return "Traceback (most recent call last)" in output or "internal error" in output


def measure(folder: Path, project: Path | None, work: Path) -> dict:
    source = folder / "supabase" / "migrations" if (folder / "supabase" / "migrations").is_dir() else folder
    root = work / (folder.parent.name if folder.name == "migrations" else folder.name)
    shutil.copytree(source, root / "supabase" / "migrations")
    (root / "schema").mkdir()
    result = {"name": root.name, "crashes": 0}
    beside = source.parent / "project.yaml"
    project = project or (beside if beside.is_file() else None)
    if project is not None:
        shutil.copy(project, root / "schema" / "project.yaml")
    else:
        code, output = tenantspec(root, "adopt", "--init")
        result["crashes"] += crashed(output)
        if code != 0:
            result["skipped"] = output.strip().splitlines()[-1][:160]
            return result
    spec = load_project(root)
    state = current_state(read_history(root))["legacy"]
    skip = {spec.tenancy.workspaces.name, spec.tenancy.members.table.name}
    tables = sorted(t.name for key, t in state.tables.items()
                    if key[0] == spec.schema and t.rls and not t.external and t.name not in skip)
    left_out: list[str] = []
    while True:
        code, output = tenantspec(root, "adopt", "--force", *tables)
        result["crashes"] += crashed(output)
        found = set(NOT_A_WORKSPACE_TABLE.findall(output)) & set(tables) if code else set()
        if not found:
            break
        left_out += sorted(found)
        tables = [t for t in tables if t not in found]
    if code != 0:
        result["adopt"] = output.strip().splitlines()[-1][:200]
        return result
    total = sum(len(state.tables[(spec.schema, name)].policies) for name in tables)
    kept = sum(len(YAML(typ="safe").load((root / "schema" / f"{name}.yaml").read_text()).get("policies") or [])
               for name in tables)
    result.update(tables=len(tables), left_out=left_out, policies=total, kept=kept)
    steps = {}
    for step, args in (("generate", ("generate",)), ("apply", ("db", "apply")), ("again", ("generate",))):
        code, output = tenantspec(root, *args)
        result["crashes"] += crashed(output)
        steps[step] = "ok" if code == 0 else output.strip().splitlines()[-1][:160]
        if step == "again" and code == 0 and "up to date" not in output:
            steps[step] = "wrote again"
        if code != 0:
            break
    result["steps"] = steps
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--project", type=Path, help="project.yaml to use instead of adopt --init")
    args = parser.parse_args()
    totals = {"policies": 0, "kept": 0, "crashes": 0}
    with tempfile.TemporaryDirectory() as work:
        for folder in args.folders:
            found = measure(folder.resolve(), args.project, Path(work))
            totals["crashes"] += found["crashes"]
            if "skipped" in found or "adopt" in found:
                print(f"{found['name']}: {found.get('skipped') or 'adopt stopped: ' + found['adopt']}")
                continue
            totals["policies"] += found["policies"]
            totals["kept"] += found["kept"]
            mapped = found["policies"] - found["kept"]
            print(f"{found['name']}: {found['tables']} tables, policies mapped {mapped}/{found['policies']}, "
                  f"kept {found['kept']}; " + ", ".join(f"{k} {v}" for k, v in found["steps"].items()) +
                  (f"; left out (no workspace or user): {', '.join(found['left_out'])}" if found["left_out"] else "") +
                  (f"; {found['crashes']} crash(es)" if found["crashes"] else ""))
    mapped = totals["policies"] - totals["kept"]
    share = f"{100 * mapped / totals['policies']:.0f}%" if totals["policies"] else "-"
    print(f"total: policies mapped {mapped}/{totals['policies']} ({share}), kept {totals['kept']}; "
          f"crashes {totals['crashes']}")
    return 1 if totals["crashes"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
