"""Lint Supabase migrations for tenancy mistakes.

The folder is parsed with pglast and replayed statement by statement into a schema state
(``tenantspec.catalog.replay``); each rule (``rules/``, one module per family) then looks at the state after the whole folder
and points at the statement that caused what it found. Who the tenants are is read from
the same state (``tenancy.py``). ``-- tenantspec: ignore RULE-ID <reason>`` on a statement
silences that rule there.

    findings = lint_paths(["supabase/migrations"])
    findings = lint_paths(["supabase/migrations"], project_config(Path(".")))  # specs, pyproject.toml
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tenantspec.catalog.replay import replay
from tenantspec.catalog.source import (
    Statement,
    migration_paths,
    parse_file,
    read_statements,
)
from tenantspec.catalog.state import SchemaState
from tenantspec.errors import Location
from tenantspec.lint.config import LintConfig, project_config
from tenantspec.lint.rules import RULES, Rule, Severity
from tenantspec.lint.tenancy import Tenancy, infer_tenancy

__all__ = [
    "Finding", "LintConfig", "RULES", "Rule", "Severity", "Tenancy",
    "infer_tenancy", "lint_paths", "lint_state", "lint_statements", "lint_text", "project_config",
]


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: where, which rule, how bad, and what to do."""

    location: Location
    rule_id: str
    severity: Severity
    message: str
    statement: Statement | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.location} {self.rule_id} {self.severity} {self.message}"


def lint_paths(paths: list[str | Path], config: LintConfig = LintConfig()) -> list[Finding]:
    """Lint migration files and folders (applied in file-name order); see ``migration_paths``."""
    return lint_statements(read_statements(migration_paths(paths)), config)


def lint_text(text: str, path: str = "<sql>", config: LintConfig = LintConfig()) -> list[Finding]:
    """Lint one piece of SQL as if it were the only migration."""
    return lint_statements(parse_file(path, text), config)


def lint_statements(statements: list[Statement], config: LintConfig = LintConfig()) -> list[Finding]:
    """Replay the statements, run every rule, and apply the statements' suppressions."""
    state = replay(statements, config.default_privileges)
    return lint_state(state, infer_tenancy(state, config.declared()), config)


def lint_state(state: SchemaState, tenancy: Tenancy, config: LintConfig = LintConfig()) -> list[Finding]:
    """Run every rule on a replayed state and apply its statements' suppressions."""
    statements = state.statements
    raw: list[Finding] = []
    for rule in RULES.values():
        if rule.check is None:
            continue
        for violation in rule.check(state, config, tenancy):
            raw.append(Finding(violation.origin.location, rule.id, violation.severity or rule.severity,
                               violation.message, violation.origin.statement))
    return sorted(set(apply_suppressions(raw, statements)), key=_order(statements))


def apply_suppressions(findings: list[Finding], statements: list[Statement]) -> list[Finding]:
    """Drop findings a reasoned suppression covers; report bare and unused suppressions."""
    kept: list[Finding] = []
    used: set[tuple[int, str]] = set()
    for finding in findings:
        statement = finding.statement
        honoured = [s for s in (statement.suppressions if statement else ())
                    if finding.rule_id in s.rule_ids and s.reason]
        if honoured:
            used.add((id(honoured[0]), finding.rule_id))
        else:
            kept.append(finding)
    seen: set[int] = set()
    for statement in statements:
        for suppression in statement.suppressions:
            if id(suppression) in seen:
                continue  # statements inside a DO block share the block's comments
            seen.add(id(suppression))
            location = statement.file.location(suppression.offset)
            if not suppression.reason:
                rule = RULES["suppression-without-reason"]
                kept.append(Finding(location, rule.id, rule.severity,
                                    f"ignore {', '.join(suppression.rule_ids)} gives no reason; it is not honoured",
                                    statement))
                continue
            for rule_id in suppression.rule_ids:
                if (id(suppression), rule_id) not in used:
                    rule = RULES["unused-suppression"]
                    what = "is not a rule" if rule_id not in RULES else "reports nothing here"
                    kept.append(Finding(location, rule.id, rule.severity,
                                        f"ignore {rule_id}: {rule_id} {what}", statement))
    return kept


def _order(statements: list[Statement]):
    files = {}
    for statement in statements:
        files.setdefault(statement.file.path, len(files))

    def key(finding: Finding):
        loc = finding.location
        return (files.get(loc.path, len(files)), loc.line, loc.col, finding.rule_id, finding.message)
    return key
