"""The straight path: spec → model → state → plan → render → verify → files, all or none.

The state the specs describe is a fresh render of them, replayed; the state production has
is the committed migrations, replayed in the order Supabase applies them. The plan between
the two becomes one new migration, checked by replaying it after the others: nothing may be
left to change.
"""

from __future__ import annotations

import datetime
import difflib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tenantspec.catalog.replay import replay, touched_tables
from tenantspec.catalog.source import Statement, parse_file
from tenantspec.catalog.state import LEGACY, SchemaState
from tenantspec.catalog.unread import built_sql
from tenantspec.errors import Problem, TenantspecError
from tenantspec.plan.compare import managed
from tenantspec.plan.enums import ENUM_VALUES
from tenantspec.plan.history import (
    SUM_FILE,
    History,
    baseline_of,
    digest,
    history_problems,
    next_version,
    read_history,
    record_text,
)
from tenantspec.plan.planner import plan_migration
from tenantspec.plan.steps import REGIMES, Plan
from tenantspec.render.matrix import ACCESS_FILE, render_access
from tenantspec.render.migrations import (
    MIGRATIONS_DIR,
    render_change,
    render_migrations,
)
from tenantspec.render.verify import verify_change, verify_sql
from tenantspec.spec import model
from tenantspec.spec.load import load_project

MIGRATION_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


class DestructiveChange(TenantspecError):
    """The plan would lose data or fail on existing rows, and that was not allowed."""


@dataclass(frozen=True)
class Generation:
    """What ``generate`` found and would write."""

    project: model.Project
    history: History
    current: dict[str, SchemaState]  # the committed migrations, replayed under each regime
    desired: dict[str, SchemaState]  # the specs, rendered fresh and replayed
    plan: Plan
    migrations: dict[Path, str]  # the new migration(s): one, or a project's first set; none if up to date
    outputs: dict[Path, str]  # every file to write: the migrations, the record, ACCESS.md
    baseline: tuple[Statement, ...] = ()  # the objects made before the first migration (tests/baseline.sql)

    @property
    def after(self) -> dict[str, SchemaState]:
        """The committed migrations and the new ones, replayed: what the database holds once
        they ran (functions made by hand-written migrations included, which a fresh render
        of the specs does not create)."""
        if not self.migrations or not self.history.files:
            return self.desired
        added = [s for path, text in self.migrations.items() for s in parse_file(str(path), text)]
        return {regime: replay(state.statements + added, regime) for regime, state in self.current.items()}

    def reviewed_states(self) -> tuple[dict[str, SchemaState], dict[str, SchemaState]]:
        """Before and after as the access review reads them: behind the baseline, whose
        helpers (made in the dashboard, before the first migration) the policies may call."""
        if not self.baseline:
            return self.current, self.after
        return tuple({regime: replay(list(self.baseline) + state.statements, regime)
                      for regime, state in states.items()} for states in (self.current, self.after))


def replay_texts(files: list[tuple[str, str]], passed_over: list[Problem] | None = None) -> dict[str, SchemaState]:
    """Replay ``(path, text)`` files in order under each default-privilege regime; with
    ``passed_over``, statements the parser refuses are left out and said there."""
    statements: list[Statement] = []
    for path, text in files:
        statements += parse_file(path, text, passed_over)
    return {regime: replay(statements, regime) for regime in REGIMES}


def fresh_migrations(project: model.Project, version: str = "0", name: str = "schema") -> dict[Path, str]:
    """The specs as a fresh set of migrations (``render.fresh_layout``), verified with pglast.
    The file of the tables project.yaml's migrations do not list runs after those: ``version``
    moves past the newest listed one when it would sort before it, as ``db push`` orders files."""
    listed = [m.version for m in project.migrations]
    if listed and int(version) <= max(int(v) for v in listed):
        version = next_version(listed, datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc))
    fresh = render_migrations(project, version, name)
    problems = verify_sql(project, fresh)
    if problems:
        raise TenantspecError(problems)
    return fresh


def desired_state(project: model.Project) -> dict[str, SchemaState]:
    """The specs as a fresh set of migrations, replayed."""
    return replay_texts([(str(path), text) for path, text in fresh_migrations(project).items()])


def current_state(history: History, passed_over: list[Problem] | None = None) -> dict[str, SchemaState]:
    """The committed migrations, replayed (``passed_over``: see ``replay_texts``)."""
    return replay_texts([(str(f.path), f.text) for f in history.files], passed_over)


def unreadable_statements(project: model.Project, passed_over: list) -> list[Problem]:
    """Statements of hand-written migrations the parser refuses: one naming a table the specs
    describe stops the plan (it may change what the plan starts from); the others are read
    past, and said."""
    names = {name for name in project.tables} | {n.name for n in project.external_tables}
    stopping = [p for p in passed_over if names & set(re.findall(r"[a-z_][a-z0-9_]*", p.text.lower()))]
    if stopping:
        raise TenantspecError([Problem(p.location, p.message.split(";")[0] + "; the statement names a table the "
                                       "specs describe, so the plan cannot start from what the migrations build")
                               for p in stopping])
    return passed_over


