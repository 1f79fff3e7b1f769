"""Lint Supabase migrations for tenancy mistakes (rules: --list-rules, docs/lint.md).

Exit status: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage errors
and unparsable SQL (printed with its location).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from generator.errors import TenantspecError
from generator.lint import RULES, Severity, lint_paths
from generator.lint.config import LEGACY, RESTRICTED, LintConfig
from generator.lint.formats import FORMATS
from generator.catalog.source import SUPABASE_MIGRATIONS

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the lint command's arguments to ``parser`` (its own or a subcommand's)."""
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help=f"migration files or folders, applied in file-name order; a project folder "
                             f"means its {SUPABASE_MIGRATIONS} (default: {SUPABASE_MIGRATIONS})")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text",
                        help="text: file:line:col RULE-ID severity message (default); "
                             "json; sarif (2.1.0, for code-scanning upload)")
    parser.add_argument("--fail-on", choices=[str(s) for s in Severity], default="warning",
                        help="exit 1 when a finding is at least this severe (default: warning)")
    parser.add_argument("--explain", metavar="RULE-ID",
                        help="print what a rule finds, why it matters and how to fix it")
    parser.add_argument("--list-rules", action="store_true", help="print every rule id, severity and summary")
    parser.add_argument("--api-schema", action="append", metavar="SCHEMA",
                        help="a schema the API exposes (repeatable; default: public, graphql_public)")
    parser.add_argument("--tenant-column", default="workspace_id",
                        help="the column that names a row's tenant (default: workspace_id)")
    parser.add_argument("--workspace-table", action="append", metavar="SCHEMA.TABLE",
                        help="a table created outside the folder whose rows belong to a workspace "
                             "(repeatable; adds to public.workspaces, public.workspace_members, public.orders)")
    parser.add_argument("--default-privileges", choices=[LEGACY, RESTRICTED], default=LEGACY,
                        help="what new public tables and functions are granted before any GRANT: "
                             "legacy (ALL to the API roles, projects before 2026-05-30; default) or restricted")


def config_from(args: argparse.Namespace) -> LintConfig:
    defaults = LintConfig()
    return LintConfig(
        api_schemas=frozenset(args.api_schema) if args.api_schema else defaults.api_schemas,
        tenant_column=args.tenant_column,
        workspace_tables=defaults.workspace_tables | frozenset(args.workspace_table or ()),
        default_privileges=args.default_privileges,
    )


def run(args: argparse.Namespace) -> int:
    """Run the command for parsed ``args``; returns the exit status."""
    out = sys.stdout
    if args.list_rules:
        width = max(len(r) for r in RULES)
        for rule in RULES.values():
            out.write(f"{rule.id:<{width}}  {str(rule.severity):<7}  {rule.summary}\n")
        return EXIT_CLEAN
    if args.explain:
        rule = RULES.get(args.explain)
        if rule is None:
            sys.stderr.write(f"unknown rule {args.explain!r}; `--list-rules` lists them\n")
            return EXIT_USAGE
        out.write(f"{rule.id} ({rule.severity}): {rule.summary}\n\n{rule.doc}\n")
        return EXIT_CLEAN
    try:
        default = Path(getattr(args, "root", ".")) / SUPABASE_MIGRATIONS
        findings = lint_paths(args.paths or [default], config_from(args))
    except TenantspecError as error:
        if getattr(args, "traceback", False):
            traceback.print_exc()
        for problem in error.problems:
            sys.stderr.write(f"{problem}\n")
        return EXIT_USAGE
    out.write(FORMATS[args.format](findings))
    threshold = Severity[args.fail_on.upper()]
    return EXIT_FINDINGS if any(f.severity >= threshold for f in findings) else EXIT_CLEAN


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenantspec lint", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
