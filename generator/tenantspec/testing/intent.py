"""The hand-written access intent: who may run which command on a workspace's rows.

The file is written from the product's requirements, apart from the specs, so it catches a
wrong spec as much as a wrong migration. Its columns are the project's membership roles
followed by ``other_member``, ``outsider``, ``anon`` and ``service_role``; every table the
project defines needs an entry, and an entry for a table the project does not define is an
error. A user who belongs to two workspaces needs no column: in each workspace it has the
rights of its role there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pglast import ast
from pglast.enums import BoolExprType

from tenantspec.render.matrix import HAND_WRITTEN
from tenantspec.spec.expressions import expression_node, parse_expression
from tenantspec.spec.located import YAMLSyntaxError, load_located
from tenantspec.spec.model import COMMANDS

VERDICTS = ("allowed", "own", "denied")  # own: only on rows naming them as their user

Cell = tuple[str, str, str]  # (table, command, persona kind)


def falsifiable_call(text: str) -> tuple[tuple[str, ...], int, bool]:
    """The function a condition calls (its name, as qualified as written), how many arguments
    it passes, and whether the call is negated: the conditions the proof can make false itself
    are a boolean function's call (a flag, a plan, a subscription) or its negation. Raises
    ValueError saying why otherwise."""
    if problem := parse_expression(text):
        raise ValueError(f"{text!r}: {problem}")
    node = expression_node(text)
    negated = isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.NOT_EXPR
    if negated:
        node = node.args[0]
    if not isinstance(node, ast.FuncCall):
        raise ValueError(f"{text!r} is not a call of a boolean function (or its negation), which the proof makes "
                         "false by having the function answer so; make any other condition false in a case file")
    return tuple(part.sval for part in node.funcname), len(node.args or ()), negated


class IntentError(ValueError):
    """The intent file is missing, malformed, or does not cover the project's tables."""


@dataclass(frozen=True)
class OnlyWhen:
    """Commands on a table that run only while a condition holds (``only_when`` in the
    intent): with it false, every persona the policies judge is refused them; service_role,
    which bypasses policies, keeps its cell."""

    table: str
    condition: str  # as the intent writes it
    commands: tuple[str, ...]
    where: str  # file:line of the condition in the intent


@dataclass(frozen=True)
class Intent:
    path: str
    kinds: tuple[str, ...]
    cells: dict[Cell, str] = field(hash=False)
    only_when: tuple[OnlyWhen, ...] = ()

    def allowed(self, table: str, command: str) -> frozenset[str]:
        """The persona kinds the intent lets run ``command`` on ``table``."""
        return frozenset(k for k in self.kinds if self.cells.get((table, command, k)) == "allowed")

    def owns(self, table: str, command: str) -> frozenset[str]:
        """The persona kinds the intent lets run ``command`` on the rows naming them only."""
        return frozenset(k for k in self.kinds if self.cells.get((table, command, k)) == "own")

    @property
    def tables(self) -> list[str]:
        return list(dict.fromkeys(t for t, _, _ in self.cells))


