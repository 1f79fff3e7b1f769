"""The proof: every check tenantspec makes of a project's migrations, as pytest tests.

A project runs it from one test module::

    from tenantspec.testing.proof import *  # noqa: F403

or with ``pytest --pyargs tenantspec.testing.proof``. The plugin's fixtures supply the
database, the project model, the world, the intent and the access model (see
`tenantspec.testing.plugin`). Tests run in the order below, cheapest first, so ``-x`` stops
early on a broken migration.
"""

from __future__ import annotations

import contextlib
import os
import time

import pytest

from tenantspec.testing import conformance, structure
from tenantspec.testing.cases import run_case
from tenantspec.testing.probes import (
    RUNS,
    ProbeRun,
    describe_probe,
    observed_matrix,
    run_probes,
)
from tenantspec.testing.requests import plan_probes
from tenantspec.testing.summary import TIMINGS, format_table

__all__ = [
    "catalog_database",
    "probe_plan",
    "probe_run",
    "test_intent_agrees_with_the_specs",
    "test_migrations_hold_the_specs",
    "test_row_level_security_is_on",
    "test_every_row_has_a_workspace",
    "test_security_definer_functions_are_pinned_and_closed",
    "test_policies_name_their_roles_and_check_updates",
    "test_api_roles_hold_no_truncate_references_or_trigger",
    "test_grants_are_what_the_access_model_needs",
    "test_tables_have_the_specified_columns",
    "test_allowed_values",
    "test_unique_keys",
    "test_references_and_their_on_delete",
    "test_triggers",
    "test_realtime_publication",
    "test_hand_written_conditions_are_exercised",
    "test_conditions_the_intent_names_decide",
    "test_migrations_build_what_a_fresh_render_builds",
    "test_probes_surface_as_expected",
    "test_observed_access_matches_the_intent",
    "test_storage_requests_match_the_intent",
    "test_observe_access",
    "test_export_pgtap",
    "test_case",
    "test_random_requests_match_the_access_model",
]

HEADER = ("cell (table, command, persona, on rows of)", "intended", "observed")


