"""The straight path: spec → model → render → verify → files, all or none."""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path

from generator.access import render_access
from generator.errors import TenantspecError
from generator.load import load_project
from generator.render import render_migrations
from generator.verify import verify_sql


def build_outputs(root: Path) -> dict[Path, str]:
    """Every generated file's text, keyed by path relative to ``root``; raises on any problem."""
    project = load_project(root)
    migrations = render_migrations(project)
    problems = verify_sql(project, migrations)
    if problems:
        raise TenantspecError(problems)
    return {**migrations, **render_access(project)}


def write_outputs(root: Path, files: dict[Path, str]) -> list[Path]:
    """Write every file or none: stage each beside its target, then rename them all into place.

    Returns the paths whose content changed.
    """
    changed = [path for path, text in files.items() if _read(root / path) != text]
    staged: list[tuple[Path, Path]] = []
    try:
        for path in changed:
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(files[path])
            staged.append((Path(temp), target))
    except OSError as error:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise TenantspecError(f"cannot write {error.filename}: {error.strerror}; nothing was changed") from None
    for temp, target in staged:
        os.replace(temp, target)
    return changed


def stale_outputs(root: Path, files: dict[Path, str]) -> list[str]:
    """A unified diff for every committed file that differs from what the specs generate."""
    diffs = []
    for path, text in files.items():
        current = _read(root / path)
        if current != text:
            diffs.append("".join(difflib.unified_diff(
                (current or "").splitlines(keepends=True), text.splitlines(keepends=True),
                fromfile=f"{path} (committed)", tofile=f"{path} (generated)")) or f"{path}: missing\n")
    return diffs


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