def load_intent(path: Path, shown: str, kinds: tuple[str, ...], tables: dict[str, str],
                declared: dict[Cell, str] | None = None, buckets: dict[str, str] | None = None) -> Intent:
    """Read ``path`` and check it covers exactly ``tables`` (name -> where it is defined)
    with one verdict per command and persona kind, and ``buckets`` (id -> where) under
    ``buckets:`` alike (their cells keyed ``bucket:<id>``). ``declared`` fills the entries
    printed for missing ones."""
    if not path.is_file():
        raise IntentError(
            f"{shown}: no intent file. Write who may do what on each table, by hand, from the "
            f"product's requirements; start from:\n\n" + intent_file_text(kinds, list(tables), declared))
    try:
        data = load_located(path.read_text(encoding="utf-8"))
    except YAMLSyntaxError as error:
        raise IntentError(f"{shown}:{error.line + 1}: {error.message}") from None
    if not isinstance(data, dict):
        raise IntentError(f"{shown}:1: must be a mapping with persona_kinds, commands and tables")

    def at(node, key) -> str:
        try:
            return f"{shown}:{node.lc.key(key)[0] + 1}"
        except (AttributeError, KeyError, TypeError):
            return shown

    problems = []
    if [str(k) for k in data.get("persona_kinds") or ()] != list(kinds):
        problems.append(f"{at(data, 'persona_kinds')}: persona_kinds must be [{', '.join(kinds)}]: the "
                        "project's roles, then other_member, outsider, anon, service_role")
    if [str(c) for c in data.get("commands") or ()] != list(COMMANDS):
        problems.append(f"{at(data, 'commands')}: commands must be [{', '.join(COMMANDS)}]")
    entries = data.get("tables") or {}
    cells: dict[Cell, str] = {}
    only_when: list[OnlyWhen] = []
    for table, by_command in entries.items():
        if table not in tables:
            problems.append(f"{at(entries, table)}: intent for table '{table}', which the project does not "
                            f"define; remove the entry, or define the table")
            continue
        for key in by_command if isinstance(by_command, dict) else ():
            if key not in COMMANDS and key != "only_when":
                problems.append(f"{at(by_command, key)}: {table}.{key}: expected one of {', '.join(COMMANDS)} "
                                "or only_when")
        if isinstance(by_command, dict) and "only_when" in by_command:
            only_when += _only_when(table, by_command["only_when"], at(by_command, "only_when"), at, problems)
        for command in COMMANDS:
            row = (by_command or {}).get(command) if isinstance(by_command, dict) else None
            for kind in kinds:
                verdict = row.get(kind) if isinstance(row, dict) else None
                if verdict not in VERDICTS:
                    where = at(by_command, command) if isinstance(by_command, dict) and command in by_command \
                        else at(entries, table)
                    problems.append(f"{where}: {table}.{command}.{kind} is {verdict!r}; expected allowed, own or denied")
                cells[(table, command, kind)] = verdict
    bucket_entries = data.get("buckets") or {}
    for bucket_id, by_command in bucket_entries.items():
        if str(bucket_id) not in (buckets or {}):
            problems.append(f"{at(bucket_entries, bucket_id)}: intent for bucket '{bucket_id}', which the project "
                            f"does not declare (storage.buckets); remove the entry, or declare the bucket")
            continue
        for command in COMMANDS:
            row = by_command.get(command) if isinstance(by_command, dict) else None
            for kind in kinds:
                verdict = row.get(kind) if isinstance(row, dict) else None
                if verdict not in VERDICTS:
                    problems.append(f"{at(bucket_entries, bucket_id)}: bucket {bucket_id}.{command}.{kind} is "
                                    f"{verdict!r}; expected allowed, own or denied")
                cells[(f"bucket:{bucket_id}", command, kind)] = verdict
    missing_buckets = sorted(b for b in buckets or {} if b not in bucket_entries)
    if missing_buckets:
        problems.append(
            f"{shown}: no intent for {len(missing_buckets)} bucket(s): {', '.join(missing_buckets)} "
            f"({next(iter(buckets.values()))}). Paste this at the end, each cell what a persona may do with the files "
            f"of workspace A's folder (own: a user folder's own files):\n\nbuckets:\n"
            + "".join(intent_entry(f"bucket:{b}", kinds, declared).replace(f"  bucket:{b}:", f"  {b}:", 1)
                      for b in missing_buckets))
    missing = sorted(table for table in tables if table not in entries)
    if missing:
        named = ", ".join(f"{table} ({tables[table]})" for table in missing)
        filled = ("each cell filled from what the specs declare: check every one against the product's "
                  "requirements, since the proof then holds the migrations to what you keep"
                  if declared is not None else
                  "every cell denied: set each one from the product's requirements")
        problems.append(
            f"{shown}: no intent for {len(missing)} table(s): {named}. Paste this under `tables:`, "
            f"{filled}:\n\n" + "".join(intent_entry(table, kinds, declared) for table in missing))
    if problems:
        raise IntentError("\n".join(problems))
    return Intent(path=shown, kinds=kinds, cells=cells, only_when=tuple(only_when))


