"""Case files: a project's own rules (idempotency keys, timestamps, triggers ...) as data.

Each ``*.yaml`` file of the cases folder holds a list of cases. A case runs its steps in one
request transaction on a fresh clone of the template, rolled back at the end; each step acts
as a persona (``as``: a persona's name, ``anon`` or ``service_role``) and states what must
happen: ``error`` (a SQLSTATE), ``rows`` (the row count) or ``returns`` (the rows), and
succeeds otherwise. A race case runs one statement from ``race`` connections at once, each
committing, and counts the outcomes. SQL names world values as ``%(name)s``: see
`tenantspec.testing.world.World.parameters`.

    - case: a second job with the same key in one workspace is refused
      as: service_role
      steps:
        - sql: insert into public.jobs (workspace_id, key) values (%(workspace_A)s, 'k')
        - sql: insert into public.jobs (workspace_id, key) values (%(workspace_A)s, 'k')
          error: "23505"
    - case: one of twenty concurrent inserts of a key wins
      race: 20
      as: service_role
      sql: insert into public.jobs (workspace_id, key) values (%(workspace_A)s, 'race')
      expect: {succeeded: 1, "23505": 19}
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tenantspec.spec.located import YAMLSyntaxError, load_located
from tenantspec.testing.database import TestDatabase
from tenantspec.testing.impersonate import attempt, switch_identity
from tenantspec.testing.world import World

STEP_KEYS = {"sql", "as", "error", "rows", "returns"}
CASE_KEYS = {"case", "as", "steps", "race", "sql", "expect"}


class CaseError(ValueError):
    """A case file that does not parse or does not follow the format."""


@dataclass(frozen=True)
class Step:
    sql: str
    actor: str | None
    error: str | None = None
    rows: int | None = None
    returns: list | None = field(default=None, hash=False)
    line: int = 0


@dataclass(frozen=True)
class Case:
    name: str
    where: str  # file:line
    actor: str
    steps: tuple[Step, ...] = ()
    race: int = 0
    race_sql: str = ""
    expect: dict = field(default_factory=dict, hash=False)


def load_cases(folder: Path, root: Path) -> list[Case]:
    """Every case of every ``*.yaml`` file under ``folder``, in file and list order."""
    cases = []
    for path in sorted(folder.rglob("*.yaml")) if folder.is_dir() else ():
        shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        try:
            data = load_located(path.read_text(encoding="utf-8"))
        except YAMLSyntaxError as error:
            raise CaseError(f"{shown}:{error.line + 1}: {error.message}") from None
        if not isinstance(data, list):
            raise CaseError(f"{shown}:1: a case file is a list of cases")
        for i, item in enumerate(data):
            cases.append(_case(item, f"{shown}:{data.lc.item(i)[0] + 1}"))
    return cases


def _case(item, where: str) -> Case:
    if not isinstance(item, dict) or "case" not in item or "as" not in item:
        raise CaseError(f"{where}: a case is a mapping with at least `case` and `as`")
    unknown = set(item) - CASE_KEYS
    if unknown:
        raise CaseError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(CASE_KEYS))})")
    if "race" in item:
        if not isinstance(item.get("race"), int) or "sql" not in item or not isinstance(item.get("expect"), dict):
            raise CaseError(f"{where}: a race case needs `race` (a number of connections), `sql` and `expect`")
        return Case(str(item["case"]), where, str(item["as"]), race=item["race"], race_sql=str(item["sql"]),
                    expect={str(k): int(v) for k, v in item["expect"].items()})
    steps = []
    for j, step in enumerate(item.get("steps") or ()):
        line = int(where.rsplit(":", 1)[1]) if not hasattr(item["steps"], "lc") else item["steps"].lc.item(j)[0] + 1
        if not isinstance(step, dict) or "sql" not in step or set(step) - STEP_KEYS:
            raise CaseError(f"{where.rsplit(':', 1)[0]}:{line}: a step is a mapping with `sql` and optionally "
                            "`as`, `error`, `rows` or `returns`")
        steps.append(Step(str(step["sql"]), step.get("as"), str(step["error"]) if "error" in step else None,
                          step.get("rows"), [list(r) for r in step["returns"]] if "returns" in step else None,
                          line))
    if not steps:
        raise CaseError(f"{where}: a case needs `steps` (or `race`)")
    return Case(str(item["case"]), where, str(item["as"]), steps=tuple(steps))


def run_case(case: Case, database: TestDatabase, world: World) -> list[str]:
    """Run one case on ``database``; return what went otherwise than it says."""
    params = world.parameters()
    if case.race:
        return _run_race(case, database, world, params)
    problems = []
    with database.connect_probe() as conn:
        for step in case.steps:
            persona = world.persona(step.actor or case.actor)
            switch_identity(conn, persona.db_role, persona.claims())
            result = attempt(conn, step.sql, params)
            where = f"{case.where.rsplit(':', 1)[0]}:{step.line}"
            if step.error is not None:
                if result.sqlstate != step.error:
                    problems.append(f"{where}: expected error {step.error}, got {result.describe()} {result.message}")
                continue
            if result.failed:
                problems.append(f"{where}: expected success, got {result.surface}: {result.message}")
                continue
            if step.rows is not None and result.rowcount != step.rows:
                problems.append(f"{where}: expected {step.rows} row(s), got {result.rowcount}")
            if step.returns is not None and [list(r) for r in result.rows] != step.returns:
                problems.append(f"{where}: expected {step.returns}, got {[list(r) for r in result.rows]}")
        conn.rollback()
    return problems


def _run_race(case: Case, database: TestDatabase, world: World, params: dict) -> list[str]:
    persona = world.persona(case.actor)
    barrier = threading.Barrier(case.race)
    outcomes: list[str] = []
    lock = threading.Lock()

    def race() -> None:
        with database.connect_probe() as conn:
            switch_identity(conn, persona.db_role, persona.claims())
            barrier.wait(timeout=30)
            try:
                conn.execute(case.race_sql, params)
                conn.commit()
                outcome = "succeeded"
            except psycopg.Error as exc:
                conn.rollback()
                outcome = exc.sqlstate or "?"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=race) for _ in range(case.race)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    counted = {outcome: outcomes.count(outcome) for outcome in sorted(set(outcomes))}
    if counted != case.expect:
        return [f"{case.where}: {case.race} concurrent requests gave {counted}, expected {case.expect}"]
    return []
