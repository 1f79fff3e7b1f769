"""`tenantspec prove --observe`: what the database does, cell by cell, written as a starting
intent.

A chain of hand-written migrations comes with no intent, and writing one cell by cell for dozens
of tables is where the proof of a real app stops. Observing runs the probe run alone, on the
chain as it is, and writes the matrix it observes on the rows of both workspaces: who may run
each command, with the reason beside every denial (no grant, a policy, no row visible or
changed). The probes act as they do in a proof; the intent they are planned with decides nothing
observed, so the specs' declared matrix stands in for it (every cell denied without specs).

The file says it was observed: it is what the database does, not what the product requires. A
person reads it, corrects the cells the product requires otherwise, and the proof then judges the
chain against it. A cell the regimes or the two workspaces answer differently, or that only some
personas of a kind may run, is written denied with a comment saying so.

A hand-written policy's condition that is a boolean function's call (a feature flag, a plan) is
made false too (`conditions.with_condition_false`): the commands every allowed request of which
it then refuses, under every regime, are written as the table's ``only_when``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import psycopg

from tenantspec.render.matrix import COMMANDS, HAND_WRITTEN, bucket_key
from tenantspec.spec import model
from tenantspec.testing.conditions import (
    conditions_of,
    judged,
    refused,
    with_condition_false,
)
from tenantspec.testing.intent import (
    VERDICTS,
    Intent,
    falsifiable_call,
    intent_file_text,
)
from tenantspec.testing.personas import WORKSPACES
from tenantspec.testing.probes import ProbeRun, verdict
from tenantspec.testing.world import World

OPTION = "--tenantspec-observe"
OBSERVE_TO = "--tenantspec-observe-to"  # write the raw observation as JSON there, no intent file
TEST = "test_observe_access"

# regime -> (table, command, kind, workspace) -> (verdict, how), filled by the observing test
OBSERVED: dict[str, dict[tuple[str, str, str, str], tuple[str, str]]] = {}
# regime -> table -> {condition: commands it alone lets run}, filled by the observing test
DECIDING: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {}
WRITTEN: list[str] = []  # what the session wrote, for its summary
TARGET: dict[str, Path] = {}  # where the session writes


def stand_in_intent(kinds: tuple[str, ...], tables: list[str], declared: Mapping | None) -> Intent:
    """The intent the probes are planned with while observing: the declared matrix (a cell a
    hand-written policy decides, denied), or every cell denied."""
    cells = {}
    for table in tables:
        for command in COMMANDS:
            for kind in kinds:
                verdict = (declared or {}).get((table, command, kind), "denied")
                cells[(table, command, kind)] = "denied" if verdict == HAND_WRITTEN else verdict
    return Intent("(observing)", kinds, cells)


def deciding_conditions(conn: psycopg.Connection, world: World, run: ProbeRun,
                        tables: list[model.Table]) -> dict[str, dict[str, tuple[str, ...]]]:
    """table -> {condition: commands}: the hand-written policies' conditions that the proof can
    make false, each with the commands whose every observed allowed request (of a persona the
    policies judge) it then refuses. ``conn`` is the superuser's, rolled back by the caller."""
    allowed = judged([probe for probe, observed in run.results
                      if probe.cell and verdict(probe, observed) == "allowed"])
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    for table in tables:
        mine = [probe for probe in allowed if probe.cell[0] == table.name.name]
        for condition in conditions_of(table) if mine else ():
            try:
                falsifiable_call(condition.text)
            except ValueError:
                continue
            conn.execute("savepoint tenantspec_condition")
            try:
                answers = with_condition_false(conn, world, mine, condition.text)
            except ValueError:
                answers = []
            finally:
                conn.execute("rollback to savepoint tenantspec_condition")
            by_command: dict[str, list[bool]] = {}
            for probe, result in answers:
                by_command.setdefault(probe.request.command, []).append(refused(probe.request.command, result))
            commands = tuple(c for c in COMMANDS if by_command.get(c) and all(by_command[c]))
            if commands:
                found.setdefault(table.name.name, {})[condition.text] = commands
    return found


def deciding_everywhere(deciding: Mapping[str, Mapping[str, Mapping[str, tuple[str, ...]]]]
                        ) -> dict[str, dict[str, tuple[str, ...]]]:
    """The conditions and commands found deciding under every regime observed."""
    regimes = list(deciding.values())
    merged: dict[str, dict[str, tuple[str, ...]]] = {}
    for table, conditions in (regimes[0] if regimes else {}).items():
        for condition, commands in conditions.items():
            kept = tuple(c for c in commands if all(c in r.get(table, {}).get(condition, ()) for r in regimes))
            if kept:
                merged.setdefault(table, {})[condition] = kept
    return merged


