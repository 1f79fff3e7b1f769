"""The mutants of a migrations folder: each operator's changes applied to a fresh copy of a
statement, and the mutants that change nothing the proof could see (an equivalent schema,
an unreachable cell) set aside."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pglast
from pglast import ast, enums

from tenantspec.catalog.access import AccessReader, TenantModel, Truth, personas
from tenantspec.catalog.expression import conjuncts
from tenantspec.catalog.fingerprint import fingerprint
from tenantspec.catalog.nodes import column_ref_name
from tenantspec.catalog.replay import replay
from tenantspec.catalog.source import parse_file
from tenantspec.catalog.state import SchemaState
from tenantspec.errors import TenantspecError
from tenantspec.spec.load import load_project
from tenantspec.testing.mutate.folder import (
    Mutant,
    Statement,
    _fresh,
    _name,
    _replace,
    read_statements,
)
from tenantspec.testing.mutate.operators import (
    _helper_shape,
    _owner_tests,
    _relations,
    grant_mutations,
    grants_added,
    policy_mutations,
    table_mutations,
)


def chain_state(files: dict[str, str], mutated: Mutant | None = None) -> SchemaState:
    """The schema the folder's files build, replayed; with ``mutated``'s file in place of its own."""
    parsed = []
    for name in sorted(files):
        text = mutated.text if mutated is not None and mutated.file == name else files[name]
        parsed += parse_file(name, text)
    return replay(parsed)


def guarded_columns(state: SchemaState) -> dict[tuple[str, str], set[str]]:
    """Columns a BEFORE UPDATE row trigger keeps fixed (``when (old.c is distinct from new.c)``),
    by table: the generated guard of a row's workspace."""
    found: dict[tuple[str, str], set[str]] = {}
    for key, table in state.tables.items():
        for trigger in table.triggers.values():
            when = trigger.when
            if trigger.timing == "before" and trigger.events == ("update",) and trigger.for_each_row \
                    and isinstance(when, ast.A_Expr) and when.kind == enums.A_Expr_Kind.AEXPR_DISTINCT:
                sides = [column_ref_name(side) for side in (when.lexpr, when.rexpr)
                         if isinstance(side, ast.ColumnRef)]
                if len(sides) == 2 and {q for q, _ in sides} == {"old", "new"} and sides[0][1] == sides[1][1]:
                    found.setdefault(key, set()).add(sides[0][1])
    return found


def equivalence(mutant: Mutant, statement: Statement | None, original: tuple, files: dict[str, str],
                guarded: dict, reader) -> str:
    """Why ``mutant`` cannot be told from the original by any request, or "" when it can:

    - the later migrations undo it (the folder ends in the same schema), or
    - it only weakens the WITH CHECK of an UPDATE policy on a table whose workspace a trigger
      keeps fixed, leaving the same-workspace ties in place, in a way the USING already
      implies: the new row is in the old row's workspace, which USING admitted.
    """
    if fingerprint(chain_state(files, mutant)) == original:
        return "the later migrations undo it: the folder ends in the same schema"
    node = statement.node if statement is not None else None
    if reader is None or not isinstance(node, ast.CreatePolicyStmt) or node.cmd_name not in ("update", "all"):
        return ""
    key = (node.table.schemaname or "public", node.table.relname)
    fixed = guarded.get(key, set())
    mutated = next((n for n in parse_sql_nodes(mutant.text) if isinstance(n, ast.CreatePolicyStmt)
                    and n.policy_name == node.policy_name), None)
    if not fixed or mutated is None or mutated.qual != node.qual or mutated.roles != node.roles:
        return ""
    if node.with_check is not None and _owner_tests(node.with_check):
        return ""  # the row's user column is no workspace column: an update may change it
    ties = lambda e: [part for part in conjuncts(e) if _relations(part)] if e is not None else []  # noqa: E731
    if ties(mutated.with_check) != ties(node.with_check):
        return ""
    table = reader.state.tables.get(key)
    if table is None or reader.workspace_column(key) not in fixed:
        return ""
    for persona in reader_personas(reader):
        using = reader.truth(node.qual, reader.row_scope(table), persona)
        check = reader.truth(mutated.with_check, reader.row_scope(table), persona) \
            if mutated.with_check is not None else Truth(True)
        if using.value is not False and check.value is not True:
            return ""  # a row the USING may admit (or the SQL does not tell) that the check no longer holds
    return (f"{reader.workspace_column(key)} cannot change (a trigger keeps it), so this WITH CHECK holds "
            "wherever the USING did")


def catalogue(folder: Path) -> list[Mutant]:
    """Every single-change mutant of the folder, without duplicates; the ones no request can
    tell from the original carry the reason (``equivalent``)."""
    files, statements = read_statements(folder)
    mutants: list[Mutant] = []
    origins = []
    helpers: dict[str, tuple] = {}  # the functions created ahead of the statement, by name
    for s in statements:
        for description, mutate in [*policy_mutations(s, helpers), *grant_mutations(s), *table_mutations(s)]:
            mutants.append(Mutant(" ".join(description.split()), s.file,
                                  _replace(files, s, mutate(_fresh(files, s)))))
            origins.append((mutants[-1], s))
        if isinstance(s.node, ast.CreateFunctionStmt):
            helpers[_name(s.node.funcname)] = _helper_shape(s.node)
    mutants += grants_added(files, statements)
    unique, seen = [], set()
    for mutant in mutants:
        digest = hashlib.sha256(f"{mutant.file}\0{mutant.text}".encode()).hexdigest()
        if digest not in seen and mutant.text != files[mutant.file]:
            seen.add(digest)
            unique.append(mutant)
    state = chain_state(files)
    original, guarded, reader = fingerprint(state), guarded_columns(state), access_reader(folder, state)
    by_mutant = {id(m): s for m, s in origins}
    return [replace(m, equivalent=equivalence(m, by_mutant.get(id(m)), original, files, guarded, reader))
            for m in unique]


def access_reader(folder: Path, state: SchemaState):
    """A reader of the folder's policies for its project's tenancy, when the project has specs."""
    root = folder.resolve().parent.parent
    if not (root / "schema" / "project.yaml").is_file():
        return None
    try:
        return AccessReader(state, TenantModel.of(load_project(root)))
    except TenantspecError:
        return None


def reader_personas(reader) -> list:
    return [p for p in personas(reader.tenancy) if p.db_role == "authenticated"]


def parse_sql_nodes(text: str) -> list:
    return [raw.stmt for raw in pglast.parse_sql(text)]
