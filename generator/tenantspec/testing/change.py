"""`tenantspec prove --observe-change`: the access a migration changes, observed.

The review's access section reads a change from the specs, through the access model. What a
migration does beyond what the specs say (a guard trigger, a constraint, a grant taken by a
hand-written statement, an adoption's correction of policies written by hand) only the database
answers. Observing answers it: the chain without the migration and the chain with it are each
observed by the probe run of `prove --observe`, with the same specs, personas and world, and
every cell (table, command, persona kind, the workspace of the rows) whose verdict differs is
listed, with how the chain with the migration answers it.

A cell whose requests the earlier chain could not run (they name a table or column the
migration makes) is listed as ``made``: no access changed there.

A cell is lost when the chain with the migration lets a member of the rows' workspace (a role
of the membership) or the service do less (allowed, then own rows only or denied; own rows,
then denied). Lost cells are refused unless the person who decided them says so
(``--allow-narrowing``), as `generate` refuses a narrowing it reads from the specs; a cell
closed to people outside the workspace (other workspaces' members, outsiders, anon) is listed,
not refused, as `generate` judges it too.

Each chain is observed in a process of its own (``python -m tenantspec prove --observe``): a
proof session builds its server, template and world once, for one chain.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tenantspec.errors import TenantspecError
from tenantspec.render.matrix import NON_MEMBER_KINDS
from tenantspec.testing.observe import OBSERVE_TO
from tenantspec.testing.seeding import EARLIER_CHAIN
from tenantspec.testing.summary import format_table

# how much of a cell a persona may do: fewer is a narrowing ("partial": some personas of the kind)
REACH = {"allowed": 2, "own": 1, "partial": 1, "denied": 0}
# who is outside the rows' workspace: closing a cell to them is no narrowing (as `generate` judges)
OUTSIDE = tuple(kind for kind in NON_MEMBER_KINDS if kind != "service_role")
MISSING = ("error 42703", "error 42P01")  # an undefined column, an undefined table

Observation = Mapping[str, Mapping[tuple[str, str, str, str], tuple[str, str]]]


@dataclass(frozen=True)
class CellChange:
    regime: str
    cell: tuple[str, str, str, str]  # (table, command, persona kind, workspace of the rows)
    before: str
    after: str
    how: str  # how the chain with the migration answers the cell's requests
    how_before: str = ""

    @property
    def made(self) -> bool:
        """The earlier chain lacked what the requests name (a new table or column): no access
        changed, the migration made something to reach."""
        return any(missing in self.how_before for missing in MISSING)

    @property
    def lost(self) -> bool:
        """A member of the workspace (a role of the membership) or the service may do less."""
        return self.narrower and self.cell[2] not in OUTSIDE and not self.made

    @property
    def narrower(self) -> bool:
        return REACH.get(self.after, 0) < REACH.get(self.before, 0)

    @property
    def kind(self) -> str:
        if self.made:
            return "made"
        if self.narrower:
            return "lost" if self.lost else "closed"
        return "gained" if REACH.get(self.after, 0) > REACH.get(self.before, 0) else "changed"


CAUSES = (  # how a denial shows -> what in the database gives it
    ("error 42501 privilege", "no grant"),
    ("error 42501 policy", "a policy"),
    ("error P0001", "raised by a trigger or function"),
    ("error 23505", "a unique constraint"),
    ("error 23503", "a foreign key"),
    ("error 23514", "a check constraint"),
    ("error 23502", "a not-null constraint"),
    ("error 23", "a constraint"),
    ("0 rows", "no row visible or changed: a policy"),
)


def cause(how: str) -> str:
    """``how`` with what gives it, where a denial's way of showing names it."""
    found = next((what for shows, what in CAUSES if how.startswith(shows)), None)
    return f"{how} ({found})" if found and ";" not in how else how


