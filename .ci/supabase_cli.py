"""The real Supabase CLI against the stand-in, for each project given (a folder with
supabase/migrations): `tenantspec db start` with the project's baseline and no migrations,
then `supabase db push --db-url` applies the migrations, `supabase migration list` must show
every version as applied, and `supabase db advisors` must report nothing on the tables the
project's specs generate (unused_index aside: nobody has queried this database).

usage: python .ci/supabase_cli.py SUPABASE_BIN PROJECT [PROJECT ...]
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from tenantspec.standin.migrate import read_folder

IGNORED_ADVICE = {"unused_index"}


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, **kwargs)
    if result.returncode != 0:
        sys.exit(f"FAILED: {' '.join(argv[:3])} ... (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def check_project(supabase: str, project: Path) -> None:
    baseline = next((p for p in (project / "supabase/baseline.sql", project / "tests/baseline.sql") if p.is_file()), None)
    command = [sys.executable, "-m", "tenantspec", "db", "start", "--no-migrations"]
    if baseline is not None:
        command += ["--baseline", str(baseline)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        if not line.startswith("DATABASE_URL="):
            server.kill()
            sys.exit(f"FAILED: tenantspec db start printed {line!r}:\n{server.stderr.read()}")
        url = line.strip().split("=", 1)[1]
        cli = {"cwd": project, "env": {**os.environ, "DO_NOT_TRACK": "1"}}
        pushed = run([supabase, "db", "push", "--db-url", url, "--yes"], **cli)
        versions = sorted(m.version for m in read_folder(project / "supabase/migrations").migrations)
        listed = run([supabase, "migration", "list", "--db-url", url], **cli).stdout
        remote = re.findall(r"^\s*`?(\d+)`?\s*\|\s*`?(\d+)`?\s*\|", listed, re.M)
        applied = sorted(r for local, r in remote if local == r)
        if applied != versions:
            sys.exit(f"FAILED: {project}: migration list shows {applied}, the folder has {versions}:\n{listed}")
        print(f"{project}: supabase db push applied {len(versions)} migration(s); migration list shows them all")
        print("  " + pushed.stdout.strip().splitlines()[-1])
        tables = sorted(p.stem for p in (project / "schema").glob("*.yaml") if p.name != "project.yaml")
        advice = json.loads(run([supabase, "db", "advisors", "--db-url", url, "--type", "all", "--level", "info",
                                 "--output-format", "json"], **cli).stdout)["results"]
        found = [a for a in advice if a["name"] not in IGNORED_ADVICE
                 and a.get("metadata", {}).get("schema") == "public" and a.get("metadata", {}).get("name") in tables]
        for item in found:
            print(f"  advisor {item['name']} ({item['level']}): {item['detail']}")
        if found:
            sys.exit(f"FAILED: {project}: supabase db advisors reports {len(found)} finding(s) on generated tables")
        others = sorted({a["name"] for a in advice})
        print(f"  supabase db advisors: 0 findings on the generated tables {tables} "
              f"({len(advice)} in all, of kinds {others or 'none'})")
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)


def main(argv: list[str]) -> None:
    supabase, *projects = argv
    for project in projects:
        check_project(supabase, Path(project).resolve())


if __name__ == "__main__":
    main(sys.argv[1:])
