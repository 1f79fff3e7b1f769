"""On a real PostgreSQL, under both default-privilege regimes: the earlier migrations plus the
planned one build the same catalog as a fresh render of the changed specs, and rows written
before the change are still there, with their values."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from change_cases import Case, case_names, prepared
from psycopg import sql
from tenantspec.plan.pipeline import fresh_migrations
from tenantspec.spec import model
from tenantspec.standin.databases import (
    apply_sql_file,
    copy_database,
    drop_database,
    standin_database,
)
from tenantspec.standin.migrate import read_folder
from tenantspec.testing.catalog import catalog_differences, read_catalog

BASELINE = Path(__file__).resolve().parents[1] / "baseline.sql"
APPLIED = [n for n in case_names() if not Case.load(n).refused]


@pytest.fixture(scope="module")
def base_database(tenantspec_server, privilege_regime):
    """The Supabase stand-in and the app's baseline, cloned for every database of a case."""
    server = tenantspec_server.server
    with standin_database(server, privilege_regime, "tenantspec_conv", [BASELINE]) as name:
        yield server, name


def clone(server, template: str) -> str:
    return copy_database(server, template, "tenantspec_c")


def apply_all(conn: psycopg.Connection, folder: Path, files: list[str]) -> None:
    for name in files:
        apply_sql_file(conn, folder / name)


@pytest.mark.parametrize("name", APPLIED)
def test_history_plus_migration_equals_fresh_render(name, tmp_path, base_database):
    server, template = base_database
    case = Case.load(name)
    ready = prepared(name)
    ready.copy_after(tmp_path)
    before_files = ready.before_files
    before_project, generation = ready.before_project, ready.generation
    for path, text in generation.migrations.items():
        (tmp_path / path).write_text(text)
    after_project = generation.project
    tables = sorted(set(before_project.tables) | set(after_project.tables))
    fresh_dir = tmp_path / "fresh"
    fresh_dir.mkdir()
    for fresh_path, fresh_text in fresh_migrations(after_project).items():
        (fresh_dir / fresh_path.name).write_text(fresh_text)

    chain_db, fresh_db = clone(server, template), clone(server, template)
    try:
        with server.connect_migrator(chain_db, autocommit=True) as conn:
            apply_all(conn, tmp_path / "supabase/migrations", before_files)
            rows_before = {} if case.empty_tables else seed_rows(conn, before_project)
            for path in generation.migrations:  # each in its own transaction, as db push runs them
                apply_sql_file(conn, tmp_path / path)
            chain = read_catalog(conn, tables)
            rows_after = read_rows(conn, after_project, rows_before)
        with server.connect_migrator(fresh_db, autocommit=True) as conn:
            apply_all(conn, fresh_dir, [m.path.name for m in read_folder(fresh_dir).migrations])  # as db push orders them
            fresh = read_catalog(conn, tables)
    finally:
        drop_database(server, chain_db)
        drop_database(server, fresh_db)
    assert catalog_differences(chain, fresh) == []
    assert_rows_survive(before_project, after_project, rows_before, rows_after)


# ---------------------------------------------------------------- rows written before the change

def value_for(project: model.Project, column: model.Column, refs: dict[str, uuid.UUID]) -> object:
    if column.references is not None:
        return refs.get(column.references.table.name)
    if column.one_of:
        return column.one_of[0]
    if (enum := project.enum_of(column.type)) is not None:
        return enum.values[0] if not column.type.endswith("]") else [enum.values[0]]
    base = column.type.split("(")[0].strip().lower()
    return {"uuid": uuid.uuid4(), "text": "1", "varchar": "1", "integer": 1, "int": 1, "bigint": 1, "smallint": 1,
            "numeric": 1, "boolean": True, "jsonb": "{}", "date": "2026-01-01"}.get(base)


def seed_rows(conn: psycopg.Connection, project: model.Project) -> dict[str, dict[str, object]]:
    """One row per spec'd table (parents first), every column given a value it accepts."""
    user, workspace, order = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    conn.execute("insert into auth.users (id, email) values (%s, 'seed@example.test')", (user,))
    conn.execute("insert into public.workspaces (id, name, slug, owner_id) values (%s, 'W', 'w', %s)",
                 (workspace, user))
    conn.execute("insert into public.orders (id, workspace_id) values (%s, %s)", (order, workspace))
    refs: dict[str, uuid.UUID] = {"workspaces": workspace, "orders": order, "users": user}
    written = {}
    for table in project.tables.values():
        values = {}
        for column in table.columns:
            if column.default is not None and column.references is None and column.type == "timestamptz":
                continue
            value = value_for(project, column, refs)
            if value is None and column.references is not None and column.references.table.name == table.name.name:
                continue  # a self-reference stays empty
            if value is not None:
                values[column.name] = value
        statement = sql.SQL("insert into {} ({}) values ({}) returning id").format(
            sql.Identifier(table.name.schema, table.name.name),
            sql.SQL(", ").join(map(sql.Identifier, values)), sql.SQL(", ").join(sql.Placeholder() * len(values)))
        refs[table.name.name] = conn.execute(statement, list(values.values())).fetchone()[0]
        written[table.name.name] = dict(conn.execute(
            sql.SQL("select to_jsonb(t) from {} t where id = %s").format(
                sql.Identifier(table.name.schema, table.name.name)), (refs[table.name.name],)).fetchone()[0])
    return written


def read_rows(conn: psycopg.Connection, project: model.Project, before: dict) -> dict[str, dict | None]:
    found = {}
    for name, row in before.items():
        if name not in project.tables:
            continue
        found[name] = conn.execute(
            sql.SQL("select to_jsonb(t) from {} t where id = %s").format(sql.Identifier(project.schema, name)),
            (row["id"],)).fetchone()
        found[name] = dict(found[name][0]) if found[name] else None
    return found


def assert_rows_survive(before_project, after_project, before: dict, after: dict) -> None:
    for name, row in after.items():
        assert row is not None, f"the row of {name} written before the migration is gone"
        table = after_project.tables[name]
        old_table = before_project.tables[name]
        for column in table.columns:
            old_name = column.renamed_from if column.renamed_from in before[name] else column.name
            old = old_table.column(old_name)
            if old is None:
                continue  # a new column
            enum = after_project.enum_of(column.type)
            renamed = dict((old_value, new) for new, old_value in enum.renamed) if enum else {}
            if old.type == column.type:
                value = before[name][old_name]
                expected = [renamed.get(v, v) for v in value] if isinstance(value, list) else renamed.get(value, value)
                assert row[column.name] == expected, f"{name}.{column.name} changed value"
            else:
                assert (row[column.name] is None) == (before[name][old_name] is None), f"{name}.{column.name}"