def read_observation(path: Path) -> dict[str, dict[tuple[str, str, str, str], tuple[str, str]]]:
    """The JSON `observe.write_observation` wrote: regime -> cell -> (verdict, how)."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    return {regime: {tuple(row[:4]): (row[4], row[5]) for row in cells} for regime, cells in rows.items()}


def cell_changes(before: Observation, after: Observation) -> list[CellChange]:
    """Every cell observed under a regime on both chains whose verdict differs, in order. A
    cell only one chain has (a table the migration creates or drops) is no change of access."""
    found = []
    for regime in sorted(set(before) & set(after)):
        for cell in sorted(set(before[regime]) & set(after[regime])):
            (was, how_before), (now, how) = before[regime][cell], after[regime][cell]
            if was != now:
                found.append(CellChange(regime, cell, was, now, how, how_before))
    return found


def chain_before(migrations: Path, since: str, into: Path) -> Path:
    """A copy of the migrations folder's files named before ``since``: the chain as it stood
    before the migration."""
    into.mkdir(parents=True, exist_ok=True)
    for path in sorted(migrations.glob("*.sql")):
        if path.name < since:
            shutil.copy2(path, into / path.name)
    return into


def newest_migration(migrations: Path) -> str:
    names = sorted(p.name for p in migrations.glob("*.sql"))
    if not names:
        raise TenantspecError(f"{migrations}: no migrations to observe")
    return names[-1]


def observe_chain(root: Path, migrations: Path, target: Path, label: str, earlier: bool = False) -> Observation:
    """Observe one chain in a proof session of its own; the observation, or the session's
    failure as an error naming the chain. The ``earlier`` chain is seeded with the tables and
    columns it has (the world comes from today's specs)."""
    env = dict(os.environ, MIGRATIONS_DIR=str(migrations))
    if earlier:
        env[EARLIER_CHAIN] = "1"
    command = [sys.executable, "-m", "tenantspec", "prove", "--root", str(root), "--observe", "--",
               f"{OBSERVE_TO}={target}", "-q"]
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    if result.returncode != 0 or not target.is_file():
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise TenantspecError(f"observing {label} failed (exit {result.returncode}):\n{tail}")
    return read_observation(target)


def observe_change(root: Path, migrations: Path, since: str | None = None) -> tuple[str, list[CellChange]]:
    """The migration observed (``since``, by default the newest file) and the cells it changes."""
    since = Path(since).name if since else newest_migration(migrations)
    if not (migrations / since).is_file():
        raise TenantspecError(f"{migrations / since}: no such migration (name a file of {migrations})")
    with tempfile.TemporaryDirectory(prefix="tenantspec-change-") as scratch:
        work = Path(scratch)
        earlier = chain_before(migrations, since, work / "before")
        if not any(earlier.iterdir()):
            raise TenantspecError(f"{since} is the first migration: there is no chain before it to compare with")
        before = observe_chain(root, earlier, work / "before.json", f"the chain before {since}", earlier=True)
        after = observe_chain(root, migrations, work / "after.json", f"the chain with {since}")
    return since, cell_changes(before, after)


def change_report(since: str, changes: list[CellChange], allow_narrowing: bool = False) -> tuple[str, int]:
    """The changed cells as a table, lost ones first, and the exit status: 1 when a cell is lost
    and narrowing is not allowed."""
    if not changes:
        return f"{since} changes no observed cell (every persona, command and table as before)", 0
    order = ("lost", "closed", "gained", "changed", "made")
    count = {kind: sum(c.kind == kind for c in changes) for kind in order}
    lost = [c for c in changes if c.lost]
    rows = [(c.kind, c.regime, " ".join(c.cell), c.before, c.after, cause(c.how))
            for c in sorted(changes, key=lambda c: (order.index(c.kind), c.cell, c.regime))]
    header = ("", "regime", "cell (table, command, persona, on rows of)", "before", "after", "how, after")
    text = (f"{since} changes {len(changes)} observed cells: {count['lost']} lost by members or the service, "
            f"{count['closed']} closed to people outside the workspace, {count['gained']} gained, "
            f"{count['changed']} otherwise changed, {count['made']} where the earlier chain lacked the table or "
            f"column the requests name\n" + format_table(rows, header))
    if lost and not allow_narrowing:
        return text + (f"\nerror: {since} takes access away from members or the service in {len(lost)} cells; "
                       "if that is decided, --allow-narrowing says so"), 1
    return text, 0