def names_conditions(path: Path) -> bool:
    """Whether the intent file at ``path`` says what a condition decides (``only_when``) for
    some table; True where it cannot tell (the loader then reports why)."""
    try:
        data = load_located(path.read_text(encoding="utf-8"))
        return any(isinstance(entry, dict) and "only_when" in entry for entry in (data.get("tables") or {}).values())
    except (OSError, YAMLSyntaxError, AttributeError):
        return True


def _only_when(table: str, entry, where: str, at, problems: list[str]) -> list[OnlyWhen]:
    """``only_when: {<condition>: [<command>, ...]}`` of one table's entry."""
    if not isinstance(entry, dict) or not entry:
        problems.append(f"{where}: {table}.only_when must map each condition (a boolean function's call) to the "
                        "commands that run only while it holds, e.g. {public.feature_enabled('reactions'): [insert]}")
        return []
    found = []
    for condition, commands in entry.items():
        here = at(entry, condition)
        try:
            falsifiable_call(str(condition))
        except ValueError as error:
            problems.append(f"{here}: {table}.only_when: {error}")
            continue
        listed = commands if isinstance(commands, list) else [commands]
        wrong = [c for c in listed if c not in COMMANDS]
        if wrong or not listed:
            problems.append(f"{here}: {table}.only_when: {condition}: expected a list of commands "
                            f"({', '.join(COMMANDS)}), got {commands!r}")
            continue
        found.append(OnlyWhen(table, str(condition), tuple(dict.fromkeys(listed)), here))
    return found


def intent_entry(table: str, kinds: tuple[str, ...], declared: dict[Cell, str] | None,
                 comments: Mapping[tuple[str, str], list[str]] | None = None,
                 only_when: Mapping[str, tuple[str, ...]] | None = None) -> str:
    """YAML to paste under ``tables:``; filled from the declared matrix when there is one
    (check every cell), otherwise every cell denied. A cell a hand-written policy decides has
    no declared verdict: it is written denied, under a comment naming it, for the product's
    requirements to settle. ``comments`` go above their (table, command)'s line; ``only_when``
    (condition -> commands) is written as observed."""
    lines = [f"  {table}:"]
    for command in COMMANDS:
        lines += [f"    # {comment}" for comment in (comments or {}).get((table, command), ())]
        verdicts = {k: (declared or {}).get((table, command, k), "denied") for k in kinds}
        decided = [k for k, verdict in verdicts.items() if verdict == HAND_WRITTEN]
        if decided:
            lines.append(f"    # {command}: a hand-written policy decides {', '.join(decided)}: say what it should allow")
        cells = ", ".join(f"{k}: {'denied' if v == HAND_WRITTEN else v}" for k, v in verdicts.items())
        lines.append(f"    {command}: {{{cells}}}")
    if only_when:
        lines += ["    # observed: with each condition false, every allowed request of these commands was refused",
                  "    only_when:"]
        lines += [f"      {json.dumps(condition)}: [{', '.join(commands)}]" for condition, commands in only_when.items()]
    return "\n".join(lines) + "\n"


def intent_file_text(kinds: tuple[str, ...], tables: list[str], declared: dict[Cell, str] | None,
                     comments: Mapping[tuple[str, str], list[str]] | None = None,
                     only_when: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None) -> str:
    head = (f"persona_kinds: [{', '.join(kinds)}]\n"
            f"commands: [{', '.join(COMMANDS)}]\n\ntables:\n")
    return head + "\n".join(intent_entry(t, kinds, declared, comments, (only_when or {}).get(t)) for t in tables)