def _fail(title: str, problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{title}:\n" + "\n".join(f"  {p}" for p in problems), pytrace=False)


# -- no database -------------------------------------------------------------------------------

@pytest.mark.tenantspec_specs
def test_intent_agrees_with_the_specs(tenantspec_project, tenantspec_intent):
    """The hand-written intent and the access the specs declare say the same."""
    from tenantspec.render.matrix import HAND_WRITTEN, declared_matrix

    declared = declared_matrix(tenantspec_project)
    # A cell a hand-written policy decides has no declared verdict: the probes judge it.
    rows = [(f"{t} {c} {k}", intended, declared.get((t, c, k), "(missing)"))
            for (t, c, k), intended in tenantspec_intent.cells.items()
            if declared.get((t, c, k)) not in (intended, HAND_WRITTEN)]
    if rows:
        pytest.fail(f"{len(rows)} cells where the specs declare something other than "
                    f"{tenantspec_intent.path}:\n" + format_table(rows, ("cell", "intended", "declared")),
                    pytrace=False)


@pytest.mark.tenantspec_specs
def test_migrations_hold_the_specs(tenantspec_config):
    """What `tenantspec check` says: no spec change without its migration, no generated
    migration edited, missing or left over, schema/ACCESS.md current."""
    from tenantspec.plan.pipeline import check_project
    from tenantspec.render.migrations import MIGRATIONS_DIR

    config = tenantspec_config
    if config.source.migrations_dir.resolve() != (config.root / MIGRATIONS_DIR).resolve():
        pytest.skip(f"not applicable: the proof judges {config.shown(config.source.migrations_dir)} "
                    "(MIGRATIONS_DIR), not the project's own supabase/migrations")
    _fail(f"the project in {config.root} is not consistent", list(check_project(config.root).failures))


# -- the catalog -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def catalog_database(template_database):
    """One clone of the template per regime for the checks of the catalog and the constraints:
    each works in a transaction it rolls back, so they share it (a clone each costs a copy)."""
    from tenantspec.standin.databases import drop_database
    from tenantspec.testing.database import clone_database

    clone = clone_database(template_database)
    try:
        yield clone
    finally:
        drop_database(clone.server, clone.name)


@contextlib.contextmanager
def _admin(database):
    """The superuser on ``database``, whatever the check writes rolled back at the end."""
    with database.connect_admin() as conn:
        try:
            yield conn
        finally:
            conn.rollback()

def test_row_level_security_is_on(catalog_database, tenantspec_world):
    with _admin(catalog_database) as conn:
        _fail("row level security", structure.rls_problems(conn, tenantspec_world.spec_tables))


def test_every_row_has_a_workspace(catalog_database, tenantspec_world):
    with _admin(catalog_database) as conn:
        _fail("tenancy", structure.tenancy_problems(conn, tenantspec_world.spec_tables))


def test_security_definer_functions_are_pinned_and_closed(catalog_database):
    with _admin(catalog_database) as conn:
        _fail("SECURITY DEFINER functions the migrations create", structure.security_definer_problems(conn))


def test_policies_name_their_roles_and_check_updates(catalog_database, tenantspec_world):
    with _admin(catalog_database) as conn:
        _fail("policies", structure.policy_problems(conn, tenantspec_world.spec_tables))


def test_api_roles_hold_no_truncate_references_or_trigger(catalog_database, tenantspec_world):
    with _admin(catalog_database) as conn:
        _fail("privileges no API role may hold", structure.privilege_problems(conn, tenantspec_world.spec_tables))


def test_grants_are_what_the_access_model_needs(catalog_database, tenantspec_access):
    with _admin(catalog_database) as conn:
        _fail("grants", structure.grant_problems(conn, tenantspec_access))


@pytest.mark.tenantspec_specs
def test_tables_have_the_specified_columns(catalog_database, tenantspec_world):
    with _admin(catalog_database) as conn:
        _fail("columns", conformance.column_problems(conn, tenantspec_world))


# -- constraints, as the migrating role --------------------------------------------------------

def test_allowed_values(catalog_database, tenantspec_world):
    with _admin(catalog_database) as conn:
        _fail("allowed values (one_of)", conformance.one_of_problems(conn, tenantspec_world))


def test_unique_keys(catalog_database, tenantspec_world):
    with _admin(catalog_database) as conn:
        _fail("unique keys", conformance.unique_problems(conn, tenantspec_world))


def test_references_and_their_on_delete(catalog_database, tenantspec_world):
    with _admin(catalog_database) as conn:
        _fail("references", conformance.reference_problems(conn, tenantspec_world))


@pytest.mark.tenantspec_specs
def test_triggers(catalog_database, tenantspec_world):
    with _admin(catalog_database) as conn:
        _fail("triggers", conformance.trigger_problems(conn, tenantspec_world))


@pytest.mark.tenantspec_specs
def test_realtime_publication(catalog_database, tenantspec_world):
    with _admin(catalog_database) as conn:
        _fail("realtime", conformance.realtime_problems(conn, tenantspec_world))


@pytest.mark.tenantspec_specs
def test_hand_written_conditions_are_exercised(catalog_database, tenantspec_world, tenantspec_project,
                                               tenantspec_intent):
    """Every condition of a hand-written policy (a flag, a status, a setting) is false for some
    row and persona of the world, or the intent says what it decides (``only_when``, which
    `test_conditions_the_intent_names_decide` makes false), so that the probes see it matter.
    One that is always true is reported in the summary; TENANTSPEC_STRICT=1 fails on it."""
    from tenantspec.testing.conditions import NEVER_FALSE, never_false, shown

    tables = [table for table in tenantspec_project.tables.values() if table.policies]
    exercised = frozenset((rule.table, shown(rule.condition)) for rule in tenantspec_intent.only_when)
    with _admin(catalog_database) as conn:
        found = never_false(conn, tables, list(tenantspec_world.personas.values()), exercised)
    NEVER_FALSE.update(found)
    if os.environ.get("TENANTSPEC_STRICT") == "1":
        _fail("conditions of hand-written policies the world never makes false (dropping one goes unnoticed "
              "by the probes)", found)


def test_conditions_the_intent_names_decide(catalog_database, tenantspec_world, tenantspec_intent, probe_plan):
    """Each ``only_when`` of the intent: with its condition made false (its function answers
    false until the transaction rolls back), every request the intent lets a persona run on
    those commands is refused, as the intent says. Deselected when the intent names none."""
    from tenantspec.testing.conditions import allowed_while_false

    problems = []
    for rule in tenantspec_intent.only_when:
        with _admin(catalog_database) as conn:
            problems += allowed_while_false(conn, tenantspec_world, probe_plan, rule)
    _fail("with a condition of the intent false, requests it refuses ran", problems)


@pytest.mark.tenantspec_specs
def test_migrations_build_what_a_fresh_render_builds(template_database, tenantspec_config, tenantspec_project,
                                                     tmp_path):
    """The chain of migrations and the specs rendered afresh build the same tables on this
    server, every name included (PostgreSQL 18 names NOT NULL constraints too): what a later
    migration, a dump or ``supabase db diff`` compares."""
    from tenantspec.plan.history import GENERATED_MARK
    from tenantspec.plan.pipeline import fresh_migrations
    from tenantspec.standin.databases import standin_database
    from tenantspec.standin.migrate import read_folder
    from tenantspec.testing.catalog import catalog_differences, read_catalog

    project, source = tenantspec_project, tenantspec_config.source
    handwritten = [m.path for m in read_folder(source.migrations_dir).migrations
                   if not m.path.read_text(encoding="utf-8").startswith(GENERATED_MARK)]
    touching = [path.name for path in handwritten if _touches_specs(path, project)]
    if touching:
        pytest.skip(f"not applicable: hand-written migrations of {source.migrations_dir.name}/ change tables the "
                    f"specs describe ({', '.join(touching[:3])}{', ...' if len(touching) > 3 else ''}), which a "
                    "fresh render of the specs cannot stand in for")
    fresh_dir = tmp_path / "fresh"
    fresh_dir.mkdir()
    for path, text in fresh_migrations(project).items():
        (fresh_dir / path.name).write_text(text)
    # the hand-written ones (init's workspaces, say) as they are, then the fresh render, each in
    # version order, as `tenantspec db apply` and `supabase db push` run a folder
    files = ([source.baseline] if source.baseline else []) + handwritten \
        + [m.path for m in read_folder(fresh_dir).migrations]
    tables = sorted(project.tables)
    server = template_database.server
    with server.connect_admin(template_database.name) as conn:
        chain = read_catalog(conn, tables, project.schema, project.helper_schema)
    with standin_database(server, template_database.regime, "tenantspec_fresh", files) as fresh_db:
        with server.connect_admin(fresh_db) as conn:
            fresh = read_catalog(conn, tables, project.schema, project.helper_schema)
    _fail(f"what {source.migrations_dir.name}/ builds and a fresh render of the specs builds differ "
          "(`tenantspec generate` writes the migration that closes the gap)",
          catalog_differences(chain, fresh, "migrations", "fresh render"))


def _touches_specs(path, project) -> bool:
    """Whether a hand-written migration changes a table the specs describe (or cannot be read)."""
    from tenantspec.catalog.replay import touched_tables
    from tenantspec.catalog.source import parse_file
    from tenantspec.errors import TenantspecError

    spec_tables = {(project.schema, name) for name in project.tables}
    try:
        statements = parse_file(str(path), path.read_text(encoding="utf-8"))
    except TenantspecError:
        return True
    return any(spec_tables & set(touched_tables(statement.node)) for statement in statements)


# -- access: every table x request x persona ---------------------------------------------------

@pytest.fixture(scope="session")
def probe_plan(tenantspec_world, tenantspec_access):
    """Every probe and what the access model expects of it (the same under every regime)."""
    started = time.perf_counter()
    probes = plan_probes(tenantspec_world, tenantspec_access)
    TIMINGS["probe planning"] = time.perf_counter() - started
    return probes


@pytest.fixture(scope="module")
def probe_run(template_database, privilege_regime, tenantspec_world, probe_plan):
    """Every probe run once per regime on one clone: each is a rolled-back request. A regime
    whose database grants, checks and runs exactly what an earlier regime's does (the migrations
    revoke and grant everything themselves) answers every probe alike: that run stands for it."""
    from tenantspec.standin.databases import drop_database
    from tenantspec.testing.database import clone_database

    access = template_database.access_fingerprint()
    if same := next((run for run in RUNS if run.access == access and run.same_as is None), None):
        run = ProbeRun(privilege_regime, same.results, access=access, same_as=same.regime)
        RUNS.append(run)
        return run
    clone = clone_database(template_database)
    try:
        with clone.impersonator() as impersonate:
            run = run_probes(impersonate, tenantspec_world, probe_plan, privilege_regime)
        run.access = access
    finally:
        drop_database(clone.server, clone.name)
    RUNS.append(run)
    return run


def test_probes_surface_as_expected(probe_run):
    """Every probe did what the access model expects, and surfaced as expected: the same
    error code, the same number of rows, the same rows visible and changed."""
    mismatches = probe_run.mismatches()
    if mismatches:
        rows = [(describe_probe(p), why) for p, _, why in mismatches]
        pytest.fail(f"{len(mismatches)} of {len(probe_run.results)} probes differ from the access model:\n"
                    + format_table(rows, ("probe (table: persona: request)", "difference")), pytrace=False)


def test_observed_access_matches_the_intent(probe_run, tenantspec_world, tenantspec_intent):
    """The four basic commands, cell by cell, against the hand-written intent."""
    rows = []
    for (table, command, kind, ws), (seen, how) in sorted(observed_matrix(probe_run, tenantspec_world).items()):
        intended = tenantspec_intent.cells.get((table, command, kind))
        if seen != intended:
            rows.append((f"{table} {command} {kind} {ws}", intended, f"{seen} ({how})"))
    if rows:
        pytest.fail(f"{len(rows)} cells where the database does not do what {tenantspec_intent.path} says:\n"
                    + format_table(rows, HEADER), pytrace=False)


def test_observe_access(probe_run, catalog_database, privilege_regime, tenantspec_world, tenantspec_project,
                        tenantspec_config, request):
    """`tenantspec prove --observe` (deselected otherwise): the access the probe run observed,
    cell by cell, and the conditions of hand-written policies found deciding commands, written
    as a starting intent for a person to review."""
    from pathlib import Path

    from tenantspec.render.matrix import persona_kinds
    from tenantspec.testing.observe import (
        DECIDING,
        OBSERVE_TO,
        OBSERVED,
        deciding_conditions,
        write_observation,
        write_observed,
    )

    OBSERVED[privilege_regime] = observed_matrix(probe_run, tenantspec_world)
    if tenantspec_project.buckets:
        from tenantspec.testing.storage import observed_buckets

        with _admin(catalog_database) as conn:
            OBSERVED[privilege_regime] |= observed_buckets(conn, tenantspec_world,
                                                           list(tenantspec_project.buckets.values()))
    if target := request.config.getoption(OBSERVE_TO):
        write_observation(Path(target))
        return
    with _admin(catalog_database) as conn:
        DECIDING[privilege_regime] = deciding_conditions(
            conn, tenantspec_world, probe_run, [t for t in tenantspec_project.tables.values() if t.policies])
    config = tenantspec_config
    write_observed(config.intent, config.shown(config.intent), persona_kinds(tenantspec_project),
                   list(tenantspec_project.tables), config.shown(config.source.migrations_dir),
                   list(tenantspec_project.buckets))


def test_export_pgtap(catalog_database, request, tenantspec_world, probe_plan, tenantspec_intent):
    """`tenantspec prove --export-pgtap DIR` (deselected otherwise): every request the proof
    plans, and the answer the access model expects of it, as pgTAP files, one per table."""
    from pathlib import Path

    from tenantspec.testing.export import EXPORT_OPTION, export_files, write_export

    target = Path(request.config.getoption(EXPORT_OPTION))
    with _admin(catalog_database) as conn:
        files = export_files(conn, tenantspec_world, probe_plan, tenantspec_intent)
    write_export(target, files, str(target))


def test_storage_requests_match_the_intent(catalog_database, tenantspec_world, tenantspec_intent,
                                          tenantspec_project):
    """Every spec'd bucket, every persona, as the Storage API sends requests: list, download,
    upload, replace, delete and move objects in each workspace's folder (or user's), the
    root, a forged folder and a sibling bucket, against the intent's bucket cells.
    Deselected when the project declares no bucket."""
    from tenantspec.testing.storage import storage_problems

    with _admin(catalog_database) as conn:
        count, problems = storage_problems(conn, tenantspec_world, tenantspec_intent,
                                           list(tenantspec_project.buckets.values()))
    _fail(f"{len(problems)} of {count} storage requests differ from {tenantspec_intent.path}", problems)


# -- the project's own rules -------------------------------------------------------------------

def test_case(tenantspec_case, database, tenantspec_world):
    """One case of the project's case files."""
    _fail(tenantspec_case.name, run_case(tenantspec_case, database, tenantspec_world))


# -- random sequences --------------------------------------------------------------------------

def test_random_requests_match_the_access_model(request, template_database, tenantspec_world, tenantspec_access,
                                                privilege_regime):
    """Hypothesis draws sequences of requests over every table and persona; after each the
    database must answer as the access model does, and end in the state it predicts.
    TENANTSPEC_HYPOTHESIS_EXAMPLES (default 200) sets the number of sequences. A regime whose
    database grants, checks and runs exactly what an earlier regime's does (as for the probe
    run) is answered by the sequences that passed there."""
    from tenantspec.testing.property import (
        check_random_requests,  # hypothesis, only when this runs
    )

    access = template_database.access_fingerprint()
    if access in SEQUENCES_PASSED:
        return
    examples = int(os.environ.get("TENANTSPEC_HYPOTHESIS_EXAMPLES", "200"))
    started = time.perf_counter()
    check_random_requests(request.getfixturevalue("impersonate"), tenantspec_world, tenantspec_access, examples)
    TIMINGS[f"random sequences ({privilege_regime})"] = time.perf_counter() - started
    SEQUENCES_PASSED[access] = privilege_regime


# The access fingerprints whose databases passed the random sequences, and under which regime.
SEQUENCES_PASSED: dict[str, str] = {}
