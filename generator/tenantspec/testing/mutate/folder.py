"""A migrations folder as mutation testing reads it: its statements parsed with pglast, a
mutant as a changed copy of one file, and the node helpers the operators share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pglast
from pglast import ast
from pglast.stream import RawStream

from tenantspec.catalog.nodes import walk

# Everything but the random sequences (the slowest part, and a mutant's probes fail first).
DEFAULT_TESTS = ["-k", "not random_requests"]
REGIME = "legacy"  # where a dropped revoke matters: the default grants hand out ALL
TABLE_PRIVILEGES = ("select", "insert", "update", "delete", "truncate", "references", "trigger")
FK_ACTION_SWAP = {"c": "r", "r": "c", "a": "c", "n": "c", "d": "c"}
FK_ACTION_NAMES = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str  # the migration file it changes
    text: str  # the file's mutated text
    equivalent: str = ""  # why no test can tell it from the original, when none can


@dataclass(frozen=True)
class Statement:
    file: str
    index: int
    node: ast.Node
    start: int  # character offsets of the statement in its file (pglast counts characters)
    end: int


# -- reading the folder ------------------------------------------------------------------------

def read_statements(folder: Path) -> tuple[dict[str, str], list[Statement]]:
    files, statements = {}, []
    for path in sorted(folder.glob("*.sql"), key=lambda p: p.name):
        text = path.read_text(encoding="utf-8")
        files[path.name] = text
        for i, raw in enumerate(pglast.parse_sql(text)):
            end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(text)
            statements.append(Statement(path.name, i, raw.stmt, raw.stmt_location, end))
    return files, statements


def _fresh(files: dict[str, str], statement: Statement) -> ast.Node:
    """A private copy of the statement's node, to mutate."""
    return pglast.parse_sql(files[statement.file][statement.start:statement.end])[0].stmt


def _replace(files: dict[str, str], statement: Statement, node: ast.Node | None) -> str:
    text = files[statement.file]
    new = "" if node is None else RawStream()(node)
    return text[:statement.start] + "\n" + new + text[statement.end:]


def _name(node) -> str:
    return ".".join(n.sval for n in node)


def _relation(rv: ast.RangeVar) -> str:
    return f"{rv.schemaname or 'public'}.{rv.relname}"


def _calls(expression) -> list[ast.FuncCall]:
    return [n for n, _ in walk(expression) if isinstance(n, ast.FuncCall)]
