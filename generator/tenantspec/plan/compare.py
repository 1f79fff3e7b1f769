"""Reading the two schema states the planner compares: types and whether a change of one
loses values, definitions of policies, functions and grants as comparable values, and
which tables tenantspec manages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pglast import ast

from tenantspec.catalog.nodes import deparse, walk
from tenantspec.catalog.state import SchemaState, Table
from tenantspec.plan.steps import GRANTEES
from tenantspec.spec import model

NUMERIC_TYPES = frozenset({"int2", "int4", "int8", "numeric", "float4", "float8"})
STRING_TYPES = frozenset({"text", "varchar", "bpchar"})
TIME_TYPES = frozenset({"date", "timestamp", "timestamptz"})
# old -> types that hold every value of it
WIDER = {
    "int2": {"int4", "int8", "numeric", "float8"},
    "int4": {"int8", "numeric", "float8"},
    "int8": {"numeric"},
    "float4": {"float8"},
    "varchar": {"text"},
    "bpchar": {"text", "varchar"},
    "date": {"timestamp", "timestamptz"},
}



# ---------------------------------------------------------------- reading the states

def type_key(node: ast.TypeName | None) -> tuple:
    """A column type, the same whichever synonym spelled it: (base, modifiers, array depth)."""
    if node is None:
        return ("", (), 0)
    names = [n.sval for n in node.names]
    # public is on every search_path: public.status and status are one type
    base = names[-1] if len(names) == 1 or names[0] in ("pg_catalog", "public") else ".".join(names)
    return (base, tuple(deparse(m) for m in node.typmods or ()), len(node.arrayBounds or ()))


def lossless(old: tuple, new: tuple) -> bool:
    """Whether every value of type ``old`` survives a change to ``new``."""
    if old == new:
        return True
    (old_base, old_mods, old_dims), (new_base, new_mods, new_dims) = old, new
    if old_dims != new_dims:
        return False
    if new_base == "text" or (new_base == "varchar" and not new_mods):
        return True
    if old_base == new_base:
        if not new_mods:
            return True
        if not old_mods or len(old_mods) != len(new_mods):
            return False
        numbers = [int(m) for m in old_mods], [int(m) for m in new_mods]
        if old_base == "numeric" and len(old_mods) == 2:
            (precision, scale), (new_precision, new_scale) = numbers
            return new_scale >= scale and new_precision - new_scale >= precision - scale
        return all(n >= o for o, n in zip(*numbers))
    return new_base in WIDER.get(old_base, ()) and not new_mods


def needs_using(old: tuple, new: tuple) -> bool:
    """PostgreSQL converts without USING only where an implicit or assignment cast exists."""
    if old[2] != new[2]:
        return True
    pair = {old[0], new[0]}
    return not (new[0] in STRING_TYPES or pair <= NUMERIC_TYPES or pair <= TIME_TYPES or old[0] == new[0])


def expression_text(node) -> str | None:
    return None if node is None else deparse(node)


# Definitions below hold expressions as syntax trees: pglast compares them ignoring where in
# the text they stood, and much faster than printing them.


def in_list_values(node) -> set[str] | None:
    """The values of ``col in ('a', 'b')`` (or ``= any (array[...])``), else None."""
    values = set()
    for child, _ in walk(node):
        if isinstance(child, ast.A_Const) and isinstance(child.val, ast.String):
            values.add(child.val.sval)
    return values or None


def grants_by_role(table: Table | None) -> dict[str, frozenset[str]]:
    held = table.privileges if table is not None else {}
    return {role: frozenset(held.get(role, {})) for role in GRANTEES}


def execute_by_role(function) -> dict[str, bool]:
    held = function.privileges if function is not None else {}
    return {role: "execute" in held.get(role, {}) for role in GRANTEES}


def function_definition(function) -> tuple:
    return (function.returns, function.language, function.volatility, function.security_definer,
            function.search_path, function.body)


def policy_definition(policy, using=None, check=None) -> tuple:
    return (policy.command, policy.permissive, tuple(sorted(policy.roles)),
            policy.using if using is None else using,
            policy.check if check is None else check)


def managed(project: model.Project, state: SchemaState, generated: set[str]) -> set[tuple[str, str]]:
    """Tables tenantspec owns: the spec'd ones and the ones a migration it generated created."""
    owned = {(project.schema, name) for name in project.tables}
    for key, table in state.tables.items():
        if table.origin is not None and Path(table.origin.statement.file.path).name in generated:
            owned.add(key)
    return owned


@dataclass(frozen=True)
class Matched:
    """Named objects of one kind (constraints, indexes, triggers) compared by definition."""

    renamed: tuple[tuple[str, str], ...]  # (old, new): the same definition under a new name
    created: tuple[str, ...]  # wanted, in order
    dropped: tuple[str, ...]  # had, and neither kept nor renamed


def match(have: dict[str, object], want: dict[str, object]) -> Matched:
    """Keep what has the same name and definition, rename what has only another name (a derived
    name that changed, a hand-written name), and create or drop the rest."""
    unmatched = {name: d for name, d in have.items() if want.get(name) != d}
    renamed, created = [], []
    for name, definition in want.items():
        if have.get(name) == definition:
            continue
        same = next((old for old, d in unmatched.items() if d == definition and old not in want), None)
        if same is not None:
            del unmatched[same]
            renamed.append((same, name))
        else:
            created.append(name)
    return Matched(tuple(renamed), tuple(created), tuple(unmatched))