def state_problems(project: model.Project, state: SchemaState, generated: set[str]) -> list[Problem]:
    """Statements PostgreSQL would refuse on tables tenantspec owns (two branches adding the same
    column, say): the folder cannot be applied as it is."""
    owned = managed(project, state, generated)
    problems = []
    for conflict in state.conflicts:
        statement = conflict.origin.statement
        if Path(statement.file.path).name in generated or set(touched_tables(statement.node)) & owned:
            problems.append(Problem(conflict.origin.location,
                                    f"{conflict.message}; PostgreSQL refuses this statement. If two branches "
                                    "each generated a migration, delete the later one and run `tenantspec generate`"))
    return problems


def handwritten_notes(project: model.Project, state: SchemaState, generated: set[str]) -> list[str]:
    """Hand-written statements that change a table after tenantspec took it over."""
    owned = managed(project, state, generated)
    taken: set[tuple[str, str]] = set()
    notes = []
    for statement in state.statements:
        tables = set(touched_tables(statement.node)) & owned
        if Path(statement.file.path).name in generated:
            taken |= tables
        elif tables & taken:
            names = ", ".join(f"{s}.{t}" for s, t in sorted(tables & taken))
            notes.append(f"{statement.file.location(statement.start)}: a hand-written migration changes {names}, "
                         "which tenantspec manages; the plan starts from its result and undoes what the specs "
                         "do not say: put the change in the spec")
    return notes


def migration_name(name: str | None, plan: Plan) -> str:
    """The name given (checked), else the one the plan derives from its steps."""
    return plan.name() if name is None else checked_name(name)


def checked_name(name: str) -> str:
    if not MIGRATION_NAME.match(name) or len(name) > 100:
        raise TenantspecError(f"migration name {name!r}: use snake_case (lowercase letters, digits, underscores)")
    return name


def plan_project(root: Path, name: str | None = None, now: datetime.datetime | None = None,
                 history: History | None = None) -> Generation:
    """Load, render, replay and plan: everything ``generate`` would write, nothing written.
    ``history`` is the folder's, when the caller has read it already."""
    project = load_project(root)
    desired = desired_state(project)
    history = history or read_history(root)
    problems = history_problems(history)
    generated = history.generated
    passed_over: list = []
    current = current_state(history, passed_over)
    read_past = unreadable_statements(project, passed_over)
    problems += state_problems(project, current[LEGACY], generated)
    if problems:
        raise TenantspecError(problems)
    plan = plan_migration(project, current, desired, generated)
    plan = Plan(plan.steps, plan.notes + tuple(handwritten_notes(project, current[LEGACY], generated))
                + tuple(str(p) for p in read_past), plan.sources)
    entries = [(e.name, e.digest) for e in history.entries] if history.entries is not None else \
        [(f.name, digest(f.text)) for f in history.files if f.name in generated]
    migrations: dict[Path, str] = {}
    if not plan.empty:
        version = next_version(history.versions(), now or datetime.datetime.now(datetime.timezone.utc))
        if not history.files:  # a new project: its first migrations, laid out as project.yaml lists them
            migrations = fresh_migrations(project, version, migration_name(name, plan))
        else:
            versions = list(history.versions())
            parts = split_enum_values(plan)
            for part in parts:
                named = name if part is parts[-1] or name is None else f"{checked_name(name)}_enum_values"
                path = MIGRATIONS_DIR / f"{version}_{migration_name(named, part)}.sql"
                migrations[path] = render_change(part)
                versions.append(version)
                version = next_version(versions, now or datetime.datetime.now(datetime.timezone.utc))
            check_change(project, current, list(migrations.items()), desired,
                         generated | {path.name for path in migrations})
        entries += [(path.name, digest(text)) for path, text in migrations.items()]
    outputs = {SUM_FILE: record_text(entries), **render_access(project), **migrations}
    found = baseline_of(root) if not plan.empty else None  # read by the access review only
    baseline = tuple(parse_file(str(found.relative_to(root) if found.is_relative_to(root) else found),
                                found.read_text(encoding="utf-8"))) if found is not None else ()
    return Generation(project, history, current, desired, plan, migrations, outputs, baseline)


def split_enum_values(plan: Plan) -> list[Plan]:
    """The plan as one migration, or two when it adds enum values and does more: the values
    first, committed in a file of their own, since PostgreSQL refuses to use a value in the
    transaction that adds it."""
    values = tuple(s for s in plan.steps if s.phase == ENUM_VALUES)
    rest = tuple(s for s in plan.steps if s.phase != ENUM_VALUES)
    if not values or not rest:
        return [plan]
    return [Plan(values, (), plan.sources[:1]), Plan(rest, plan.notes, plan.sources)]


