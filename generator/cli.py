"""Command line: a thin layer over ``generator.pipeline``, ``generator.review``, ``generator.adopt``
and ``generator.lint``."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from generator.adopt import adopt
from generator.errors import TenantspecError
from generator.history import (
    SUM_FILE,
    digest,
    history_problems,
    migration_files,
    read_history,
    record_text,
    recorded_names,
)
from generator.pipeline import (
    ACCESS_FILE,
    fresh_outputs,
    plan_project,
    refuse_destructive,
    stale_outputs,
    write_outputs,
)
from generator.review import FORMATS, review

DESCRIPTION = "Supabase tenant tables kept as code: generate, check, review and lint migrations."


def cmd_generate(args: argparse.Namespace) -> int:
    """Write the next migration when the specs changed (history is never rewritten)."""
    root = Path(args.root)
    if args.fresh:
        files = fresh_outputs(root, args.name)
        written = write_outputs(Path(args.fresh), files)
        for path in files:
            print(f"{'wrote' if path in written else 'unchanged'} {Path(args.fresh) / path}")
        return 0
    generation = plan_project(root, args.name)
    if not args.allow_destructive:
        refuse_destructive(generation.plan)
    for note in generation.plan.notes:
        print(f"note: {note}", file=sys.stderr)
    changed = write_outputs(root, generation.outputs)
    for path in changed:
        print(f"wrote {path}")
    if not generation.migrations:
        print("up to date")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Fail when a generated migration was edited, is missing or left over, or the specs have changes
    no migration holds yet."""
    root = Path(args.root)
    history = read_history(root)
    failures = [str(p) for p in history_problems(history)]
    if history.entries is None:
        failures.append(f"{SUM_FILE}: no record of the generated migrations yet: run `make generate`")
    if not failures:
        generation = plan_project(root, history=history)
        for note in generation.plan.notes:
            print(f"note: {note}", file=sys.stderr)
        if not generation.plan.empty:
            failures.append("the specs have changes no migration holds yet: run `make generate` "
                            "(`make diff` shows them):")
            failures += [f"  {step.summary}" for step in generation.plan.steps]
        for diff in stale_outputs(root, {ACCESS_FILE: generation.outputs[ACCESS_FILE]}):
            sys.stdout.write(diff)
            failures.append(f"{ACCESS_FILE} differs from the specs: run `make generate`")
    for failure in failures:
        print(failure, file=sys.stderr)
    if failures:
        return 1
    print("migrations match their record and the specs; pglast verification passed")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """Show what the next migration would change: in words, as SQL, and who gains or loses access."""
    generation = plan_project(Path(args.root), args.name)
    sys.stdout.write(review(generation, args.format))
    return 0 if generation.plan.empty else 1


def cmd_hash(args: argparse.Namespace) -> int:
    """Record the checksums of the generated migrations again, after merging two branches' migrations."""
    root = Path(args.root)
    recorded = recorded_names(root)
    entries = [(f.name, digest(f.text)) for f in migration_files(root)
               if f.name in recorded or f.has_generated_header]
    write_outputs(root, {SUM_FILE: record_text(entries)})
    print(f"recorded {len(entries)} generated migration(s) in {SUM_FILE}")
    return 0


def cmd_adopt(args: argparse.Namespace) -> int:
    """Write specs for tables hand-written migrations created; the next migration corrects them."""
    root = Path(args.root)
    adoption = adopt(root, args.tables, force=args.force)
    for note in adoption.notes:
        print(f"note: {note}", file=sys.stderr)
    for path in write_outputs(root, adoption.specs):
        print(f"wrote {path}")
    print("next: review the specs, then `make diff` shows the corrective migration and the access it changes")
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default=argparse.SUPPRESS, help="project root holding schema/ (default: .)")
    common.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS,
                        help="show a traceback on errors")
    parser = argparse.ArgumentParser(prog="tenantspec", description=DESCRIPTION, parents=[common])
    parser.set_defaults(root=".", traceback=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    subs = {}
    for name, func in (("generate", cmd_generate), ("check", cmd_check), ("diff", cmd_diff), ("hash", cmd_hash),
                       ("adopt", cmd_adopt)):
        subs[name] = commands.add_parser(name, help=func.__doc__.splitlines()[0], description=func.__doc__,
                                         parents=[common])
        subs[name].set_defaults(func=func)
    for name in ("generate", "diff"):
        subs[name].add_argument("--name", help="the new migration's name, snake_case (default: derived from "
                                               "the change)")
    subs["generate"].add_argument("--allow-destructive", action="store_true",
                                  help="let through changes that drop data or may fail on existing rows")
    subs["generate"].add_argument("--fresh", metavar="DIR",
                                  help="write the specs as a fresh set of migrations into DIR instead "
                                       "(a new project's migrations, or a squash)")
    subs["adopt"].add_argument("tables", nargs="+", metavar="TABLE", help="tables to write specs for")
    subs["adopt"].add_argument("--force", action="store_true", help="overwrite existing specs")
    subs["diff"].add_argument("--format", choices=sorted(FORMATS), default="text",
                              help="text (default) or markdown, for a pull-request comment")
    from generator.lint import command as lint_command
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
