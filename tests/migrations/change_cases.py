"""Change cases as folders: the base project, a spec change, and what tenantspec must make of it.

``cases/_base/schema`` is the project before the change; ``cases/<case>/before/`` (optional)
and ``cases/<case>/after/`` hold spec files that replace the base's, and ``after/DELETE``
lists spec files the change removes. ``case.yaml`` may say ``base: <name>`` (the spec files of ``cases/_<name>/`` replace the base's
first: ``_listed`` lists the first migration in ``project.yaml``), ``refused: true`` (a destructive
change refused by default), ``allow_destructive: true``, and ``empty_tables: true`` (the
change fails on tables with rows, as its review says). The expected results sit beside:
``expected.sql`` (the new migration) or ``expected.txt`` (the refusal), and ``review.txt``
(what ``tenantspec diff`` says, without the SQL).
"""

from __future__ import annotations

import atexit
import datetime
import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from tenantspec.errors import TenantspecError
from tenantspec.plan.pipeline import (
    Generation,
    plan_project,
    refuse_destructive,
    write_outputs,
)
from tenantspec.spec import model
from tenantspec.spec.load import load_project

CASES = Path(__file__).parent / "cases"
BASE = CASES / "_base"
BEFORE_TIME = datetime.datetime(2026, 3, 1, 9, 0, 0, tzinfo=datetime.timezone.utc)
AFTER_TIME = datetime.datetime(2026, 4, 1, 9, 0, 0, tzinfo=datetime.timezone.utc)


def case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if p.is_dir() and not p.name.startswith("_"))


@dataclass(frozen=True)
class Case:
    name: str
    folder: Path
    refused: bool = False
    allow_destructive: bool = False
    empty_tables: bool = False  # applied to tables without rows (the change fails on rows, and says so)
    base: str | None = None  # an overlay of the base (cases/_<base>/) before the change

    @classmethod
    def load(cls, name: str) -> Case:
        folder = CASES / name
        config = YAML(typ="safe").load((folder / "case.yaml").read_text()) if (folder / "case.yaml").is_file() else {}
        return cls(name, folder, bool(config.get("refused")), bool(config.get("allow_destructive")),
                   bool(config.get("empty_tables")), config.get("base"))


def overlay(root: Path, folder: Path) -> None:
    """Spec files of ``folder`` replace the project's; its DELETE file lists ones to remove."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.name == "DELETE":
            for name in path.read_text().split():
                (root / "schema" / name).unlink(missing_ok=True)
        else:
            shutil.copy(path, root / "schema" / path.name)


def build_base(root: Path, before: Path | None = None, base: str | None = None) -> Generation:
    """The base project (with ``base``'s overlay and ``before``'s specs over it), its first
    migration generated."""
    shutil.copytree(BASE / "schema", root / "schema")
    if base is not None:
        overlay(root, CASES / f"_{base}")
    if before is not None:
        overlay(root, before)
    first = plan_project(root, "base", BEFORE_TIME)
    write_outputs(root, first.outputs)
    return first


def build_before(case: Case, root: Path) -> Generation:
    """The project before the change, with its first migration generated."""
    return build_base(root, case.folder / "before", case.base)


def plan_after(case: Case, root: Path) -> Generation:
    """The change applied to the specs, planned (nothing written)."""
    overlay(root, case.folder / "after")
    return plan_project(root, case.name, AFTER_TIME)


def refusal(generation: Generation) -> str | None:
    try:
        refuse_destructive(generation.plan)
    except TenantspecError as error:
        return "".join(f"{problem}\n" for problem in error.problems)
    return None


@dataclass(frozen=True)
class Prepared:
    """A case built and planned once per test process, shared by the tests that read it:
    ``before`` holds the project before the change with its first migration, ``after`` the
    same with the change's specs (its migration not written). Copy a folder to change it."""

    before: Path
    after: Path
    before_project: model.Project
    generation: Generation

    @property
    def before_files(self) -> list[str]:
        return sorted(p.name for p in (self.before / "supabase/migrations").glob("*.sql"))

    def copy_after(self, root: Path) -> Path:
        shutil.copytree(self.after, root, dirs_exist_ok=True)
        return root


@functools.cache
def prepared(name: str) -> Prepared:
    case = Case.load(name)
    folder = Path(tempfile.mkdtemp(prefix=f"tenantspec_case_{name}_"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    before, after = folder / "before", folder / "after"
    before.mkdir()
    build_before(case, before)
    shutil.copytree(before, after)
    generation = plan_after(case, after)
    return Prepared(before, after, load_project(before), generation)
