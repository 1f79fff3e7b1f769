"""What a reviewer reads before the next migration lands: the changes in words, who gains or
loses access, and the SQL that would be written (``tenantspec diff``)."""

from __future__ import annotations

from dataclasses import dataclass

from tenantspec.catalog.access import TenantModel, Verdict, access_matrix, personas
from tenantspec.catalog.state import LEGACY, RESTRICTED
from tenantspec.errors import Problem
from tenantspec.plan.buckets import bucket_rows, bucket_rules
from tenantspec.plan.compare import managed
from tenantspec.plan.pipeline import DestructiveChange, Generation
from tenantspec.plan.steps import REGIMES
from tenantspec.spec.model import COMMANDS, NOBODY, OWN

REGIME_NAMES = {LEGACY: "legacy default privileges", RESTRICTED: "2026 default privileges"}
# A cell of a table or column the migration adds: shown only where the new one is not denied.
ABSENT = Verdict(False, "does not exist yet")
RANK = {("absent", "allowed"): 0, ("absent", "unknown"): 1, ("denied", "allowed"): 0, ("unknown", "allowed"): 1, ("denied", "unknown"): 2,
        ("allowed", "unknown"): 3, ("unknown", "denied"): 4, ("allowed", "denied"): 5,
        ("absent", "own rows"): 0, ("denied", "own rows"): 0, ("own rows", "allowed"): 0, ("unknown", "own rows"): 1,
        ("own rows", "unknown"): 3, ("allowed", "own rows"): 5, ("own rows", "denied"): 5}


@dataclass(frozen=True)
class AccessChange:
    """Cells of the access matrix the migration changes the same way: one table and command,
    the personas it changes for."""

    table: str
    command: str
    personas: tuple[str, ...]
    before: Verdict
    after: Verdict
    regimes: tuple[str, ...]  # where it changes: both, or one of the default-privilege regimes

    @property
    def widening(self) -> bool:
        return self.after.allowed is True or (self.after.allowed is None and self.before.allowed is False)

    @property
    def rank(self) -> int:
        return RANK.get((_word(self.before), self.after.word), 9)


def _word(verdict: Verdict) -> str:
    return "absent" if verdict is ABSENT else verdict.word


def access_changes(generation: Generation) -> list[AccessChange]:
    """Every cell (table × command × persona) whose verdict changes, widenings first."""
    project = generation.project
    tenancy = TenantModel.of(project)
    keys = sorted(managed(project, generation.current[LEGACY], generation.history.generated))
    current, desired = generation.reviewed_states()
    by_cell: dict[tuple, dict[str, tuple[Verdict, Verdict]]] = {}
    for regime in REGIMES:
        before = access_matrix(current[regime], tenancy, keys)
        after = access_matrix(desired[regime], tenancy, keys)
        for cell in sorted(after):
            new = after[cell]
            old = before.get(cell, ABSENT)
            if (old.allowed, old.own) != (new.allowed, new.own) and not (old is ABSENT and new.allowed is False):
                by_cell.setdefault(cell, {})[regime] = (old, new)
    order = {p.name: i for i, p in enumerate(personas(tenancy))}
    grouped: dict[tuple, list] = {}
    for (table, command, persona), regimes in sorted(by_cell.items(), key=lambda i: order.get(i[0][2], 99)):
        pairs = {(_word(old), new.word) for old, new in regimes.values()}
        shapes = [tuple(regimes)] if len(pairs) == 1 else [(regime,) for regime in regimes]
        for shape in shapes:
            old, new = regimes[shape[0]]
            key = (table, command, _word(old), new.word, shape)
            grouped.setdefault(key, [old, new, []])[2].append(persona)
    changes = [AccessChange(table, command, tuple(names), old, new, shape)
               for (table, command, _, _, shape), (old, new, names) in grouped.items()]
    changes += bucket_access_changes(generation)
    return sorted(changes, key=lambda c: (c.rank, c.table, c.command, c.regimes))


def bucket_access_changes(generation: Generation) -> list[AccessChange]:
    """Each bucket's commands whose membership roles change: before, the generated policies the
    migrations hold; after, the spec (a level's roles, every signed-in user's own folder)."""
    project = generation.project
    levels = project.tenancy.levels
    roles = TenantModel.of(project).roles
    current = generation.current[LEGACY]
    ids = sorted(set(project.buckets) | set(bucket_rows(current)))
    changes = []
    for bucket_id in ids:
        spec = project.buckets.get(bucket_id)
        before = bucket_rules(current, bucket_id, project.helper_schema, spec.replaces if spec is not None else ())
        after = dict(spec.access) if spec is not None else {}
        for command in COMMANDS:
            old, new = before.get(command, NOBODY), after.get(command, NOBODY)
            if old == new or (spec is None and not before):
                continue
            was, now = _bucket_verdicts(old, levels, roles), _bucket_verdicts(new, levels, roles)
            changed = {r: (was[r], now[r]) for r in roles if (was[r].allowed, was[r].own) != (now[r].allowed, now[r].own)}
            for (old_verdict, new_verdict), names in _grouped(changed).items():
                changes.append(AccessChange(f"bucket {bucket_id}", command, names, old_verdict, new_verdict, REGIMES))
    return changes


def _bucket_verdicts(rule: str, levels: dict[str, tuple[str, ...]], roles: tuple[str, ...]) -> dict[str, Verdict]:
    if rule == OWN:
        return {r: Verdict(True, "the user's own folder", own=True) for r in roles}
    if rule == "unknown":
        return {r: Verdict(None, "a policy tenantspec cannot read") for r in roles}
    held = levels.get(rule, ())
    return {r: Verdict(r in held, f"level {rule}" if r in held else f"not in level {rule}" if rule != NOBODY
                       else "nobody") for r in roles}


