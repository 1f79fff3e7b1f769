"""Findings as text (one per line), JSON, or SARIF 2.1.0 for code-scanning upload."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from generator.lint.rules import RULES, Severity

if TYPE_CHECKING:
    from generator.lint import Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def format_text(findings: list[Finding]) -> str:
    """``file:line:col RULE-ID severity message``, one finding per line."""
    return "".join(f"{finding}\n" for finding in findings)


def format_json(findings: list[Finding]) -> str:
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


def format_sarif(findings: list[Finding]) -> str:
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
