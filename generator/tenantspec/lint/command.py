"""Lint Supabase migrations for tenancy mistakes (rules: --list-rules, docs/lint.md).

Settings come from the project's tenantspec specs (schema/project.yaml) and the
[tool.tenantspec.lint] section of its pyproject.toml (both read from --root, default the
current directory), then from the flags below.

Exit status: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage errors
and unparsable SQL (printed with its location).
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import traceback
from pathlib import Path

from tenantspec.catalog.source import (
    SUPABASE_MIGRATIONS,
    migration_paths,
    read_statements,
)
from tenantspec.errors import TenantspecError
from tenantspec.lint import RULES, Severity, lint_statements
from tenantspec.lint.config import LEGACY, RESTRICTED, LintConfig, project_config
from tenantspec.lint.formats import FORMATS

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the lint command's arguments to ``parser`` (its own or a subcommand's)."""
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help=f"migration files or folders, applied in file-name order; a project folder "
                             f"means its {SUPABASE_MIGRATIONS} (default: {SUPABASE_MIGRATIONS})")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text",
                        help="text: file:line:col RULE-ID severity message, then a summary (default); "
                             "json; sarif (2.1.0, for code-scanning upload)")
    parser.add_argument("--fail-on", choices=[str(s) for s in Severity], default="warning",
                        help="exit 1 when a finding is at least this severe (default: warning)")
    parser.add_argument("--explain", metavar="RULE-ID",
                        help="print what a rule finds, why it matters and how to fix it")
    parser.add_argument("--list-rules", action="store_true", help="print every rule id, severity and summary")
    parser.add_argument("--api-schema", action="append", metavar="SCHEMA",
                        help="a schema the API exposes (repeatable; default: public, graphql_public)")
    parser.add_argument("--tenant-root", action="append", metavar="SCHEMA.TABLE",
                        help="a table whose rows are tenants (repeatable; adds to the roots inferred "
                             "from membership tables)")
    parser.add_argument("--tenant-column", action="append", metavar="[SCHEMA.TABLE.]COLUMN",
                        help="a column naming a row's tenant, in one table or (bare) in every table "
                             "that has it (repeatable; adds to the inferred ones)")
    parser.add_argument("--users-table", action="append", metavar="SCHEMA.TABLE",
                        help="a table with one row per user, besides auth.users (repeatable)")
    parser.add_argument("--membership-helper", action="append", metavar="NAME",
                        help="a function whose call runs a membership query (repeatable)")
    parser.add_argument("--no-inference", action="store_true",
                        help="use only the declared tenant roots and columns")
    parser.add_argument("--no-specs", action="store_true",
                        help="do not read the project's schema/project.yaml")
    parser.add_argument("--default-privileges", choices=[LEGACY, RESTRICTED], default=None,
                        help="what new public tables and functions are granted before any GRANT: "
                             "legacy (ALL to the API roles, projects before 2026-05-30; default) or restricted")


def config_from(args: argparse.Namespace) -> LintConfig:
    """The project's configuration (specs, pyproject.toml), then the flags on top."""
    base = project_config(Path(getattr(args, "root", ".")), use_specs=not args.no_specs)
    return base.merged(
        api_schemas=args.api_schema,
        tenant_roots=args.tenant_root,
        tenant_columns=args.tenant_column,
        users_tables=args.users_table,
        membership_helpers=args.membership_helper,
        default_privileges=args.default_privileges,
        infer_tenancy=False if args.no_inference else None,
    )


def emit(text: str) -> None:
    """Write to stdout. A reader that went away (`| head`) is not an error: the rest of
    the output is dropped (`reader_gone`)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        reader_gone()


def reader_gone() -> None:
    """After the reader of stdout went away: the rest of the output, and the interpreter's
    last flush, go nowhere rather than into the closed pipe."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def run(args: argparse.Namespace) -> int:
    """Run the command for parsed ``args``; returns the exit status."""
    if args.list_rules:
        width = max(len(r) for r in RULES)
        emit("".join(f"{rule.id:<{width}}  {str(rule.severity):<7}  {rule.summary}\n" for rule in RULES.values()))
        return EXIT_CLEAN
    if args.explain:
        rule = RULES.get(args.explain)
        if rule is None:
            close = difflib.get_close_matches(args.explain, list(RULES), n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            sys.stderr.write(f"unknown rule {args.explain!r}{hint} (`--list-rules` lists them)\n")
            return EXIT_USAGE
        emit(f"{rule.id} ({rule.severity}): {rule.summary}\n\n{rule.doc}\n")
        return EXIT_CLEAN
    try:
        default = Path(getattr(args, "root", ".")) / SUPABASE_MIGRATIONS
        paths = migration_paths(args.paths or [default])
        findings = lint_statements(read_statements(paths), config_from(args))
    except TenantspecError as error:
        if getattr(args, "traceback", False):
            traceback.print_exc()
        for problem in error.problems:
            sys.stderr.write(f"{problem}\n")
        return EXIT_USAGE
    emit(FORMATS[args.format](findings, len(paths)))
    threshold = Severity[args.fail_on.upper()]
    return EXIT_FINDINGS if any(f.severity >= threshold for f in findings) else EXIT_CLEAN


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenantspec lint", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))
