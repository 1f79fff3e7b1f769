"""Migration files as statements: which files, in what order, parsed by pglast, with positions.

Each statement keeps the text span it came from so findings can be reported as
``file:line:col`` and so a ``-- tenantspec: ignore RULE-ID <reason>`` comment can be
matched to the statement it sits on.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path

import pglast
from pglast import ast

from tenantspec.catalog.dynamic import body_statements, do_body, parsed_body
from tenantspec.catalog.nodes import parsed
from tenantspec.errors import Location, Problem, TenantspecError

# Supabase keeps migrations in supabase/migrations and applies them in file-name order
# (the names start with a timestamp).
SUPABASE_MIGRATIONS = Path("supabase") / "migrations"

SUPPRESSION = re.compile(
    r"--\s*tenantspec:\s*ignore\s+(?P<rules>[A-Za-z0-9_-]+(?:\s*,\s*[A-Za-z0-9_-]+)*)"
    r"(?P<reason>[^\n]*)"
)


@dataclass(frozen=True)
class Suppression:
    """One ``-- tenantspec: ignore`` comment: the rules it silences and why."""

    rule_ids: tuple[str, ...]
    reason: str
    offset: int


@dataclass
class MigrationFile:
    """One SQL file's text, with a table of line starts to turn offsets into line/col."""

    path: str
    text: str
    line_starts: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.line_starts = [0] + [i + 1 for i, ch in enumerate(self.text) if ch == "\n"]

    def location(self, offset: int) -> Location:
        """The 1-based line and column of a character offset (pglast reports characters)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.line_starts, offset)
        return Location(self.path, line, offset - self.line_starts[line - 1] + 1)


@dataclass(eq=False)
class Statement:
    """One parsed statement and the span of text that belongs to it (comments included)."""

    file: MigrationFile
    node: ast.Node
    start: int
    end: int
    region_start: int
    region_end: int
    suppressions: tuple[Suppression, ...] = ()
    # Node locations are offsets into the text pglast parsed; for a statement found inside a
    # DO block that text starts at ``base`` in the file.
    base: int = 0
    # inside a DO block: run under the block's own conditions (``if not exists``, an exception
    # handler), which replay does not evaluate
    guarded: bool = False
    # the SQL an EXECUTE of a DO block built (in no file: located at the block)
    built: str | None = None

    @property
    def text(self) -> str:
        return self.built if self.built is not None else self.file.text[self.start:self.end]


def migration_paths(paths: list[str | Path]) -> list[Path]:
    """The SQL files of ``paths``, in the order they are applied.

    A folder holding ``supabase/migrations`` means that folder; any other folder means its
    ``*.sql`` files sorted by name; a file is taken as given.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            if (path / SUPABASE_MIGRATIONS).is_dir():
                path = path / SUPABASE_MIGRATIONS
            found.extend(sorted(p for p in path.glob("*.sql") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise TenantspecError(f"{path}: no such file or folder")
    return found


def parse_file(path: str, text: str, passed_over: list[Problem] | None = None) -> list[Statement]:
    """Parse one file into statements; unparsable SQL raises with the error's line and column.

    Given ``passed_over``, a statement the parser refuses is left out instead, and said there
    with its location: the rest of the file is still read (adoption reads what it can)."""
    file = MigrationFile(path, text)
    try:
        raws = [(raw, 0, len(text)) for raw in parsed(text)]
    except pglast.parser.ParseError as error:
        message, index = (error.args + (0,))[:2]
        problem = Problem(file.location(int(index or 0)), f"cannot parse: {message}")
        if passed_over is None:
            raise TenantspecError(problem) from None
        raws = _statement_by_statement(file, passed_over)
    statements: list[Statement] = []
    previous_end = 0
    for raw, base, limit in raws:
        start = base + raw.stmt_location
        end = start + raw.stmt_len if raw.stmt_len else limit
        statements.append(Statement(
            file=file,
            node=raw.stmt,
            start=start,
            end=end,
            region_start=_line_end(text, previous_end) if previous_end else 0,
            region_end=_line_end(text, end),
            base=base,
        ))
        previous_end = end
    expanded: list[Statement] = []
    for statement in statements:
        statement.suppressions = _suppressions(text, statement.region_start, statement.region_end)
        expanded.append(statement)
        if isinstance(statement.node, ast.DoStmt):
            expanded.extend(do_block_statements(statement))
    return expanded


@dataclass(frozen=True)
class PassedOver(Problem):
    """A statement the parser refuses, read past: where, why, and its text."""

    text: str = ""


def _statement_by_statement(file: MigrationFile, passed_over: list[Problem]) -> list:
    """``(raw, base, end)`` of each statement the parser takes, the file split by
    PostgreSQL's scanner; the others are said in ``passed_over``."""
    found = []
    for part in pglast.split(file.text, with_parser=False, only_slices=True):
        try:
            found += [(raw, part.start, part.stop) for raw in pglast.parse_sql(file.text[part])]
        except pglast.parser.ParseError as error:
            message, index = (error.args + (0,))[:2]
            passed_over.append(PassedOver(file.location(part.start + int(index or 0)), (
                f"cannot parse: {message}; tenantspec reads the file without this statement (PostgreSQL 17's "
                "parser refuses it)"), file.text[part]))
    return found


def do_block_statements(block: Statement) -> list[Statement]:
    """The SQL statements inside a PL/pgSQL DO block, in order, so that a policy created under
    ``if not exists (...)`` is replayed too, and one an EXECUTE builds from constants (a loop
    over a list of tables: `tenantspec.catalog.dynamic`). SQL built at run time is not
    followed; a body that does not parse is skipped (PostgreSQL reports it on apply)."""
    body = do_body(block.node)
    tree = parsed_body(body) if body is not None else None
    if tree is None:
        return []
    source = next(o for o in block.node.args if o.defname == "as")
    body_start = _dollar_body_start(block.file.text, source.arg_location, body)
    inner: list[Statement] = []
    cursor = 0
    for query, executed in body_statements(tree):
        found = -1 if executed else body.find(query, cursor)
        if found < 0 or body_start is None:
            base = None  # (SQL an EXECUTE builds: located at the block)
        else:
            base, cursor = body_start + found, found + len(query)
        try:
            raws = pglast.parse_sql(query)
        except pglast.parser.ParseError:
            continue
        for raw in raws:
            start = block.start if base is None else base + raw.stmt_location
            built = None
            if executed:
                built = query[raw.stmt_location:raw.stmt_location + raw.stmt_len if raw.stmt_len else None]
            inner.append(Statement(
                file=block.file,
                node=raw.stmt,
                start=start,
                end=start if base is None else start + (raw.stmt_len or len(query)),
                region_start=block.region_start,
                region_end=block.region_end,
                suppressions=block.suppressions,
                base=block.start if base is None else base,
                guarded=True,
                built=built,
            ))
    return inner


def _dollar_body_start(text: str, location: int | None, body: str) -> int | None:
    """Where a dollar-quoted body begins in the file (``None`` when it is not dollar-quoted)."""
    if location is None or location < 0:
        return None
    match = re.match(r"\$[A-Za-z_0-9]*\$", text[location:])
    if match is None or not text.startswith(body, location + match.end()):
        return None
    return location + match.end()


def read_statements(paths: list[Path]) -> list[Statement]:
    """Every statement of every file, in application order."""
    statements: list[Statement] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise TenantspecError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
        statements.extend(parse_file(str(path), text))
    return statements


def _line_end(text: str, offset: int) -> int:
    """The offset just past the end of the line holding ``offset`` (trailing comments belong
    to the statement whose semicolon is on that line)."""
    newline = text.find("\n", offset)
    return len(text) if newline < 0 else newline + 1


def _suppressions(text: str, start: int, end: int) -> tuple[Suppression, ...]:
    found = []
    for match in SUPPRESSION.finditer(text, start, end):
        rule_ids = tuple(r.strip() for r in match["rules"].split(","))
        found.append(Suppression(rule_ids, match["reason"].strip(), match.start()))
    return tuple(found)
