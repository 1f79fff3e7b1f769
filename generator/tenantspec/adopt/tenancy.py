"""How an adopted table belongs to a workspace or a user: its references, workspace keys,
parent, user columns and carried workspace column."""

from __future__ import annotations

from tenantspec.adopt.access import owner_columns
from tenantspec.catalog.builtins import AUTH_USERS
from tenantspec.catalog.names import singular
from tenantspec.catalog.state import Table
from tenantspec.errors import Problem, TenantspecError
from tenantspec.lint.tenancy import signed_up_tables, users_tables
from tenantspec.spec import model


class TenancyReading:
    """The ``Adopter``'s reading of a table's tenancy."""

    def references(self, table: Table) -> dict[str, dict]:
        found = {}
        tied = {id(fk): (column, target) for fk, column, target in self.workspace_keys(table)}
        parent = self.carrying_parent(table)
        for fk in table.foreign_keys:
            if id(fk) in tied:  # how tenantspec itself keeps a reference (or the parent) in the row's workspace
                column, target_column = tied[id(fk)]
                found[column] = self.reference_spec(fk, target_column)
                if column != parent:
                    found[column]["same_workspace"] = True
                continue
            if len(fk.columns) != 1:
                self.note(fk.origin, f"foreign key {fk.name} on {table.qualified_name} spans several columns, "
                                     "which specs do not describe; the next migration drops it")
                continue
            spec = self.reference_spec(fk, fk.target_columns[0])
            if self.scoped_reference(table, fk.columns[0], fk.target):
                spec["same_workspace"] = True
                if not self.tied_everywhere(table, fk.columns[0]):
                    self.note(fk.origin, f"{table.qualified_name}.{fk.columns[0]} references "
                                         f"{fk.target[0]}.{fk.target[1]}, whose rows belong to a workspace, and no "
                                         "policy keeps it within the row's own: the spec says same_workspace, the "
                                         "next migration adds the check")
            found[fk.columns[0]] = spec
        return found

    def reference_spec(self, fk, target_column: str) -> dict:
        target = self.written_name(fk.target)
        spec: dict = {"table": target}
        if target_column != "id":
            spec["column"] = target_column
        if fk.on_delete != "no action":
            spec["on_delete"] = fk.on_delete
        return spec

    def scoped_reference(self, table: Table, column: str, target: tuple[str, str]) -> bool:
        """A reference into another table whose rows belong to a workspace (not the tenancy
        column itself, nor the parent a child's workspace comes from, nor a table keyed by its
        user)."""
        key = (table.schema, table.name)
        if column == self.reader.workspace_column(key) or target == self.tenancy.workspaces:
            return False
        if self.reader.workspace_column(target) is None or target in self.user_keyed:
            return False  # (a profile keyed by its user names a user, and users span workspaces)
        return self.parent_column(table) != column

    @property
    def user_keyed(self) -> set[tuple[str, str]]:
        """Tables keyed by a user's id (profiles.id references auth.users), auth.users too."""
        if not hasattr(self, "_user_keyed"):
            self._user_keyed = users_tables(self.state, frozenset({AUTH_USERS}) | signed_up_tables(self.state))
        return self._user_keyed

    def tied_everywhere(self, table: Table, column: str) -> bool:
        return all(self.reader.reference_tied(table, column, command, persona)
                   for command in ("insert", "update") for persona in self.members
                   if self.reader.verdict((table.schema, table.name), command, persona).allowed)

    def workspace_keys(self, table: Table) -> list[tuple]:
        """Two-column keys pairing the row's workspace column with the target's, ``(order_id,
        workspace_id) -> orders (id, workspace_id)``: ``(key, the other column, its target)``."""
        workspace = self.reader.workspace_column((table.schema, table.name))
        found = []
        for fk in table.foreign_keys:
            if len(fk.columns) == 2 and workspace in fk.columns \
                    and self.reader.workspace_column(fk.target) == fk.target_columns[fk.columns.index(workspace)]:
                other = 1 - fk.columns.index(workspace)
                found.append((fk, fk.columns[other], fk.target_columns[other]))
        return found

    def carrying_parent(self, table: Table) -> str | None:
        """The parent key of a workspace column carried from the parent, ``(job_id,
        workspace_id) references robot_jobs (id, workspace_id)`` with no key of its own to the
        workspaces table."""
        workspace = self.reader.workspace_column((table.schema, table.name))
        if any(fk.columns == (workspace,) and fk.target == self.tenancy.workspaces for fk in table.foreign_keys):
            return None
        return next((column for fk, column, _ in self.workspace_keys(table)
                     if fk.target != (table.schema, table.name) and table.columns[column].not_null), None)

    def adopted_workspace_column(self, key: tuple[str, str], seen: frozenset = frozenset()) -> str | None:
        """The column holding a row's workspace once the table is adopted: its own, the one its
        spec says, or the one it carries from its parent (a child of the workspace's child)."""
        if (column := self.reader.workspace_column(key)) is not None:
            return column
        if key[0] == self.project.schema and key[1] in self.project.tables:
            return self.project.tables[key[1]].tenancy.workspace_column
        target = self.parent_table(key) if key not in seen else None
        return self.adopted_workspace_column(target, seen | {key}) if target else None

    def parent_table(self, key: tuple[str, str]) -> tuple[str, str] | None:
        """The table whose row decides the workspace of a row of ``key`` (``parent_column``'s)."""
        table = self.state.tables.get(key)
        parent = self.parent_column(table) if table is not None else None
        return self.reader.reference_target(key, parent) if parent else None

    def parent_column(self, table: Table, seen: frozenset = frozenset()) -> str | None:
        """A foreign key to a table with a workspace column, when the row has none (NOT NULL first: a
        nullable one leaves rows of no parent, which belong to no workspace): the parent's own column,
        or one its adoption gives it (a grandchild of the workspace, whose
        parent is adopted beside it or specified already)."""
        key = (table.schema, table.name)
        if self.reader.workspace_column(key) is not None:
            return None
        # a NOT NULL key first; else a nullable one (a row of no parent belongs to no workspace)
        for fk in sorted(table.foreign_keys, key=lambda fk: not self.required(table, fk.columns[0])):
            if len(fk.columns) != 1 or fk.columns[0] not in table.columns or fk.target[0] != self.project.schema \
                    or fk.target == key or fk.target in seen:
                continue
            target = self.state.tables.get(fk.target)
            if target is None or target.external:
                continue
            if self.reader.workspace_column(fk.target):
                return fk.columns[0]
            adopted = fk.target[1] in self.names or fk.target[1] in self.project.tables
            if adopted and self.parent_column(target, seen | {key}) is not None:
                return fk.columns[0]
        return None

    @staticmethod
    def required(table: Table, column: str) -> bool:
        return column in table.columns and table.columns[column].not_null

    @staticmethod
    def nullable(table: Table, column: str | None) -> bool:
        return column is not None and column in table.columns and not table.columns[column].not_null

    def tenancy_of(self, table: Table) -> dict | None:
        column = self.reader.workspace_column((table.schema, table.name))
        if column is not None and (parent := self.carrying_parent(table)) is not None:
            return {"parent": parent, "strategy": model.CARRIED}  # as tenantspec renders a child
        if column is not None:
            # a nullable column: rows with no workspace are kept, service_role's alone
            return {"column": column} if table.columns[column].not_null else {"column": column, "nullable": True}
        parent = self.parent_column(table)
        if parent is None:
            return None
        target = self.parent_table((table.schema, table.name))
        if self.nullable(table, parent):  # a row of no parent belongs to no workspace
            return {"parent": parent, "nullable": True, "strategy": model.EXISTS}
        # a workspace that may be null cannot be carried: the policies reach it through the parent
        return {"parent": parent, "strategy": model.EXISTS if target and self.nullable_workspace(target)
                else model.CARRIED}

    def personal_rows_possible(self, table: Table) -> bool:
        """Whether the table's own workspace column may be null: rows of no workspace there may
        be their user's (personal rows)."""
        column = self.reader.workspace_column((table.schema, table.name))
        return self.nullable(table, column) and self.carrying_parent(table) is None

    def nullable_workspace(self, key: tuple[str, str], seen: frozenset = frozenset()) -> bool:
        """Whether rows of ``key`` may have no workspace: its workspace column is nullable, or
        its parent's is."""
        table = self.state.tables.get(key)
        if table is None or key in seen:
            return False
        if (column := self.reader.workspace_column(key)) is not None:
            return self.nullable(table, column)
        if self.nullable(table, self.parent_column(table)):
            return True
        target = self.parent_table(key)
        return self.nullable_workspace(target, seen | {key}) if target else False

    def user_columns(self, table: Table) -> set[str]:
        """The columns a table's policies compare with auth.uid(); with no policy at all, its one
        foreign key to auth.users."""
        if not table.policies:
            return {fk.columns[0] for fk in table.foreign_keys if fk.target == ("auth", "users")
                    and len(fk.columns) == 1 and table.columns[fk.columns[0]].type_name == "uuid"}
        return set().union(*(owner_columns(p) for p in table.policies.values())) & set(table.columns)

    def of_users(self, key: tuple[str, str]) -> bool:
        """Whether ``key`` is (or adopts as) a per-user table."""
        if key[0] != self.project.schema:
            return False
        spec = self.project.tables.get(key[1])
        if spec is not None:
            return spec.tenancy.per_user and not spec.tenancy.user_parent
        table = self.state.tables.get(key)
        return key[1] in self.names and table is not None and self.tenancy_of(table) is None \
            and len(self.user_columns(table)) == 1 and not self.workspace_named(table)

    def user_parent_column(self, table: Table) -> str | None:
        """A NOT NULL foreign key to a per-user table, when the row has no workspace."""
        for fk in table.foreign_keys:
            if len(fk.columns) == 1 and table.columns[fk.columns[0]].not_null and fk.target != (table.schema, table.name) \
                    and self.of_users(fk.target):
                return fk.columns[0]
        return None

    def workspace_named(self, table: Table) -> bool:
        """Whether the table has a column named like a workspace column (it references nothing)."""
        workspaces = self.tenancy.workspaces
        names = [self.project.tenancy.members.workspace_column, f"{singular(workspaces[1])}_id", "workspace_id"]
        return any(n and n in table.columns for n in names)

    def unreferenced_tenancy(self, table: Table, references: dict[str, dict]) -> dict:
        """A table whose workspace column references nothing (``org_id uuid not null``, no
        foreign key): the column named like the memberships' workspace column holds it, and
        the spec adds the reference; without such a column adoption stops, naming the table."""
        workspaces = self.tenancy.workspaces
        names = [self.project.tenancy.members.workspace_column, f"{singular(workspaces[1])}_id", "workspace_id"]
        column = next((n for n in names if n and n in table.columns), None)
        if column is None:
            raise TenantspecError(Problem(table.origin.location if table.origin else None,
                                          f"{table.qualified_name}: no column references {workspaces[1]} and no "
                                          "parent table that does, so which workspace a row belongs to is unknown; "
                                          "tenantspec adopts workspace tables only"))
        target = self.written_name(workspaces)
        references[column] = {"table": target, "on_delete": "cascade"}
        self.note(table.columns[column].origin,
                  f"{table.qualified_name}.{column} holds the row's {workspaces[1]} row but references nothing: "
                  f"the spec makes it the tenancy column and references {target} (on delete cascade); the next "
                  "migration adds the foreign key, which fails if a row names no existing one")
        return {"column": column} if table.columns[column].not_null else {"column": column, "nullable": True}

    def carried_column(self, table: Table, tenancy: dict) -> str | None:
        """The column a carried child gets: its parent's workspace column's name. One the table
        has as a generated column (``org_id ... generated always as (org_of(account_id))``)
        cannot become a carried one in place: the table stays hand-written."""
        if tenancy.get("strategy") != model.CARRIED:
            return None
        target = self.reader.reference_target((table.schema, table.name), tenancy["parent"]) or next(
            (fk.target for fk, column, _ in self.workspace_keys(table) if column == tenancy["parent"]), None)
        carried = self.adopted_workspace_column(target) if target else None
        if carried in table.columns and (generated := table.columns[carried]).generated is not None:
            raise TenantspecError(Problem(
                generated.origin.location if generated.origin else None,
                f"{table.qualified_name}.{carried}, the row's workspace, is a generated column: tenantspec cannot "
                "say a workspace computed by the database yet"))
        return carried
