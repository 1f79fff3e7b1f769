"""Command line: a thin layer over ``tenantspec.plan.pipeline``, ``tenantspec.plan.review``, ``tenantspec.adopt.tables``
and ``tenantspec.lint``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from pathlib import Path

from tenantspec.adopt.tables import adopt
from tenantspec.errors import TenantspecError
from tenantspec.plan.history import (
    SUM_FILE,
    digest,
    migration_files,
    record_text,
    recorded_names,
)
from tenantspec.plan.pipeline import (
    Checked,
    check_project,
    fresh_outputs,
    plan_project,
    refuse_destructive,
    write_outputs,
)
from tenantspec.plan.record import (
    input_contents,
    inputs_digest,
    once_written,
    record_up_to_date,
    recorded_notes,
)
from tenantspec.plan.review import FORMATS, review
from tenantspec.render.migrations import MIGRATIONS_DIR


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("tenantspec")
    except PackageNotFoundError:
        return "(not installed)"


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
    generate(root, args.name, args.allow_destructive, args.allow_narrowing)
    return 0


def generate(root: Path, name: str | None = None, allow_destructive: bool = False,
             allow_narrowing: bool = False) -> None:
    """Write the next migration when the specs changed, saying what was written (or "up to
    date"); a change that drops data or takes access away is refused unless allowed."""
    contents = input_contents(root)
    notes = recorded_notes(root, "generate", inputs_digest(contents, "generate"))
    if notes is None:
        generation = plan_project(root, name)
        if not allow_destructive:
            refuse_destructive(generation.plan)
        if not allow_narrowing:
            from tenantspec.plan.review import refuse_narrowing

            refuse_narrowing(generation)
        notes = list(generation.plan.notes)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        after = inputs_digest(once_written(contents, generation.outputs), "generate")
        changed = write_outputs(root, generation.outputs)
        for path in changed:
            print(f"wrote {path}")
        if inputs_digest(input_contents(root), "generate") == after:  # nothing else changed meanwhile
            record_up_to_date(root, "generate", after, notes)
        if generation.migrations:
            return
    else:
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
    print("up to date")


def cmd_check(args: argparse.Namespace) -> int:
    """Fail when a generated migration was edited, is missing or left over, or the specs have changes
    no migration holds yet."""
    root = Path(args.root)
    digest = inputs_digest(input_contents(root), "check")
    notes = recorded_notes(root, "check", digest)
    checked = Checked((), tuple(notes)) if notes is not None else check_project(root)
    if notes is None and not checked.failures:
        record_up_to_date(root, "check", digest, list(checked.notes))
    for note in checked.notes:
        print(f"note: {note}", file=sys.stderr)
    if checked.access_diff:
        sys.stdout.write(checked.access_diff)
    for failure in checked.failures:
        print(failure, file=sys.stderr)
    if checked.failures:
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
    if args.init:
        from tenantspec.adopt.project import initial_project

        target = root / "schema" / "project.yaml"
        if target.exists() and not args.force:
            raise TenantspecError(f"{target}: exists already; adopt --init does not overwrite it (--force does)")
        text, notes = initial_project(root, Path(args.baseline) if args.baseline else None)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        for path in write_outputs(root, {Path("schema/project.yaml"): text}):
            print(f"wrote {path}")
        if not args.tables:
            print("next: review schema/project.yaml, then `tenantspec adopt` (every table it can trace) "
                  "or `tenantspec adopt TABLE ...`")
            return 0
    adoption = adopt(root, args.tables, force=args.force, baseline=Path(args.baseline) if args.baseline else None)
    for note in adoption.notes:
        print(f"note: {note}", file=sys.stderr)
    for path in write_outputs(root, adoption.specs):
        print(f"wrote {path}")
    print("next: review the specs, then `tenantspec diff` shows the corrective migration and the access it changes,"
          " `tenantspec generate` writes it and `tenantspec prove --observe-change` observes what it changes"
          " (`tenantspec schema` writes the JSON Schemas the specs' first line points editors at)")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """Make a folder a tenantspec project: project file, workspace tables, a first table, intent, proof, CI."""
    from tenantspec.init import init_project

    root = Path(args.root)
    made = init_project(root, args.workspaces, args.members, [r.strip() for r in args.roles.split(",")],
                        None if args.no_table else args.table, force=args.force)
    for note in made.notes:
        print(f"note: {note}", file=sys.stderr)
    for path in write_outputs(root, made.files):
        print(f"wrote {path}")
    generate(root)  # the first table's migration and the record: the project checks as written
    print("next: tenantspec prove; then add a table under schema/ and run tenantspec generate")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Write the JSON Schemas of project.yaml and the table specs beside the specs, for editors."""
    from tenantspec.spec.documents import SCHEMA_DIR

    target = Path(args.dir) if args.dir else Path(args.root) / "schema"
    files = {Path(name): (SCHEMA_DIR / name).read_text() for name in ("project.schema.json", "table.schema.json")}
    for path in write_outputs(target, files):
        print(f"wrote {target / path}")
    print("specs point editors at them with a first line `# yaml-language-server: $schema=table.schema.json`"
          " (project.schema.json for project.yaml)")
    return 0


def cmd_db_apply(args: argparse.Namespace) -> int:
    """Apply a migrations folder to a fresh Supabase stand-in, file by file as `supabase db push` does."""
    from tenantspec.standin.local import apply_to, standin_server

    folder = _migrations_folder(args)
    with _database_errors(), standin_server(args.privileges, baseline=_baseline(args)) as server:
        print(f"stand-in: {server.description}, {args.privileges} default privileges; "
              f"migrating as {server.migrator_role}", file=sys.stderr)
        applied = apply_to(server, folder, include_all=args.include_all, report=print)
    print(f"{len(applied)} migration(s) of {folder} applied")
    return 0


def cmd_db_start(args: argparse.Namespace) -> int:
    """Start a Supabase stand-in with a migrations folder applied, and keep it up until interrupted."""
    import signal

    from tenantspec.standin.local import (
        apply_seeds,
        apply_to,
        database_url,
        seed_files,
        standin_server,
    )

    folder = None
    if not args.no_migrations and (args.folder or (Path(args.root) / MIGRATIONS_DIR).is_dir()):
        folder = _migrations_folder(args)
    def stop(*_):
        raise KeyboardInterrupt

    # both, also where the shell started the command with SIGINT ignored (in the background)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:  # as supabase start: the seed after the migrations (none without them: it fills their tables)
        seeds = [] if args.no_seed or folder is None else seed_files(Path(args.root) / "supabase")
    except ValueError as error:
        raise TenantspecError(str(error)) from None
    with _database_errors(), standin_server(args.privileges, tcp_port=args.port, baseline=_baseline(args)) as server:
        report = lambda line: print(line, file=sys.stderr)  # noqa: E731
        if folder is not None:
            apply_to(server, folder, include_all=args.include_all, report=report)
        apply_seeds(server, seeds, report)
        # from the moment the URL is out, an interrupt is the way to stop: a clean exit
        with contextlib.suppress(KeyboardInterrupt):
            print(f"DATABASE_URL={database_url(server)}", flush=True)
            print(f"superuser (supabase_admin): {database_url(server, superuser=True)}", file=sys.stderr)
            print("stand-in is up; Ctrl-C stops it and removes its data", file=sys.stderr, flush=True)
            signal.pause()
    return 0


def cmd_db_test(args: argparse.Namespace) -> int:
    """Run the project's pgTAP tests on a fresh Supabase stand-in, as `supabase test db` runs them."""
    from tenantspec.standin.local import (
        apply_seeds,
        apply_to,
        run_pgtap,
        seed_files,
        standin_server,
    )
    from tenantspec.standin.pgtap import (
        find_pgtap,
        junit_xml,
        pgtap_missing_message,
        summary,
        tap_stream,
        test_files,
    )

    root = Path(args.root)
    targets = [Path(p) for p in args.paths] or [root / "supabase" / "tests"]
    missing = [str(p) for p in targets if not p.exists()]
    if missing:
        raise TenantspecError(f"{', '.join(missing)}: no such test file or folder (pgTAP tests live in supabase/tests)")
    files = test_files(targets)
    if not files:
        raise TenantspecError(f"{', '.join(map(str, targets))}: no *.sql or *.pg test files")
    if find_pgtap() is None:
        raise TenantspecError(pgtap_missing_message())
    folder = Path(args.migrations) if args.migrations else root / MIGRATIONS_DIR
    try:
        seeds = [] if args.no_seed else seed_files(root / "supabase")
    except ValueError as error:
        raise TenantspecError(str(error)) from None
    with _database_errors(), standin_server(args.privileges, baseline=_baseline(args)) as server:
        report = lambda line: print(line, file=sys.stderr)  # noqa: E731
        if folder.is_dir():
            apply_to(server, folder, include_all=args.include_all, report=report)
        apply_seeds(server, seeds, report)
        runs = run_pgtap(server, files, lambda path: _shown(path, root))
    sys.stdout.write(tap_stream(runs))
    print(summary(runs), file=sys.stderr)
    if args.junit:
        write_outputs(Path(args.junit).parent, {Path(Path(args.junit).name): junit_xml(runs)})
        print(f"wrote {args.junit}", file=sys.stderr)
    return 0 if all(run.passed for run in runs) else 1


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def cmd_prove(args: argparse.Namespace) -> int:
    """Run the proof of the project in --root (default .): the policy tests on a Supabase stand-in."""
    import importlib.util

    if importlib.util.find_spec("pytest") is None:
        raise TenantspecError("the proof needs the test extra: pip install 'tenantspec[test]'")
    root = Path(args.root).resolve()
    if not (root / "schema" / "project.yaml").is_file():
        raise TenantspecError(f"{root / 'schema' / 'project.yaml'}: no project file; `tenantspec init` writes one")
    # tenantspec is imported already, so pytest cannot rewrite its asserts (its checks say what
    # failed in words of their own): no warning about it
    argv = ["--pyargs", "tenantspec.testing.proof", "--rootdir", str(root), "-p", "no:cacheprovider",
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    config = next((root / name for name in ("pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
                   if (root / name).is_file()), None)
    if config is not None:
        argv += ["-c", str(config)]
    extra = [a for a in args.pytest_args if a != "--"]
    if args.observe_change:
        from tenantspec.testing.change import change_report, observe_change

        migrations = root / (os.environ.get("MIGRATIONS_DIR") or MIGRATIONS_DIR)
        if not migrations.is_dir():
            raise TenantspecError(f"{migrations}: no such folder (MIGRATIONS_DIR names the migrations)")
        since, changes = observe_change(root, migrations, args.since)
        text, status = change_report(since, changes, args.allow_narrowing)
        print(text)
        return status
    if args.observe:
        argv.append("--tenantspec-observe")
    if args.export_pgtap:
        argv += ["--tenantspec-export-pgtap", str(Path(args.export_pgtap).resolve())]
    import pytest

    os.chdir(root)  # as `pytest` run in the project folder: the command ends with the session
    return int(pytest.main(argv + extra))  # pytest's own exit status


def _migrations_folder(args: argparse.Namespace) -> Path:
    folder = Path(args.folder) if args.folder else Path(args.root) / MIGRATIONS_DIR
    if not folder.is_dir():
        raise TenantspecError(f"{folder}: no such folder (give the migrations folder, default {MIGRATIONS_DIR})")
    return folder


def _baseline(args: argparse.Namespace) -> Path | None:
    if args.baseline is None:
        return None
    path = Path(args.baseline)
    if not path.is_file():
        raise TenantspecError(f"{path}: no such file (--baseline names the SQL of the objects made before "
                              "the first migration)")
    return path


@contextlib.contextmanager
def _database_errors():
    """A failing migration or an unavailable server as a message and exit status."""
    from tenantspec.standin.migrate import MigrationError
    from tenantspec.standin.server import ServerError
    from tenantspec.standin.supabase import StandinError

    try:
        yield
    except MigrationError as error:
        print(error, file=sys.stderr)  # already file:line: SQLSTATE message
        raise SystemExit(1) from None
    except (ServerError, StandinError) as error:
        raise TenantspecError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default=argparse.SUPPRESS, help="project root holding schema/ (default: .)")
    common.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS,
                        help="show a traceback on errors")
    parser = argparse.ArgumentParser(prog="tenantspec", description=DESCRIPTION, parents=[common])
    parser.add_argument("--version", action="version", version=f"tenantspec {version()}")
    # No set_defaults here: the options are shared with every subcommand (argparse copies the
    # same Action objects), so a default set here would overwrite `tenantspec --root DIR cmd`.
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    subs = {}
    for name, func in (("generate", cmd_generate), ("check", cmd_check), ("diff", cmd_diff), ("hash", cmd_hash),
                       ("adopt", cmd_adopt), ("schema", cmd_schema), ("init", cmd_init)):
        subs[name] = commands.add_parser(name, help=func.__doc__.splitlines()[0], description=func.__doc__,
                                         parents=[common])
        subs[name].set_defaults(func=func)
    for name in ("generate", "diff"):
        subs[name].add_argument("--name", help="the new migration's name, snake_case (default: derived from "
                                               "the change)")
    subs["generate"].add_argument("--allow-narrowing", action="store_true",
                                  help="let through changes that take a command away from a membership role or "
                                       "service_role (closing holes for anon, outsiders and other workspaces "
                                       "needs no flag)")
    subs["generate"].add_argument("--allow-destructive", action="store_true",
                                  help="let through changes that drop data or may fail on existing rows")
    subs["generate"].add_argument("--fresh", metavar="DIR",
                                  help="write the specs as a fresh set of migrations into DIR instead "
                                       "(a new project's migrations, or a squash)")
    subs["adopt"].add_argument("tables", nargs="*", metavar="TABLE",
                               help="tables to write specs for (none: every table whose workspace or user it can trace)")
    subs["adopt"].add_argument("--baseline", metavar="FILE",
                               help="SQL of the objects made before the first migration, read first (default: "
                                    "tenantspec_baseline of pytest.ini, else tests/baseline.sql when it exists)")
    subs["adopt"].add_argument("--init", action="store_true",
                               help="first write schema/project.yaml from the migrations: the membership and tenant "
                                    "tables, the roles and levels")
    subs["adopt"].add_argument("--force", action="store_true", help="overwrite existing specs")
    subs["schema"].add_argument("--dir", help="where to write them (default: schema/ under --root)")
    subs["init"].add_argument("--workspaces", default="workspaces", help="the tenant table (default workspaces)")
    subs["init"].add_argument("--members", help="the membership table (default <workspace>_members)")
    subs["init"].add_argument("--roles", default="owner,admin,member",
                              help="membership roles, most powerful first; the first two are admins "
                                   "(default owner,admin,member)")
    subs["init"].add_argument("--table", default="projects", help="a first table spec to start from (default projects)")
    subs["init"].add_argument("--no-table", action="store_true", help="write no table spec")
    subs["init"].add_argument("--force", action="store_true", help="overwrite files that exist")
    subs["diff"].add_argument("--format", choices=sorted(FORMATS), default="text",
                              help="text (default) or markdown, for a pull-request comment")
    prove = commands.add_parser("prove", help=cmd_prove.__doc__.splitlines()[0], description=cmd_prove.__doc__,
                                parents=[common])
    prove.set_defaults(func=cmd_prove)
    prove.add_argument("--export-pgtap", metavar="DIR",
                       help="write every request the proof plans, and the answer it must get, as pgTAP files in "
                            "DIR (one per table), for `supabase test db` or `tenantspec db test DIR`")
    prove.add_argument("--observe", action="store_true",
                       help="run the probes alone on the migrations as they are and write the access they observe, "
                            "cell by cell with the reasons of its denials, as a starting intent to review "
                            "(tests/access_intent.yaml, or beside it when it exists)")
    prove.add_argument("--observe-change", action="store_true",
                       help="observe the chain without a migration (--since, default the newest) and with it, "
                            "and list every cell whose access it changes; exit 1 if it takes any away")
    prove.add_argument("--since", metavar="MIGRATION", help="with --observe-change: the migration observed")
    prove.add_argument("--allow-narrowing", action="store_true",
                       help="with --observe-change: access taken away is decided (exit 0)")
    prove.add_argument("pytest_args", nargs=argparse.REMAINDER, metavar="-- PYTEST_ARGS",
                       help="passed to pytest, e.g. -- -x -k carrier_configs")
    subs["prove"] = prove
    db = commands.add_parser("db", help="A local Supabase stand-in: apply migrations to it, or start it.",
                             description="A Supabase-shaped PostgreSQL without Docker (docs/standin.md).")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    for name, func in (("apply", cmd_db_apply), ("start", cmd_db_start)):
        sub = db_commands.add_parser(name, help=func.__doc__.splitlines()[0], description=func.__doc__,
                                     parents=[common])
        sub.set_defaults(func=func)
        sub.add_argument("folder", nargs="?", metavar="DIR", help=f"the migrations folder (default {MIGRATIONS_DIR})")
        sub.add_argument("--privileges", choices=("legacy", "2026"), default="2026",
                         help="the project's default privileges: legacy (projects before 2026-05-30: new "
                              "public tables granted to the API roles) or 2026 (nothing; the default)")
        sub.add_argument("--include-all", action="store_true",
                         help="apply migrations older than the newest applied one too, as `supabase db push "
                              "--include-all`")
        sub.add_argument("--baseline", metavar="FILE",
                         help="SQL of the objects made before the first migration (in the dashboard, say), "
                              "applied first by the migrating role, in one transaction, with no history row")
        subs["db " + name] = sub
    test = db_commands.add_parser("test", help=cmd_db_test.__doc__.splitlines()[0], description=cmd_db_test.__doc__
                                  + " Needs pgTAP from a package (docs/standin.md).", parents=[common])
    test.set_defaults(func=cmd_db_test)
    test.add_argument("paths", nargs="*", metavar="PATH", help="test files or folders (default supabase/tests)")
    test.add_argument("--migrations", metavar="DIR", help=f"the migrations folder (default {MIGRATIONS_DIR})")
    test.add_argument("--privileges", choices=("legacy", "2026"), default="2026",
                      help="the project's default privileges: legacy (projects before 2026-05-30) or 2026")
    test.add_argument("--include-all", action="store_true", help="as for db apply")
    test.add_argument("--baseline", metavar="FILE", help="as for db apply")
    test.add_argument("--no-seed", action="store_true",
                      help="skip supabase/seed.sql (or config.toml's [db.seed] sql_paths)")
    test.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML")
    subs["db test"] = test
    subs["db start"].add_argument("--port", type=int, default=0,
                                  help="TCP port on 127.0.0.1 (default: a free one)")
    subs["db start"].add_argument("--no-seed", action="store_true",
                                  help="skip supabase/seed.sql (or config.toml's [db.seed] sql_paths), which runs "
                                       "after the migrations as supabase start runs it")
    subs["db start"].add_argument("--no-migrations", action="store_true",
                                  help="apply no migrations (leave them to `supabase db push --db-url`)")
    from tenantspec.lint import command as lint_command
    sub = commands.add_parser("lint", help="Lint Supabase migrations for tenancy mistakes.",
                              description=lint_command.__doc__, parents=[common])
    lint_command.add_arguments(sub)
    sub.set_defaults(func=lint_command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.root = getattr(args, "root", ".")
    args.traceback = getattr(args, "traceback", False)
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader stopped reading (`| head`): nothing more to say to it
        from tenantspec.lint.command import reader_gone

        reader_gone()
        return 141  # as a command stopped by SIGPIPE
    except TenantspecError as error:
        if args.traceback:
            traceback.print_exc()
        for problem in error.problems:
            print(f"error: {problem}" if problem.location is None else str(problem), file=sys.stderr)
        return error.exit_status


if __name__ == "__main__":
    sys.exit(main())
