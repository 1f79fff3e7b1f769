"""The shapes that reproduce a generator strategy, checked against what the generator emits.

(a) stands for what ``tenancy.strategy: parent_ids`` generates for robot_job_items, (b) for
``exists`` and (d) for ``carried`` (the specs as they are). Before any data is loaded, each
such shape's database is compared, catalog against catalog (``tenantspec.testing.catalog``:
columns, constraints, indexes, grants, policies, triggers, the helper functions with their
bodies and ACLs, the publication), with a database migrated from a fresh render of the specs
in which robot_job_items has that strategy. Both get the page index. A difference stops the
run: the bench would be measuring something the generator does not emit.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import psycopg
from rls_checks import ShapeMismatch
from rls_shapes import Shape
from ruamel.yaml import YAML
from tenantspec.plan.pipeline import fresh_migrations
from tenantspec.spec import model
from tenantspec.spec.load import load_project
from tenantspec.standin.databases import drop_database
from tenantspec.testing.catalog import catalog_differences, read_catalog
from tenantspec.testing.database import MigrationSource, build_template

TABLE = "robot_job_items"


def render_strategy(root: Path, strategy: str, into: Path) -> model.Project:
    """Copy ``root/schema`` into ``into`` with TABLE's tenancy.strategy set to ``strategy``
    and write a fresh set of migrations for it under ``into``."""
    project = load_project(root)
    carried = project.tables[TABLE].tenancy.carried
    shutil.copytree(root / "schema", into / "schema")
    spec = into / "schema" / f"{TABLE}.yaml"
    yaml = YAML()
    document = yaml.load(spec.read_text())
    document["tenancy"]["strategy"] = strategy
    if strategy != model.CARRIED and carried and carried not in document["columns"]:
        # The carried column exists under `carried` only, and so do the indexes naming it.
        document["indexes"] = [
            index for index in document.get("indexes", []) if carried not in index["columns"]
        ]
    with spec.open("w") as out:
        yaml.dump(document, out)
    rendered = load_project(into)
    for path, text in fresh_migrations(rendered).items():
        (into / path).parent.mkdir(parents=True, exist_ok=True)
        (into / path).write_text(text)
    return rendered


def catalog_of(server, regime: str, probe, source: MigrationSource,
               statements: list[str], project: model.Project) -> dict:
    """Migrate a database without data, apply ``statements``, read the spec'd tables'
    catalog; drop the database."""

    def seed(conn: psycopg.Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    database = build_template(server, regime, source, probe, seed)
    try:
        with database.connect_admin(autocommit=True) as conn:
            return read_catalog(conn, sorted(project.tables), project.schema,
                                project.helper_schema)
    finally:
        drop_database(server, database.name)


def check_strategies(server, regime: str, probe, root: Path, source: MigrationSource,
                     shapes: tuple[Shape, ...], log: Callable[[str], None]) -> dict:
    """Compare each shape that names a strategy with what the generator emits for it; raise
    ShapeMismatch on any difference. Returns what was compared, for the JSON."""
    report = {}
    for shape in shapes:
        if shape.strategy is None:
            continue
        log(f"  {shape.label}: comparing its schema with what strategy {shape.strategy} "
            "generates ...")
        with tempfile.TemporaryDirectory(prefix="tenantspec_bench_") as folder:
            project = render_strategy(root, shape.strategy, Path(folder))
            rendered_source = MigrationSource(source.baseline,
                                              Path(folder) / "supabase" / "migrations")
            rendered = catalog_of(server, regime, probe, rendered_source, [], project)
        own = catalog_of(
            server, regime, probe, source,
            [*shape.schema.statements, *shape.policy_statements()], project,
        )
        found = catalog_differences(own, rendered, "the shape", "the generator")
        if found:
            raise ShapeMismatch(
                f"{shape.label} is not what tenancy.strategy {shape.strategy} generates for "
                f"{TABLE} (the specs under schema/ against the migrations measured):\n  "
                + "\n  ".join(found)
            )
        report[shape.name] = {
            "strategy": shape.strategy,
            "same_catalog": sorted(own),
            "tables": sorted(project.tables),
        }
    return report
