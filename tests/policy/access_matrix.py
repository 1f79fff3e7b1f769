"""The three access matrices: intended (hand-written YAML), declared (from the specs) and
observed (probed on the database), keyed by (table, command, persona_kind)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql
from ruamel.yaml import YAML

from attempts import attempt
from generator.testing.impersonate import Impersonator, table_snapshot
from generator.testing.personas import WORKSPACES, World

COMMANDS = ("select", "insert", "update", "delete")
PERSONA_KINDS = ("owner", "admin", "agent", "other_member", "outsider", "anon", "service_role")
VERDICTS = ("allowed", "denied")
INTENT_FILE = Path(__file__).resolve().parents[1] / "access_intent.yaml"

# (probes, seconds) of every observed matrix this session, for the terminal summary.
PROBE_FIGURES: list[tuple[int, float]] = []
OBSERVED: list["ObservedMatrix"] = []

Cell = tuple[str, str, str]  # (table, command, persona_kind)


class IntentError(ValueError):
    """The hand-written intent file is incomplete or malformed."""


def load_intent(path: Path = INTENT_FILE) -> dict[Cell, str]:
    """Read the intent and check every table x command x persona kind has allowed/denied."""
    data = YAML(typ="safe").load(path.read_text())
    problems = []
    if tuple(data.get("persona_kinds", ())) != PERSONA_KINDS:
        problems.append(f"persona_kinds must be {list(PERSONA_KINDS)}")
    if tuple(data.get("commands", ())) != COMMANDS:
        problems.append(f"commands must be {list(COMMANDS)}")
    intent = {}
    for table, by_command in (data.get("tables") or {}).items():
        for command in COMMANDS:
            row = (by_command or {}).get(command) or {}
            for kind in PERSONA_KINDS:
                verdict = row.get(kind)
                if verdict not in VERDICTS:
                    problems.append(f"{table}.{command}.{kind}: {verdict!r}, expected allowed or denied")
                intent[(table, command, kind)] = verdict
    if not intent:
        problems.append("no tables")
    if problems:
        raise IntentError(f"{path}: " + "; ".join(problems))
    return intent


@dataclass(frozen=True)
class Observation:
    """What one probe saw: the verdict and how it surfaced (error, 0 rows, rows visible)."""

    verdict: str  # allowed | denied | partial
    how: str


def actors(world: World, kind: str, workspace: str) -> list[tuple[str, object]]:
    """The personas standing for `kind` relative to `workspace`."""
    other = next(ws for ws in WORKSPACES if ws != workspace)
    if kind in ("owner", "admin", "agent"):
        return [(f"{kind}_{workspace}", world.persona(f"{kind}_{workspace}"))]
    if kind == "other_member":
        return [(p.name, p) for p in world.members(other)]
    if kind == "outsider":
        return [("outsider", world.persona("outsider"))]
    return [(kind, kind)]


def _statement(world: World, table: str, command: str, workspace: str):
    """The probe for one cell: a statement on `workspace`'s rows and its parameters."""
    rows = world.rows[workspace]
    target = sql.Identifier("public", table)
    if command == "select":
        ids = list(rows.ids(table))
        return sql.SQL("select count(*) from {} where id = any(%s)").format(target), (ids,)
    if command == "insert":
        new_id = uuid.uuid4()
        if table == "carrier_configs":
            return (sql.SQL("insert into {} (id, workspace_id, carrier) values (%s, %s, 'probe-carrier')").format(target),
                    (new_id, rows.workspace_id))
        if table == "robot_jobs":
            return (sql.SQL("insert into {} (id, workspace_id) values (%s, %s)").format(target),
                    (new_id, rows.workspace_id))
        return (sql.SQL("insert into {} (id, job_id, order_id) values (%s, %s, %s)").format(target),
                (new_id, rows.robot_jobs[1], rows.spare_order))
    first = rows.ids(table)[0]
    if command == "update":
        change = {
            "carrier_configs": "is_enabled = not is_enabled",
            "robot_jobs": "total_items = total_items + 1",
            "robot_job_items": "retry_count = retry_count + 1",
        }[table]
        return sql.SQL("update {} set " + change + " where id = %s").format(target), (first,)
    return sql.SQL("delete from {} where id = %s").format(target), (first,)


def probe(impersonate: Impersonator, world: World, table: str, command: str, actor, workspace: str) -> Observation:
    """Run one cell's statement as `actor` in a rolled-back request and judge it."""
    statement, params = _statement(world, table, command, workspace)
    if actor == "anon":
        request = impersonate.as_anon()
    elif actor == "service_role":
        request = impersonate.as_service_role()
    else:
        request = impersonate.as_user(actor)
    with request as conn:
        before = table_snapshot(conn, table) if command != "select" else None
        result = attempt(conn, statement, params)
        after = table_snapshot(conn, table) if command != "select" else None
    if command == "select":
        expected = len(params[0])
        seen = 0 if result.failed else result.rows[0][0]
        how = f"error {result.sqlstate}" if result.failed else f"{seen}/{expected} rows visible"
        verdict = "allowed" if seen == expected else "denied" if seen == 0 else "partial"
        return Observation(verdict, how)
    changed = before != after
    how = result.describe()
    if result.failed and changed or (not result.failed and result.rowcount and not changed):
        how += ", table " + ("changed" if changed else "unchanged")
    return Observation("allowed" if changed else "denied", how)


@dataclass(frozen=True)
class ObservedMatrix:
    cells: dict[tuple[str, str, str, str], Observation]  # (table, command, kind, workspace)
    probes: int
    seconds: float


def observe(impersonate: Impersonator, world: World, tables) -> ObservedMatrix:
    """Probe every table x command x persona kind, on workspace A's rows and on B's."""
    cells = {}
    probes = 0
    started = time.perf_counter()
    for table in tables:
        for command in COMMANDS:
            for kind in PERSONA_KINDS:
                for workspace in WORKSPACES:
                    seen = []
                    for name, actor in actors(world, kind, workspace):
                        seen.append((name, probe(impersonate, world, table, command, actor, workspace)))
                        probes += 1
                    verdicts = {o.verdict for _, o in seen}
                    verdict = "allowed" if verdicts == {"allowed"} else (
                        "denied" if verdicts == {"denied"} else "partial")
                    if len(seen) == 1:
                        how = seen[0][1].how
                    else:
                        how = "; ".join(f"{n}: {o.how}" for n, o in seen)
                    cells[(table, command, kind, workspace)] = Observation(verdict, how)
    matrix = ObservedMatrix(cells, probes, time.perf_counter() - started)
    PROBE_FIGURES.append((probes, matrix.seconds))
    OBSERVED.append(matrix)
    return matrix


def denial_summary(matrices: list[ObservedMatrix]) -> dict[str, int]:
    """How denials surfaced across the session: by error code, by zero rows, by hiding rows."""
    counts: dict[str, int] = {}
    for matrix in matrices:
        for (_table, command, _kind, _ws), obs in matrix.cells.items():
            if obs.verdict != "denied":
                continue
            for part in obs.how.split("; "):
                how = part.split(": ", 1)[-1]
                key = f"{'read' if command == 'select' else 'write'} {how if 'error' in how else ('0 rows' if command != 'select' else 'rows hidden')}"
                counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def format_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])