def observed_cells(observed: Mapping[str, Mapping], kinds: tuple[str, ...], tables: list[str]
                   ) -> tuple[dict[tuple[str, str, str], str], dict[tuple[str, str], list[str]], bool]:
    """The intent's cells as observed under every regime on both workspaces' rows, the
    comments of each (table, command): the reasons for its denials, and the cells written
    denied because the observations disagree (by regime, or across a kind's personas or the
    workspaces); and whether any cell differs by regime."""
    cells: dict[tuple[str, str, str], str] = {}
    comments: dict[tuple[str, str], list[str]] = {}
    by_regimes = False
    for table in tables:
        for command in COMMANDS:
            denied: dict[str, list[str]] = {}
            unsure = []
            for kind in kinds:
                by_regime = {regime: [s for ws in WORKSPACES if (s := matrix.get((table, command, kind, ws)))]
                             for regime, matrix in sorted(observed.items())}
                seen = [s for found in by_regime.values() for s in found]
                verdicts = {verdict for verdict, _ in seen}
                if len(verdicts) == 1 and verdicts <= set(VERDICTS):
                    cells[(table, command, kind)] = verdict = verdicts.pop()
                    if verdict == "denied":
                        for how in sorted({how for _, how in seen}):
                            denied.setdefault(how, []).append(kind)
                    continue
                cells[(table, command, kind)] = "denied"
                regimes = {regime: "/".join(sorted({v for v, _ in found})) for regime, found in by_regime.items()}
                if len(set(regimes.values())) > 1:
                    by_regimes = True
                    unsure.append(f"{kind} ({', '.join(f'{r}: {v}' for r, v in regimes.items())})")
                elif verdicts:
                    unsure.append(f"{kind} ({' / '.join(sorted(verdicts))} across its personas or the workspaces)")
                else:
                    unsure.append(f"{kind} (not probed)")
            notes = []
            if unsure:
                notes.append(f"written denied, observed differently: {', '.join(unsure)}")
            if denied:
                notes.append("denied: " + "; ".join(f"{', '.join(who)} ({how})" for how, who in denied.items()))
            if notes:
                comments[(table, command)] = notes
    return cells, comments, by_regimes


def observed_intent_text(observed: Mapping[str, Mapping], kinds: tuple[str, ...], tables: list[str],
                         source: str, deciding: Mapping | None = None, buckets: list[str] = ()) -> str:
    """The observed matrix as an intent file, every table's cells with their reasons, and the
    conditions found deciding commands (`deciding_conditions`, by regime) as ``only_when``."""
    cells, comments, by_regimes = observed_cells(observed, kinds, tables)
    body = intent_file_text(kinds, sorted(tables), cells, comments, deciding_everywhere(deciding or {}))
    head = ("# OBSERVED by `tenantspec prove --observe` on " + source + ": what the database does,\n"
            "# not what the product requires. Read every cell (the comments say who is denied and how),\n"
            "# set each to what the product requires, then remove these lines; `tenantspec prove`\n"
            "# judges the migrations against what you keep.\n")
    if by_regimes:
        head += ("# Some cells differ between the default-privilege regimes: a project created before\n"
                 "# 2026-05-30 has the legacy one (TENANTSPEC_PRIVILEGES=legacy proves it alone).\n")
    if buckets:
        keys = [bucket_key(b) for b in sorted(buckets)]
        bucket_cells, bucket_comments, _ = observed_cells(observed, kinds, keys)
        entries = intent_file_text(kinds, keys, bucket_cells, bucket_comments).split("\ntables:\n", 1)[1]
        for bucket_id in sorted(buckets):
            entries = entries.replace(f"  {bucket_key(bucket_id)}:", f"  {bucket_id}:", 1)
        body += "\nbuckets:\n" + entries
    return head + body


def observed_path(intent: Path) -> Path:
    """Where the observed intent goes: the intent file when there is none yet, else beside it."""
    return intent if not intent.exists() else intent.with_name(f"{intent.stem}.observed{intent.suffix}")


def write_observed(intent: Path, shown: str, kinds: tuple[str, ...], tables: list[str], source: str,
                   buckets: list[str] = ()) -> None:
    """Write what the session observed so far (`OBSERVED`: each regime's observation writes the
    file again), and say where: the place chosen by the session's first write."""
    path = TARGET.setdefault("path", observed_path(intent))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(observed_intent_text(OBSERVED, kinds, tables, source, DECIDING, buckets), encoding="utf-8")
    regimes = ", ".join(sorted(OBSERVED))
    where = shown if path == intent else str(Path(shown).with_name(path.name))
    WRITTEN.append(f"tenantspec: wrote {where}: the access observed under {regimes}, for review"
                   + ("" if path == intent else f" (compare it with {shown})"))


def write_observation(path: Path) -> None:
    """Write what the session observed so far (`OBSERVED`, every regime) as JSON: the cells of
    `tenantspec.testing.change`, which compares two chains' observations."""
    rows = {regime: [[*cell, seen, how] for cell, (seen, how) in sorted(matrix.items())]
            for regime, matrix in sorted(OBSERVED.items())}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