def _grouped(verdicts: dict[str, tuple[Verdict, Verdict]]) -> dict[tuple[Verdict, Verdict], tuple[str, ...]]:
    grouped: dict[tuple[Verdict, Verdict], list[str]] = {}
    for role, pair in verdicts.items():
        grouped.setdefault(pair, []).append(role)
    return {pair: tuple(names) for pair, names in grouped.items()}


def kept_personas(generation: Generation) -> set[str]:
    """Who must not lose a command without saying so: the membership roles and service_role."""
    return set(TenantModel.of(generation.project).roles) | {"service_role"}


def narrowings(generation: Generation) -> list[AccessChange]:
    """The changes that take a command away from a membership role, or from service_role, that
    had it (or may have had it: what the SQL did not tell). Closing a hole for anon, outsiders
    and other workspaces' members is no narrowing, nor is taking TRUNCATE, REFERENCES or TRIGGER
    from an API role."""
    if generation.plan.empty:
        return []
    kept = kept_personas(generation)
    return [c for c in access_changes(generation)
            if c.command in COMMANDS and c.before is not ABSENT and kept & set(c.personas)
            and (c.after.allowed is False and c.before.allowed is not False
                 or c.after.own and not (c.before.own or c.before.allowed is False))]


def refuse_narrowing(generation: Generation) -> None:
    """Exit status 2, each narrowing at its spec's access, nothing written, unless allowed."""
    found = narrowings(generation)
    if not found:
        return
    kept = kept_personas(generation)
    problems = []
    for change in found:
        table = generation.project.tables.get(change.table.split(".")[-1])
        where = table.locate("access") if table is not None else None
        if change.table.startswith("bucket "):
            bucket = generation.project.buckets.get(change.table.removeprefix("bucket "))
            where = bucket.location if bucket is not None else None
        who = ", ".join(p for p in change.personas if p in kept)
        lost = "it on other users' rows" if change.after.own else "it"
        cause = f"; before, tenantspec could not tell: {change.before.reason}" \
            if change.before.allowed is None and change.before.reason else ""
        problems.append(Problem(where, f"{change.table} {change.command}: {who} would lose {lost} "
                                       f"({change.before.word} -> {change.after.word}){_where(change)}{cause}"))
    raise DestructiveChange(problems + [Problem(None, (
        f"{len(found)} change(s) take access away from members or the service; nothing was written. If "
        "that is meant, `tenantspec generate --allow-narrowing` lets them through (tenantspec diff shows them)"))])


def review(generation: Generation, fmt: str = "text") -> str:
    return FORMATS[fmt](generation, access_changes(generation) if not generation.plan.empty else [])


def _where(change: AccessChange) -> str:
    if len(change.regimes) == 2:
        return ""
    return f" (with the {REGIME_NAMES[change.regimes[0]]})"


def _file(generation: Generation) -> str:
    return ", ".join(str(path) for path in generation.migrations)


def _sql(generation: Generation) -> str:
    return "\n".join(text.rstrip("\n") + "\n" for text in generation.migrations.values()).rstrip("\n")


def text_review(generation: Generation, changes: list[AccessChange]) -> str:
    plan = generation.plan
    lines = []
    if plan.empty:
        lines.append("No changes pending: the migrations hold what the specs say.")
    else:
        lines += [f"{len(plan.steps)} change(s) pending; `tenantspec generate` writes {_file(generation)}", "", "Changes:"]
        for step in plan.steps:
            lines.append(f"  {step.summary}")
            lines += [f"    {'DESTRUCTIVE' if h.destructive else 'note'}: {h}" for h in step.hazards]
        lines += ["", "Access (table command: before -> after, for whom; widenings first):"]
        if not changes:
            lines.append("  no cell of the access matrix changes")
        for change in changes:
            lines.append(f"  {change.table} {change.command}: {_word(change.before)} -> {change.after.word}"
                         f"{_where(change)} for {', '.join(change.personas)} ({change.after.reason})")
    if plan.notes:
        lines += ["", "Notes:"] + [f"  {note}" for note in plan.notes]
    if generation.migrations:
        lines += ["", f"SQL ({_file(generation)}):", "", _sql(generation)]
    return "\n".join(lines) + "\n"


def markdown_review(generation: Generation, changes: list[AccessChange]) -> str:
    plan = generation.plan
    if plan.empty:
        lines = ["### tenantspec: no schema changes pending", ""]
    else:
        lines = [f"### tenantspec: {len(plan.steps)} schema change(s) → `{_file(generation)}`", "", "#### Changes", ""]
        for step in plan.steps:
            lines.append(f"- {step.summary}")
            lines += [f"  - **{'destructive' if h.destructive else 'note'}**: {h}" for h in step.hazards]
        lines += ["", "#### Access delta", ""]
        if changes:
            lines += ["| table | command | personas | before | after | why |", "|---|---|---|---|---|---|"]
            for c in changes:
                after = f"**{c.after.word}**" if c.widening else c.after.word
                lines.append(f"| {c.table} | {c.command} | {', '.join(c.personas)} | {_word(c.before)} | "
                             f"{after}{_where(c)} | {c.after.reason} |")
        else:
            lines.append("No cell of the access matrix changes.")
    if plan.notes:
        lines += ["", "#### Notes", ""] + [f"- {note}" for note in plan.notes]
    if generation.migrations:
        lines += ["", "<details><summary>SQL</summary>", "", "```sql", _sql(generation), "```",
                  "", "</details>"]
    return "\n".join(lines) + "\n"


FORMATS = {"text": text_review, "markdown": markdown_review}
