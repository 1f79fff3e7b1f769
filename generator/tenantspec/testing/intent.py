"""The hand-written access intent: who may run which command on a workspace's rows.

The file is written from the product's requirements, apart from the specs, so it catches a
wrong spec as much as a wrong migration. Its columns are the project's membership roles
followed by ``other_member``, ``outsider``, ``anon`` and ``service_role``; every table the
project defines needs an entry, and an entry for a table the project does not define is an
error. A user who belongs to two workspaces needs no column: in each workspace it has the
rights of its role there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tenantspec.render.matrix import HAND_WRITTEN
from tenantspec.spec.located import YAMLSyntaxError, load_located
from tenantspec.spec.model import COMMANDS

VERDICTS = ("allowed", "own", "denied")  # own: only on rows naming them as their user

Cell = tuple[str, str, str]  # (table, command, persona kind)


class IntentError(ValueError):
    """The intent file is missing, malformed, or does not cover the project's tables."""


@dataclass(frozen=True)
class Intent:
    path: str
    kinds: tuple[str, ...]
    cells: dict[Cell, str] = field(hash=False)

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
                declared: dict[Cell, str] | None = None) -> Intent:
    """Read ``path`` and check it covers exactly ``tables`` (name -> where it is defined)
    with one verdict per command and persona kind. ``declared`` fills the entries printed
    for missing tables."""
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
    for table, by_command in entries.items():
        if table not in tables:
            problems.append(f"{at(entries, table)}: intent for table '{table}', which the project does not "
                            f"define; remove the entry, or define the table")
            continue
        for command in COMMANDS:
            row = (by_command or {}).get(command) if isinstance(by_command, dict) else None
            for kind in kinds:
                verdict = row.get(kind) if isinstance(row, dict) else None
                if verdict not in VERDICTS:
                    where = at(by_command, command) if isinstance(by_command, dict) and command in by_command \
                        else at(entries, table)
                    problems.append(f"{where}: {table}.{command}.{kind} is {verdict!r}; expected allowed, own or denied")
                cells[(table, command, kind)] = verdict
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
    return Intent(path=shown, kinds=kinds, cells=cells)


def intent_entry(table: str, kinds: tuple[str, ...], declared: dict[Cell, str] | None,
                 comments: Mapping[tuple[str, str], list[str]] | None = None) -> str:
    """YAML to paste under ``tables:``; filled from the declared matrix when there is one
    (check every cell), otherwise every cell denied. A cell a hand-written policy decides has
    no declared verdict: it is written denied, under a comment naming it, for the product's
    requirements to settle. ``comments`` go above their (table, command)'s line."""
    lines = [f"  {table}:"]
    for command in COMMANDS:
        lines += [f"    # {comment}" for comment in (comments or {}).get((table, command), ())]
        verdicts = {k: (declared or {}).get((table, command, k), "denied") for k in kinds}
        decided = [k for k, verdict in verdicts.items() if verdict == HAND_WRITTEN]
        if decided:
            lines.append(f"    # {command}: a hand-written policy decides {', '.join(decided)}: say what it should allow")
        cells = ", ".join(f"{k}: {'denied' if v == HAND_WRITTEN else v}" for k, v in verdicts.items())
        lines.append(f"    {command}: {{{cells}}}")
    return "\n".join(lines) + "\n"


def intent_file_text(kinds: tuple[str, ...], tables: list[str], declared: dict[Cell, str] | None,
                     comments: Mapping[tuple[str, str], list[str]] | None = None) -> str:
    head = (f"persona_kinds: [{', '.join(kinds)}]\n"
            f"commands: [{', '.join(COMMANDS)}]\n\ntables:\n")
    return head + "\n".join(intent_entry(t, kinds, declared, comments) for t in tables)
