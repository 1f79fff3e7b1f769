"""Rules on indexes: foreign keys without one, indexes another makes redundant."""

from __future__ import annotations

from typing import Iterator

from tenantspec.catalog.state import SchemaState
from tenantspec.lint.config import LintConfig
from tenantspec.lint.rules.base import Severity, Violation, rule
from tenantspec.lint.tenancy import Tenancy

# ---------------------------------------------------------------- indexes

@rule("foreign-key-without-index", Severity.WARNING, "foreign-key column with no index leading with it")
def foreign_key_without_index(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A foreign key whose columns do not lead any index of the table (a primary key or
    unique constraint counts; a partial index does not). Deleting or updating a referenced
    row then scans the whole referencing table, and policies and joins that filter on the
    key cannot use an index. A key of several columns is also served by an index leading
    with its first column (`(job_id, workspace_id)` by an index on `job_id`): the lookup finds
    the rows by it and checks the rest. Fix: `create index on t (fk_column);`, or put the
    column first in an index you already need."""
    for table in state.tables.values():
        for fk in table.foreign_keys:
            if table.external and not all(c in table.columns for c in fk.columns):
                continue  # an old column of a table made elsewhere may well be indexed there
            wanted = set(fk.columns)
            if not any(ix.predicate is None and (set(ix.columns[:len(wanted)]) == wanted
                                                 or ix.columns[:1] == fk.columns[:1])
                       for ix in table.indexes):
                yield Violation(fk.origin, f"{table.qualified_name}({', '.join(fk.columns)}) references "
                                           f"{fk.target[0]}.{fk.target[1]} but no index leads with it")


@rule("redundant-index", Severity.WARNING, "index whose columns lead another index")
def redundant_index(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A non-unique index whose columns are a leading prefix of another index on the same
    table with the same method and predicate. The longer index serves every query the
    shorter one does, so the shorter one only costs writes and space. Fix: drop it (keep
    unique indexes: they enforce a constraint)."""
    for table in state.tables.values():
        for i, index in enumerate(table.indexes):
            if index.unique or index.constraint:
                continue
            for j, other in enumerate(table.indexes):
                if i == j or other.method != index.method or other.predicate != index.predicate:
                    continue
                prefix = other.columns[:len(index.columns)] == index.columns
                same = other.columns == index.columns
                if prefix and (not same or other.unique or j < i):
                    yield Violation(index.origin,
                                    f"index {index_label(index)} on {table.qualified_name} is covered by "
                                    f"{index_label(other)}; drop it")
                    break


def index_label(index) -> str:
    columns = f"({', '.join(index.columns)})"
    if index.name:
        return f"{index.name} {columns}"
    return f"the {index.constraint} constraint {columns}" if index.constraint else f"an unnamed index {columns}"


# ---------------------------------------------------------------- about suppressions
