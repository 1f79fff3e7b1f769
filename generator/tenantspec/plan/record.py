"""What the last `generate` or `check` of a project found up to date, for a second run to answer
without planning again.

Planning reads the specs and the migrations, renders and replays them: seconds on hundreds of
tables, to find, most of the time, that nothing changed. A run that finds the project up to
date records a digest of everything its answer depends on: the content of every file under
``schema/`` (specs, project file, ACCESS.md) and ``supabase/migrations/``, the sum file, and
tenantspec's own code and templates. A later run whose digest is the same gives the same
answer, so it prints the notes recorded with it and stops. Any change to those files, or to
tenantspec, plans afresh. A `generate` that writes a migration leaves the project up to date
(it checks that nothing is left to plan after it) with the same notes, since the migration it
appends changes none of them: it records the digest its files will have once written, and
only if they have it when written.

The records live in the user's cache folder (``$XDG_CACHE_HOME/tenantspec``, or
``TENANTSPEC_CACHE_DIR``), never in the project. ``TENANTSPEC_CACHE_DIR=off`` turns them off. A
record that cannot be read or written is no record.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import tenantspec
from tenantspec.plan.history import SUM_FILE
from tenantspec.render.migrations import MIGRATIONS_DIR, template_dir

# What planning reads and what generate writes, under the root.
INPUTS = (Path("schema"), MIGRATIONS_DIR, SUM_FILE)
CODE = Path(tenantspec.__file__).parent


def recorded_notes(root: Path, command: str, digest: str) -> list[str] | None:
    """The notes of the last ``command`` run on ``root`` that found it up to date, when its
    inputs had ``digest`` (`inputs_digest`) as they have now; else None."""
    path = _record_path(root, command)
    if path is None:
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("digest") != digest or not isinstance(record.get("notes"), list):
        return None
    return [str(n) for n in record["notes"]]


def record_up_to_date(root: Path, command: str, digest: str, notes: list[str]) -> None:
    """Record that ``command`` found ``root`` up to date, with the notes it printed, its inputs
    having ``digest``: taken before the run read them, so that a file changed while it ran is
    never recorded as seen."""
    path = _record_path(root, command)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps({"digest": digest, "notes": list(notes)}), encoding="utf-8")
        partial.replace(path)  # whole or not at all
    except OSError:
        return


def input_contents(root: Path) -> dict[str, bytes]:
    """The digest of each input file's content, by its path under the root."""
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).digest()
            for name in INPUTS for path in _files(root / name)}


def once_written(contents: dict[str, bytes], written: dict[Path, str]) -> dict[str, bytes]:
    """``contents`` as they will be once ``written`` (paths under the root, their text) is."""
    return contents | {Path(path).as_posix(): hashlib.sha256(text.encode("utf-8")).digest()
                       for path, text in written.items()}


def inputs_digest(contents: dict[str, bytes], command: str) -> str:
    """A digest of the command, the project's inputs (``input_contents``) and tenantspec's code
    and templates (names, sizes and modification times)."""
    digest = hashlib.sha256(f"{command}\0".encode())
    for name, content in sorted(contents.items()):
        digest.update(f"{name}\0".encode())
        digest.update(content)
    for base in dict.fromkeys((CODE, template_dir())):
        for path in _files(base):
            stat = path.stat()
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _files(path: Path) -> list[Path]:
    """``path`` itself when it is a file, the files under it when it is a folder."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    return sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _record_path(root: Path, command: str) -> Path | None:
    setting = os.environ.get("TENANTSPEC_CACHE_DIR")
    if setting == "off":
        return None
    if setting:
        base = Path(setting)
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tenantspec"
    project = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:32]
    return base / "up-to-date" / f"{project}-{command}.json"
