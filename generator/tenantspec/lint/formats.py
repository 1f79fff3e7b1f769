"""Findings as text (one per line and a summary), JSON, or SARIF 2.1.0 for code-scanning
upload. Each formatter takes the findings and the number of files linted."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tenantspec.lint.rules import RULES, Severity

if TYPE_CHECKING:
    from tenantspec.lint import Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def format_text(findings: list[Finding], files: int) -> str:
    """``file:line:col RULE-ID severity message``, one finding per line, then the summary."""
    return "".join(f"{finding}\n" for finding in findings) + summary(findings, files) + "\n"


def summary(findings: list[Finding], files: int) -> str:
    """``3 findings (1 error, 2 warnings, 0 info) in 12 files`` or ``no findings in 12 files``."""
    in_files = f"in {files} file{'' if files == 1 else 's'}"
    if not findings:
        return f"no findings {in_files}"
    counts = {severity: sum(f.severity == severity for f in findings) for severity in Severity}
    errors, warnings = counts[Severity.ERROR], counts[Severity.WARNING]
    return (f"{len(findings)} finding{'' if len(findings) == 1 else 's'} "
            f"({errors} error{'' if errors == 1 else 's'}, {warnings} warning{'' if warnings == 1 else 's'}, "
            f"{counts[Severity.INFO]} info) {in_files}")


def format_json(findings: list[Finding], files: int) -> str:
    return json.dumps([
        {
            "path": f.location.path,
            "line": f.location.line,
            "col": f.location.col,
            "rule": f.rule_id,
            "severity": str(f.severity),
            "message": f.message,
        }
        for f in findings
    ], indent=2) + "\n"


def format_sarif(findings: list[Finding], files: int) -> str:
    """One SARIF run whose driver lists every rule, so viewers can show the rule's doc."""
    rule_ids = list(RULES)
    rules = [
        {
            "id": rule.id,
            "name": rule.id,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.doc},
            "help": {"text": rule.doc},
            "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity]},
        }
        for rule in RULES.values()
    ]
    results = [
        {
            "ruleId": f.rule_id,
            "ruleIndex": rule_ids.index(f.rule_id),
            "level": SARIF_LEVELS[f.severity],
            "message": {"text": f.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": f.location.path.replace("\\", "/")},
                    "region": {"startLine": f.location.line, "startColumn": f.location.col},
                },
            }],
        }
        for f in findings
    ]
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "tenantspec-lint",
                "rules": rules,
            }},
            # pglast positions, and so our columns, count characters, not UTF-16 units
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(document, indent=2) + "\n"


FORMATS = {"text": format_text, "json": format_json, "sarif": format_sarif}
