"""The stages' layering (docs/architecture.md) is a contract import-linter checks: the tree as it
is keeps it, and an upward import or a circle breaks it, naming the import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), str(ROOT / "pyproject.toml"), "--no-cache"],
                          cwd=package_parent, capture_output=True, text=True)


@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of the package to break."""
    shutil.copytree(ROOT / "generator" / "tenantspec", tmp_path / "tenantspec",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_package_keeps_its_layers_and_has_no_circles():
    result = lint_imports(ROOT / "generator")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout, result.stdout


def test_an_upward_import_breaks_the_contract(tree):
    """The model (spec) importing the pipeline (plan) is an import from a lower stage upward."""
    model = tree / "tenantspec" / "spec" / "model.py"
    model.write_text(model.read_text() + "\nimport tenantspec.plan.pipeline  # noqa: E402,F401\n")
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout
    assert "a stage imports only the stages below it BROKEN" in result.stdout, result.stdout
    assert "tenantspec.spec.model -> tenantspec.plan.pipeline" in result.stdout, result.stdout


def test_a_circle_inside_a_package_breaks_the_contract(tree):
    keys = tree / "tenantspec" / "catalog" / "keys.py"
    keys.write_text(keys.read_text() + "\nimport tenantspec.catalog.replay  # noqa: E402,F401\n")
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout
    assert "No cycles are allowed in tenantspec.catalog." in result.stdout, result.stdout
    assert ".keys -> .replay" in result.stdout, result.stdout
