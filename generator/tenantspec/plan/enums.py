"""The next migration's steps for enum types: create the ones the specs add, add and rename
values. PostgreSQL cannot drop a value, nor reorder them; a spec that does is refused with
its location.

Removing a value is destructive (refused unless allowed): the type is renamed aside,
created again with the spec's values, every column of it converted through text (which
fails on a row holding a removed value: nothing is lost silently) and the old type dropped.

A value added by ``alter type ... add value`` cannot be used in the transaction that adds it
(``unsafe use of new enum value``), and ``supabase db push`` runs each file in one
transaction: when the plan holds other steps too, ``generate`` writes the additions to a
migration file of their own, one version ahead (see ``pipeline.split_enum_values``).
"""

from __future__ import annotations

from tenantspec.catalog.state import SchemaState
from tenantspec.errors import Problem, TenantspecError
from tenantspec.plan.steps import Hazard
from tenantspec.render.migrations import enum_context
from tenantspec.render.quoting import ident, literal, qualified
from tenantspec.spec import model

ENUM_VALUES, CREATE_TYPE = 5, 6  # phases: before everything that could use them
RETYPE_COLUMNS, DROP_OLD_TYPE = 40, 125  # with the other column changes; after everything


def enum_steps(project: model.Project, current: SchemaState, sql, step, retyped: dict[str, set[str]]) -> list:
    """``step(phase, summary, statements, label, hazards)`` builds each Step; columns whose type
    is made again go into ``retyped`` (table -> columns), so the policies reading them are too."""
    steps, problems = [], []
    for enum in project.enums.values():
        if enum.external:
            continue
        name = qualified(enum.name)
        have = current.enums.get((enum.name.schema, enum.name.name))
        if have is None:
            steps.append(step(CREATE_TYPE, f"create type {enum.name} ({', '.join(enum.values)})",
                              [sql.create_enum(enum_context(enum))], ("create", enum.name.name), ()))
            continue
        values = list(have.values)
        for new, old in enum.renamed:
            if old in values and new not in values:
                values[values.index(old)] = new
                steps.append(step(CREATE_TYPE, f"{enum.name}: rename value {old} to {new}",
                                  [sql.rename_enum_value(name, literal(old), literal(new))],
                                  ("rename", enum.name.name), ()))
        kept = [v for v in values if v in enum.values]
        if len(kept) < len(values):
            steps += recreate(project, current, sql, step, enum, [v for v in values if v not in enum.values],
                              retyped, problems)
            continue
        if [v for v in enum.values if v in kept] != kept:
            problems.append(Problem(enum.location, (
                f"enum {enum.name} lists {', '.join(v for v in enum.values if v in kept)} in another order than the "
                f"database has them ({', '.join(values)}); PostgreSQL cannot reorder enum values: list them as "
                "they are")))
            continue
        # Values are added ahead of the renames (in a file of their own when the plan does more),
        # so a neighbour goes by the name it has then.
        was = {new: old for new, old in enum.renamed if old in have.values}
        for i, value in enumerate(enum.values):
            if value in values:
                continue
            before = next((v for v in enum.values[:i][::-1] if v in values), None)
            position = f" after {literal(was.get(before, before))}" if before is not None \
                else f" before {literal(was.get(values[0], values[0]))}"
            values.insert(values.index(before) + 1 if before is not None else 0, value)
            steps.append(step(ENUM_VALUES, f"{enum.name}: add value {value}",
                              [sql.add_enum_value(name, literal(value), position)], ("extend", enum.name.name), ()))
    if problems:
        raise TenantspecError(problems)
    return steps


def recreate(project: model.Project, current: SchemaState, sql, step, enum: model.Enum, removed: list[str],
             retyped: dict[str, set[str]], problems: list[Problem]) -> list:
    """Steps making ``enum`` again without ``removed``: every column of it converted."""
    name, aside = qualified(enum.name), f"{enum.name.name}__before"
    columns = [(table, column) for table in current.tables.values() if not table.external
               for column in table.columns.values() if column.type is not None
               and _names(column.type) == (enum.name.schema, enum.name.name)]
    foreign = [f"{t.qualified_name}.{c.name}" for t, c in columns
               if t.schema != project.schema or t.name not in project.tables]
    if foreign:
        problems.append(Problem(enum.location, f"enum {enum.name} would lose {', '.join(map(repr, removed))}, but "
                                               f"{', '.join(foreign)} has no spec: tenantspec cannot convert it"))
        return []
    hazard = Hazard(f"enum {enum.name} loses {', '.join(map(repr, removed))}: the type is made again and every "
                    "column of it converted; a row holding a removed value makes the migration fail",
                    enum.location)
    steps = [step(CREATE_TYPE, f"{enum.name}: make again without {', '.join(removed)}",
                  [sql.rename_type(name, aside), sql.create_enum(enum_context(enum))],
                  ("shrink", enum.name.name), (hazard,))]
    for table, column in columns:
        spec = project.tables[table.name].column(column.name)
        array = "[]" * len(column.type.arrayBounds or ())
        target = f"{name}{array}"
        qname, col = qualified(model.Name(table.schema, table.name)), ident(column.name)
        statements = [sql.drop_default(qname, col)] if column.default is not None else []
        statements.append(sql.alter_column_type(qname, col, target, f" using {col}::text{array}::{target}"))
        if spec is not None and spec.default is not None:
            statements.append(sql.set_default(qname, col, spec.default))
        retyped.setdefault(table.name, set()).add(column.name)
        steps.append(step(RETYPE_COLUMNS, f"{table.name}.{column.name}: convert to the new {enum.name}",
                          statements, None, ()))
    steps.append(step(DROP_OLD_TYPE, f"drop the old {enum.name} ({aside})",
                      [sql.drop_type(qualified(model.Name(enum.name.schema, aside)))], None, ()))
    return steps


def _names(type_name) -> tuple[str, str]:
    parts = [n.sval for n in type_name.names]
    return (parts[-2] if len(parts) > 1 else "public", parts[-1])
