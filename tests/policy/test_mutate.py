"""The mutation catalogue works on parsed statements of any migrations folder."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pglast
import pytest

from tenantspec.testing.mutate.catalogue import catalogue

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = [ROOT / "tests" / "cases" / "app" / "supabase" / "migrations",  # a frozen copy of the app
           ROOT / "tests" / "generator" / "cases" / "render" / "edges" / "expected" / "supabase" / "migrations"]


@functools.cache
def catalogue_of(folder: Path):
    """The catalogue of a folder the tests do not change, built once."""
    return catalogue(folder)


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_mutant_parses_and_changes_one_file(folder):
    originals = {p.name: p.read_text() for p in folder.glob("*.sql")}
    mutants = catalogue_of(folder)
    assert mutants
    assert len({(m.file, m.text) for m in mutants}) == len(mutants), "duplicate mutants"
    for mutant in mutants:
        assert mutant.text != originals[mutant.file], mutant.name
        pglast.parse_sql(mutant.text)


def test_each_kind_of_mutation_is_in_the_catalogue():
    names = "\n".join(m.name for m in catalogue_of(FOLDERS[0]))
    for kind in ("USING calls", "WITH CHECK calls", "USING dropped", "WITH CHECK is true", "loses its tie",
                 "no TO role", "grant dropped", "revoke dropped", "grant added", "row level security not enabled",
                 "search_path dropped", "on delete cascade becomes restrict", "dropped from the allowed values",
                 "unique constraint dropped", "made plain", "not null dropped", "trigger", "publication"):
        assert kind in names, kind


def test_alter_migrations_are_mutated_too(tmp_path):
    """Statements of later, incremental migrations are mutated like the CREATE ones."""
    shutil.copytree(FOLDERS[0], tmp_path, dirs_exist_ok=True)
    (tmp_path / "20260301000000_alter.sql").write_text(
        "alter table public.robot_jobs add column order_id uuid;\n\n"
        "alter table public.robot_jobs add constraint robot_jobs_order_id_fkey\n"
        "  foreign key (order_id) references public.orders (id) on delete set null;\n\n"
        "alter table public.robot_jobs add constraint robot_jobs_carrier_check\n"
        "  check (carrier in ('coordinadora', 'servientrega'));\n"
    )
    names = [m.name for m in catalogue(tmp_path) if m.file == "20260301000000_alter.sql"]
    assert "robot_jobs_order_id_fkey: on delete set null becomes cascade" in names
    assert "robot_jobs_carrier_check: 'servientrega' dropped from the allowed values" in names


def test_statements_after_non_ascii_text_are_cut_where_they_stand(tmp_path):
    """pglast gives statement offsets in characters: a comment with accents or dashes ahead of a
    statement must not shift the cut that replaces it."""
    lead = "-- Übersicht — portales de transportadoras, configuración\n\n"
    for path in FOLDERS[0].glob("*.sql"):
        (tmp_path / path.name).write_text(lead + path.read_text())
    mutants = catalogue(tmp_path)
    assert sorted(m.name for m in mutants) == sorted(m.name for m in catalogue_of(FOLDERS[0]))
    for mutant in mutants:
        assert mutant.text.startswith(lead), mutant.name
        pglast.parse_sql(mutant.text)
