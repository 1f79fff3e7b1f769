"""Command line: a thin layer over ``generator.pipeline`` and ``generator.lint``."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from generator.errors import TenantspecError
from generator.pipeline import build_outputs, stale_outputs, write_outputs

DESCRIPTION = "Supabase tenant tables kept as code: generate, check and lint migrations."


def cmd_generate(args: argparse.Namespace) -> int:
    """Render the specs into supabase/migrations and schema/ACCESS.md."""
    root = Path(args.root)
    changed = write_outputs(root, build_outputs(root))
    for path in changed:
        print(f"wrote {path}")
    if not changed:
        print("up to date")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Regenerate in memory; fail with a diff when a committed file is stale or edited by hand."""
    root = Path(args.root)
    diffs = stale_outputs(root, build_outputs(root))
    for diff in diffs:
        sys.stdout.write(diff)
    if diffs:
        print(f"{len(diffs)} generated file(s) differ from the specs: run `make generate`", file=sys.stderr)
        return 1
    print("generated files match the specs; pglast verification passed")
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default=argparse.SUPPRESS, help="project root holding schema/ (default: .)")
    common.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS,
                        help="show a traceback on errors")
    parser = argparse.ArgumentParser(prog="tenantspec", description=DESCRIPTION, parents=[common])
    parser.set_defaults(root=".", traceback=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, func in (("generate", cmd_generate), ("check", cmd_check)):
        sub = commands.add_parser(name, help=func.__doc__.splitlines()[0], description=func.__doc__,
                                  parents=[common])
        sub.set_defaults(func=func)
    try:
        from generator.lint import command as lint_command
    except ImportError:
        lint_command = None
    if lint_command is not None:
        sub = commands.add_parser("lint", help="Lint Supabase migrations for tenancy mistakes.",
                                  description=lint_command.__doc__, parents=[common])
        lint_command.add_arguments(sub)
        sub.set_defaults(func=lint_command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except TenantspecError as error:
        if args.traceback:
            traceback.print_exc()
        for problem in error.problems:
            print(f"error: {problem}" if problem.location is None else str(problem), file=sys.stderr)
        return error.exit_status


if __name__ == "__main__":
    sys.exit(main())