def check_change(project: model.Project, current: dict[str, SchemaState], migrations: list[tuple[Path, str]],
                 desired: dict[str, SchemaState], generated: set[str]) -> None:
    """The new migrations say only what the specs allow, and after them nothing is left to change."""
    problems = [p for path, text in migrations for p in verify_change(project, str(path), text)]
    if problems:
        raise TenantspecError(problems)
    added = [s for path, text in migrations for s in parse_file(str(path), text)]
    migration = migrations[-1]
    after = {regime: replay(state.statements + added, regime) for regime, state in current.items()}
    problems = state_problems(project, after[LEGACY], generated)
    left = plan_migration(project, after, desired, generated)
    if problems or not left.empty:
        raise TenantspecError(problems + [Problem(None, f"internal error: after {migration[0]} the plan still has: "
                                                        f"{step.summary}") for step in left.steps])


@dataclass(frozen=True)
class Checked:
    """What `check_project` found: failures (empty when the project is consistent)."""

    failures: tuple[str, ...]
    notes: tuple[str, ...] = ()
    access_diff: str = ""  # how schema/ACCESS.md differs from the specs, when it does


def check_project(root: Path) -> Checked:
    """No generated migration edited, missing or left over; no spec change without its
    migration; schema/ACCESS.md current."""
    history = read_history(root)
    failures = [str(p) for p in history_problems(history)]
    if history.entries is None:
        failures.append(f"{SUM_FILE}: no record of the generated migrations yet: run `tenantspec generate`")
    if failures:
        return Checked(tuple(failures))
    generation = plan_project(root, history=history)
    current, generated = generation.current[LEGACY], generation.history.generated
    if not generation.plan.empty:
        changed = handwritten_notes(generation.project, current, generated)
        if changed:  # a hand-written migration, not the specs, is why they differ: say which
            failures.append("hand-written migrations change tables tenantspec manages, so the migrations and the "
                            "specs differ: put the change in the spec (`tenantspec diff` shows the rest):")
            failures += [f"  {note}" for note in changed]
        else:
            failures.append("the specs have changes no migration holds yet: run `tenantspec generate` "
                            "(`tenantspec diff` shows them):")
        failures += [f"  {step.summary}" for step in generation.plan.steps]
    failures += [f"{p}: replay cannot tell what it does to a table tenantspec manages; put the change in the spec"
                 for p in built_sql(current, managed(generation.project, current, generated), generated)]
    diff = "".join(stale_outputs(root, {ACCESS_FILE: generation.outputs[ACCESS_FILE]}))
    if diff:
        failures.append(f"{ACCESS_FILE} differs from the specs: run `tenantspec generate`")
    return Checked(tuple(failures), tuple(generation.plan.notes), diff)


def refuse_destructive(plan: Plan) -> None:
    """Exit status 2, each hazard with its spec location, when destructive steps were not allowed."""
    hazards = plan.destructive
    if hazards:
        raise DestructiveChange([Problem(h.location, h.message) for h in hazards] + [Problem(
            None, f"{len(hazards)} destructive change(s) refused; nothing was written. Run "
                  "`tenantspec generate --allow-destructive` to let them through")])


def fresh_outputs(root: Path, name: str | None = None, now: datetime.datetime | None = None) -> dict[Path, str]:
    """The specs as a fresh set of migrations (file names without a folder): what a new project
    applies, or a squash of the history."""
    project = load_project(root)
    versions = [m.version for m in project.migrations]
    version = next_version(versions, now or datetime.datetime.now(datetime.timezone.utc))
    files = fresh_migrations(project, version, checked_name(name) if name else "schema")
    return {Path(path.name): text for path, text in files.items()}


def write_outputs(root: Path, files: dict[Path, str]) -> list[Path]:
    """Write every file or none: stage each beside its target, then rename them all into place.

    Returns the paths whose content changed.
    """
    changed = [path for path, text in files.items() if _read(root / path) != text]
    staged: list[tuple[Path, Path]] = []
    try:
        for path in changed:
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(files[path])
            # mkstemp makes 0600 files: the file gets the mode the user's umask gives new files
            # (CI runners and teammates' tools read them), or keeps the one it had
            os.chmod(temp, target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask())
            staged.append((Path(temp), target))
    except OSError as error:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise TenantspecError(f"cannot write {error.filename}: {error.strerror}; nothing was changed") from None
    for temp, target in staged:
        os.replace(temp, target)
    return changed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def stale_outputs(root: Path, files: dict[Path, str]) -> list[str]:
    """A unified diff for every file that differs from what would be written."""
    diffs = []
    for path, text in files.items():
        current = _read(root / path)
        if current != text:
            diffs.append("".join(difflib.unified_diff(
                (current or "").splitlines(keepends=True), text.splitlines(keepends=True),
                fromfile=f"{path} (committed)", tofile=f"{path} (generated)")) or f"{path}: missing\n")
    return diffs


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


__all__ = ["ACCESS_FILE", "DestructiveChange", "Generation", "fresh_outputs", "plan_project", "refuse_destructive",
           "stale_outputs", "write_outputs"]
