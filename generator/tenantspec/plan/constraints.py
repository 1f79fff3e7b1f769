"""The planner's constraint and index steps."""

from __future__ import annotations

from tenantspec.catalog.nodes import normalized
from tenantspec.catalog.state import Table
from tenantspec.plan.compare import in_list_values, match
from tenantspec.plan.steps import (
    ADD_CONSTRAINT,
    ADD_KEY,
    CREATE_INDEX,
    DROP_CONSTRAINT,
    DROP_FOREIGN_KEY,
    DROP_INDEX,
    RENAME,
    Hazard,
)
from tenantspec.render.migrations import index_context, named_constraints
from tenantspec.render.quoting import ident, qualified
from tenantspec.spec import model


class ConstraintSteps:
    """Constraint and index steps of the ``Planner``."""


    def constraint_definitions(self, table: Table, renames: dict[str, str] | None = None) -> dict[str, tuple]:
        """``{name: definition}`` of every constraint, in comparable form."""
        renames = renames or {}
        swap = lambda names: tuple(renames.get(n, n) for n in names)  # noqa: E731
        found = {}
        for fk in table.foreign_keys:
            found[fk.name] = ("foreign key", swap(fk.columns), fk.target, fk.target_columns, fk.on_delete,
                              fk.on_update)
        for check in table.checks:
            found[check.name] = ("check", normalized(self.renamed(check.expression, table.name, renames)))
        for index in table.indexes:
            if index.constraint:
                found[index.name] = (index.constraint, swap(index.columns))
        return found

    def constraints(self, spec: model.Table, current: Table, wanted: Table, renames: dict[str, str]) -> None:
        name, qname = spec.name.name, qualified(spec.name)
        have = self.constraint_definitions(current, renames)
        want = self.constraint_definitions(wanted)
        definitions = dict(named_constraints(self.project, spec))
        matched = match(have, want)
        for old, constraint in matched.renamed:
            self.add(RENAME, f"{name}: rename constraint {old} to {constraint}",
                     [self.sql.rename_constraint(qname, ident(old), ident(constraint))], name)
        for constraint in matched.created:
            text = f"constraint {ident(constraint)} {definitions[constraint]}"
            kind = want[constraint][0]
            hazards = self.narrowing(spec, current, constraint) if kind == "check" and constraint in have else []
            if kind in ("foreign key", "check"):
                statement = self.sql.add_constraint_not_valid(qname, text, ident(constraint))
                how = "added not valid, then validated"
            else:
                rules = ("adding-serial-primary-key-field" if kind == "primary key" else "disallowed-unique-constraint")
                statement = self.sql.add_constraint(qname, text, f"constraint-missing-not-valid, {rules}")
                how = "builds its index while the table is locked"
            self.add(ADD_CONSTRAINT if kind in ("foreign key", "check") else ADD_KEY,
                     f"{name}: add {kind} {constraint} ({how})", [statement], name, hazards, ("constrain", name))
        for constraint in matched.dropped:
            kind = have[constraint][0]
            replaced = " (replaced)" if constraint in want else ""
            self.add(DROP_FOREIGN_KEY if kind == "foreign key" else DROP_CONSTRAINT,
                     f"{name}: drop {kind} {constraint}{replaced}",
                     [self.sql.drop_constraint(qname, ident(constraint))], name)

    def narrowing(self, spec: model.Table, current: Table, constraint: str) -> list[Hazard]:
        """A one_of check that no longer allows a value it allowed is refused by default; another
        replaced check may fail validation on existing rows."""
        column = next((c for c in spec.columns if c.one_of and constraint == f"{spec.name.name}_{c.name}_check"), None)
        old = next((c for c in current.checks if c.name == constraint), None)
        if old is None:
            return []
        if column is None:
            return [Hazard(f"replaces check {constraint}: validation fails if existing rows break it",
                           spec.locate("checks"), destructive=False)]
        old_values = in_list_values(old.expression) or set()
        dropped = sorted(old_values - set(column.one_of))
        if not dropped:
            return []
        return [Hazard(f"narrows {spec.name.name}.{column.name} one_of, dropping {', '.join(dropped)}: rows "
                       "holding them make the migration fail", column.locate("one_of"))]

    def index_definitions(self, table: Table, renames: dict[str, str] | None = None) -> dict[str, tuple]:
        renames = renames or {}
        found = {}
        for index in table.indexes:
            if index.constraint:
                continue
            where = self.renamed(index.where, table.name, renames) if index.where is not None else None
            found[index.name] = (tuple(renames.get(c, c) for c in index.columns), index.unique,
                                 where, index.method)
        return found

    def indexes(self, spec: model.Table, current: Table, wanted: Table, renames: dict[str, str]) -> None:
        name, qname = spec.name.name, qualified(spec.name)
        have = self.index_definitions(current, renames)
        want = self.index_definitions(wanted)
        by_name = {index.name: index for index in spec.indexes}
        matched = match(have, want)
        for old, index in matched.renamed:
            self.add(RENAME, f"{name}: rename index {old} to {index}",
                     [self.sql.rename_index(qualified(model.Name(self.schema, old)), ident(index))], name)
        for index in matched.created:
            self.add(CREATE_INDEX, f"{name}: create index {index} on ({', '.join(want[index][0])})",
                     [self.sql.create_index(index_context(by_name[index]), qname, True)], name,
                     [Hazard(f"builds index {index} while writes to {name} wait (a migration runs in one "
                             "transaction, where CREATE INDEX CONCURRENTLY cannot)", by_name[index].location,
                             destructive=False)], ("index", name))
        for index in matched.dropped:
            self.add(DROP_INDEX, f"{name}: drop index {index}",
                     [self.sql.drop_index(qualified(model.Name(self.schema, index)))], name)
