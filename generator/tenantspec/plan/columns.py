"""The planner's column steps: add, rename, retype, default, NOT NULL and comment."""

from __future__ import annotations

from tenantspec.catalog.nodes import deparse, normalized
from tenantspec.catalog.state import Table
from tenantspec.errors import Problem, TenantspecError
from tenantspec.plan.compare import expression_text, lossless, needs_using, type_key
from tenantspec.plan.steps import (
    ADD_COLUMN,
    ALTER_COLUMN,
    COMMENT,
    DROP_COLUMN,
    RENAME,
    Hazard,
    proving_check,
)
from tenantspec.render.migrations import column_definition
from tenantspec.render.quoting import ident, literal, qualified
from tenantspec.spec import model
from tenantspec.spec.expressions import is_serial, timezone_call, utc_timezone_call


class ColumnSteps:
    """Column steps of the ``Planner``."""


    def columns(self, spec: model.Table, current: Table, wanted: Table, renames: dict[str, str]) -> None:
        name, qname = spec.name.name, qualified(spec.name)
        for old, new in renames.items():
            self.add(RENAME, f"{name}: rename column {old} to {new} (rows keep their values)",
                     [self.sql.rename_column(qname, ident(old), ident(new))], name, label=("rename", f"{old}_to_{new}"))
        columns = {renames.get(n, n): c for n, c in current.columns.items()}
        for column_name in columns:
            if column_name not in wanted.columns:
                self.add(DROP_COLUMN, f"{name}: drop column {column_name}",
                         [self.sql.drop_column(qname, ident(column_name))], name,
                         [Hazard(f"drops column {name}.{column_name} and its values", spec.locate("columns"))],
                         ("drop", column_name))
        for column_name, target in wanted.columns.items():
            column_spec = spec.column(column_name)
            existing = columns.get(column_name)
            if existing is None:
                self.add_column(spec, column_spec, current)
            else:
                self.alter_column(spec, column_spec, existing, target)

    def add_column(self, spec: model.Table, column: model.Column, current: Table) -> None:
        name = spec.name.name
        hazards = []
        if column.name == spec.tenancy.carried:
            self.add_carried_column(spec, column, current)
            return
        numbered = column.identity is not None or is_serial(column.type)  # existing rows get numbers too
        if column.not_null and column.default is None and not numbered:
            hazards.append(Hazard(f"adds {name}.{column.name} not null without a default: the migration fails "
                                  "if the table has rows; give the column a default", column.locate("not_null")))
        rewrite = numbered or column.generated is not None
        if rewrite:
            made = "its expression" if column.generated is not None else "the next numbers"
            hazards.append(Hazard(f"fills {name}.{column.name} of every existing row with {made}: the table is "
                                  "rewritten while writes to it wait", column.locate("type"), destructive=False))
        self.add(ADD_COLUMN, f"{name}: add column {column.name} ({column.type}"
                 + (", not null" if column.not_null else "") + (f", default {column.default}" if column.default else "")
                 + ")", [self.sql.add_column(qualified(spec.name), column_definition(column),
                                             column.not_null and column.default is None, rewrite)],
                 name, hazards, ("add", column.name))
        if column.comment:
            self.column_comment(spec, column, "comment added")

    def add_carried_column(self, spec: model.Table, column: model.Column, current: Table) -> None:
        """The parent's workspace, carried: added empty, filled from the parent, then not null."""
        name, qname, col = spec.name.name, qualified(spec.name), ident(column.name)
        ref = spec.parent_reference()
        nullable = model.Column(column.name, column.type, False, False, None, (), None, None)
        fill = (f"update {qname} as c set {col} = p.{ident(self.project.workspace_of(ref.table))} "
                f"from {qualified(ref.table)} as p where p.{ident(ref.column)} = c.{ident(spec.tenancy.parent)}")
        self.add(ADD_COLUMN, f"{name}: add column {column.name}, the workspace of each row's {ref.table.name} row",
                 [self.sql.add_column(qname, column_definition(nullable)), *self.quiet_update(current, fill),
                  self.sql.set_not_null(qname, col, proving_check(name, column.name))], name,
                 [Hazard(f"fills {name}.{column.name} of every existing row from {ref.table.name} (one update of "
                         "each row; its update triggers are held off)", spec.locate("tenancy"), destructive=False)],
                 ("carry", column.name))
        if column.comment:
            self.column_comment(spec, column, "comment added")

    def quiet_update(self, current: Table, statement: str) -> list[str]:
        """``statement`` (an UPDATE of existing rows) with the table's triggers held off, so
        filling a column does not also rewrite ``updated_at`` and the like."""
        if not any("update" in t.events for t in current.triggers.values()):
            return [f"{statement};"]
        qname = f"{ident(current.schema)}.{ident(current.name)}"
        return [self.sql.set_trigger(qname, "user", "disable"), f"{statement};",
                self.sql.set_trigger(qname, "user", "enable")]

    def column_comment(self, spec: model.Table, column: model.Column, words: str) -> None:
        target = f"column {qualified(spec.name)}.{ident(column.name)}"
        self.add(COMMENT, f"{spec.name.name}.{column.name}: {words}",
                 [self.sql.set_comment(target, literal(column.comment) if column.comment else "null")], spec.name.name)

    def alter_column(self, spec: model.Table, column: model.Column, existing, target) -> None:
        name, qname, col = spec.name.name, qualified(spec.name), ident(column.name)
        old_type, new_type = type_key(existing.type), type_key(target.type)
        retyped = old_type != new_type
        defaults_differ = normalized(existing.default) != normalized(target.default)
        had_default, has_default = existing.default is not None, target.default is not None
        statements, hazards, words = [], [], []
        if retyped:
            self.retyped.setdefault(name, set()).add(column.name)
            cast = needs_using(old_type, new_type)
            # without an assignment cast the old default cannot be converted either
            if cast and had_default:
                statements.append(self.sql.drop_default(qname, col))
            using = f" using {col}::{column.type}" if cast else ""
            statements.append(self.sql.alter_column_type(qname, col, column.type, using))
            words.append(f"type {deparse(existing.type)} -> {column.type}")
            if not lossless(old_type, new_type):
                hazards.append(Hazard(f"changes {name}.{column.name} from {deparse(existing.type)} to {column.type}, "
                                      "which may not hold every existing value", column.locate("type")))
            if has_default and (cast or defaults_differ):
                statements.append(self.sql.set_default(qname, col, column.default))
            elif had_default and not has_default and not cast:
                statements.append(self.sql.drop_default(qname, col))
        elif defaults_differ:
            statements.append(self.sql.set_default(qname, col, column.default) if has_default
                              else self.sql.drop_default(qname, col))
            old_text = expression_text(existing.default)
            words.append(f"default {old_text or 'none'} -> {column.default or 'none'}")
            if existing.type_name == "timestamptz" and old_text and timezone_call(old_text) \
                    and not utc_timezone_call(old_text):
                hazards.append(Hazard(f"rows written under the old default {old_text} hold a local time stored as "
                                      "if it were UTC, hours off: the migration does not rewrite them "
                                      "(docs/adopt.md shows how to fix them)", column.locate("default"),
                                      destructive=False))
        if existing.identity != target.identity:
            if existing.identity is None:
                statements.append(self.sql.add_identity(qname, col, target.identity))
            elif target.identity is None:
                statements.append(self.sql.drop_identity(qname, col))
            else:
                statements.append(self.sql.set_identity(qname, col, target.identity))
            words.append(f"identity {existing.identity or 'none'} -> {target.identity or 'none'}")
        if normalized(existing.generated) != normalized(target.generated):
            raise TenantspecError(Problem(column.locate("generated"), (
                f"{name}.{column.name}: a column's generation cannot change in place on every PostgreSQL: add a "
                "column under a new name (and drop this one) instead")))
        if existing.not_null and not target.not_null and not target.identity:
            statements.append(self.sql.drop_not_null(qname, col))
            words.append("nullable")
        elif target.not_null and not existing.not_null:
            if column.default is not None:
                fill = f"update {qname} set {col} = {column.default} where {col} is null"
                statements += self.quiet_update(self.cur.tables[(spec.name.schema, spec.name.name)], fill)
                hazards.append(Hazard(f"sets {name}.{column.name} to its default {column.default} where it is "
                                      "null, then makes it not null", column.locate("not_null"), destructive=False))
            else:
                hazards.append(Hazard(f"makes {name}.{column.name} not null without a default: the migration "
                                      "fails if any row holds null", column.locate("not_null")))
            statements.append(self.sql.set_not_null(qname, col, proving_check(name, column.name)))
            words.append("not null")
        elif target.not_null and self.renames_not_null(spec, existing, target):
            statements += [self.sql.drop_not_null(qname, col),
                           self.sql.set_not_null(qname, col, proving_check(name, column.name))]
            words.append(f"not-null constraint named as on a fresh table ({existing.not_null_name} -> "
                         f"{target.not_null_name} on PostgreSQL 18; servers before 18 name none)")
        if statements:
            self.add(ALTER_COLUMN, f"{name}.{column.name}: " + ", ".join(words), statements, name, hazards,
                     ("alter", column.name))
        if (existing.comment or None) != (target.comment or None):
            self.column_comment(spec, column, "comment changed" if target.comment else "comment removed")

    def renames_not_null(self, spec: model.Table, existing, target) -> bool:
        """PostgreSQL 18 names a NOT NULL constraint once, when the column becomes NOT NULL: a
        renamed column, or a name that was taken then, leaves the chain with another name than a
        fresh render. Making the column NOT NULL again gives it the fresh name, on a server that
        names the constraint; elsewhere it changes nothing. A primary-key column cannot drop NOT
        NULL, and a name the schema still holds would be numbered again: both are left as they are."""
        if existing.not_null_name == target.not_null_name or target.not_null_name is None:
            return False
        keyed = set(self.cur.tables[(spec.name.schema, spec.name.name)].primary_key)
        return (existing.name not in keyed and target.name not in keyed
                and not self.cur.constraint_name_taken(spec.name.schema, target.not_null_name))
