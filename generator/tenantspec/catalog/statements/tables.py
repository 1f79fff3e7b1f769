"""Tables: CREATE TABLE, ALTER TABLE and its commands, CREATE INDEX, renames and moves."""

from __future__ import annotations

from typing import Callable

from pglast import ast, enums

from tenantspec.catalog import names as pg_names
from tenantspec.catalog.keys import grant_defaults, relation_key, type_name
from tenantspec.catalog.nodes import column_ref_name, deparse, rename_column_refs, walk
from tenantspec.catalog.source import Statement
from tenantspec.catalog.state import (
    SERIALS,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Origin,
    SchemaState,
    Table,
)
from tenantspec.catalog.statements.enums import rename_enum
from tenantspec.catalog.statements.policies import alter_view

# ---------------------------------------------------------------- tables

def add_column(state: SchemaState, table: Table, column: ast.ColumnDef, statement: Statement) -> None:
    origin = Origin(statement, column.location)
    entry = Column(column.colname, type_name(column.typeName), False, None, None, origin,
                   type=column.typeName)
    table.columns[column.colname] = entry
    if column.is_not_null or entry.type_name in SERIALS:
        set_not_null(state, table, entry)
    for constraint in column.constraints or ():
        kind = constraint.contype
        if kind == enums.ConstrType.CONSTR_DEFAULT:
            entry.default = constraint.raw_expr
            entry.default_origin = Origin(statement, constraint.location)
        elif kind == enums.ConstrType.CONSTR_IDENTITY:
            entry.identity = "always" if constraint.generated_when == "a" else "by default"
            if not entry.not_null:
                set_not_null(state, table, entry)
            continue
        elif kind == enums.ConstrType.CONSTR_GENERATED:
            entry.generated = constraint.raw_expr
            continue
        elif kind in (enums.ConstrType.CONSTR_NOTNULL, enums.ConstrType.CONSTR_PRIMARY):
            set_not_null(state, table, entry)
        if kind != enums.ConstrType.CONSTR_DEFAULT:
            add_constraint(state, table, constraint, statement, column=column.colname)


FK_ACTIONS = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}


def default_constraint_name(state: SchemaState, table: Table, addition: str | None, label: str) -> str:
    chosen = pg_names.choose_name(table.name, addition, label,
                                  lambda name: state.constraint_name_taken(table.schema, name)
                                  or (label in (pg_names.PRIMARY_KEY, pg_names.UNIQUE)
                                      and state.relation_name_taken(table.schema, name)))
    state.taken_names.get(table.schema, set()).add(chosen)  # taken from now on, in this statement too
    return chosen


def set_not_null(state: SchemaState, table: Table, column: Column) -> None:
    """Make ``column`` NOT NULL, naming the constraint as PostgreSQL 18 does (a column that
    is NOT NULL already keeps its constraint)."""
    if not column.not_null or column.not_null_name is None:
        column.not_null_name = default_constraint_name(state, table, column.name, pg_names.NOT_NULL)
    column.not_null = True


def drop_not_null(column: Column) -> None:
    column.not_null = False
    column.not_null_name = None


def check_column(expression: ast.Node) -> str | None:
    """The column a CHECK names its default after: the only column it reads, if just one."""
    columns = {column_ref_name(node)[1] for node, _ in walk(expression) if isinstance(node, ast.ColumnRef)}
    columns.discard(None)
    return columns.pop() if len(columns) == 1 else None


def add_constraint(state: SchemaState, table: Table, constraint: ast.Constraint,
                   statement: Statement, column: str | None = None) -> None:
    """Record the foreign key, check or index a table or column constraint creates."""
    kind = constraint.contype
    origin = Origin(statement, constraint.location)
    if kind == enums.ConstrType.CONSTR_FOREIGN:
        columns = (column,) if column else tuple(c.sval for c in constraint.fk_attrs)
        table.foreign_keys.append(ForeignKey(
            name=constraint.conname or default_constraint_name(
                state, table, pg_names.column_addition(columns), pg_names.FOREIGN_KEY),
            columns=columns,
            target=relation_key(constraint.pktable),
            target_columns=tuple(c.sval for c in constraint.pk_attrs or ()) or ("id",),
            origin=origin,
            on_delete=FK_ACTIONS.get(constraint.fk_del_action or "a", "no action"),
            on_update=FK_ACTIONS.get(constraint.fk_upd_action or "a", "no action"),
            validated=not constraint.skip_validation,
        ))
    elif kind == enums.ConstrType.CONSTR_CHECK:
        table.checks.append(CheckConstraint(
            name=constraint.conname or default_constraint_name(
                state, table, column or check_column(constraint.raw_expr), pg_names.CHECK),
            expression=constraint.raw_expr,
            origin=origin,
            validated=not constraint.skip_validation,
        ))
    elif kind in (enums.ConstrType.CONSTR_PRIMARY, enums.ConstrType.CONSTR_UNIQUE):
        columns = (column,) if column else tuple(c.sval for c in constraint.keys or ())
        primary = kind == enums.ConstrType.CONSTR_PRIMARY
        if constraint.indexname and not columns:  # ... primary key using index <name>
            used = next((ix for ix in table.indexes if ix.name == constraint.indexname and not ix.constraint), None)
            if used is None and not table.external:
                state.conflict(origin, f"{table.qualified_name} has no index {constraint.indexname}")
            if used is not None:
                table.indexes.remove(used)  # it becomes the constraint's index, renamed after it
                columns = used.columns
        if primary:
            for name in columns:
                if name in table.columns:
                    set_not_null(state, table, table.columns[name])
        name = constraint.conname or constraint.indexname or default_constraint_name(
            state, table, None if primary else pg_names.column_addition(columns),
            pg_names.PRIMARY_KEY if primary else pg_names.UNIQUE)
        table.indexes.append(Index(
            name=name,
            columns=columns,
            unique=True,
            predicate=None,
            method="btree",
            constraint="primary key" if primary else "unique",
            origin=origin,
        ))
    elif kind == enums.ConstrType.CONSTR_NOTNULL and column is None and constraint.keys:
        for key in constraint.keys:
            if key.sval in table.columns:
                set_not_null(state, table, table.columns[key.sval])


def create_table(state: SchemaState, node: ast.CreateStmt, statement: Statement) -> None:
    key = relation_key(node.relation)
    existing = state.tables.get(key)
    if existing is not None and not existing.external:
        if node.if_not_exists:
            return
        state.conflict(Origin(statement), f"creates table {existing.qualified_name}, which "
                                          f"{existing.origin.location} already created")
    origin = Origin(statement)
    table = Table(key[0], key[1], origin=origin, rls=False, rls_origin=origin)
    table.privileges = grant_defaults(state.table_defaults, key[0], origin)
    state.tables[key] = table
    for element in node.tableElts or ():
        if isinstance(element, ast.ColumnDef):
            add_column(state, table, element, statement)
        elif isinstance(element, ast.Constraint):
            add_constraint(state, table, element, statement)
    drop_repeated_keys(table)


def drop_repeated_keys(table: Table) -> None:
    """CREATE TABLE makes one index for keys on the same columns: a UNIQUE that repeats the
    primary key (``id uuid primary key unique``) or an earlier UNIQUE is never created."""
    keys = sorted((ix for ix in table.indexes if ix.constraint), key=lambda ix: ix.constraint != "primary key")
    seen: set[tuple[str, ...]] = set()
    repeated = []
    for index in keys:
        if index.columns in seen:
            repeated.append(index)
        seen.add(index.columns)
    table.indexes = [ix for ix in table.indexes if all(ix is not r for r in repeated)]


def create_table_as(state: SchemaState, node: ast.CreateTableAsStmt, statement: Statement) -> None:
    """CREATE TABLE ... AS: a table whose columns come from a query (not tracked)."""
    if node.objtype != enums.ObjectType.OBJECT_TABLE:
        return
    key = relation_key(node.into.rel)
    origin = Origin(statement)
    table = Table(key[0], key[1], origin=origin, rls=False, rls_origin=origin)
    table.privileges = grant_defaults(state.table_defaults, key[0], origin)
    state.tables[key] = table


def set_schema(state: SchemaState, node: ast.AlterObjectSchemaStmt, statement: Statement) -> None:
    if node.objectType not in (enums.ObjectType.OBJECT_TABLE, enums.ObjectType.OBJECT_VIEW) \
            or node.relation is None:
        return
    key = relation_key(node.relation)
    if node.objectType == enums.ObjectType.OBJECT_TABLE:
        move_table(state, key, (node.newschema, key[1]))
    elif (view := state.views.pop(key, None)) is not None:
        view.schema = node.newschema
        state.views[(node.newschema, key[1])] = view


def move_table(state: SchemaState, old: tuple[str, str], new: tuple[str, str]) -> None:
    """What PostgreSQL does when a table is renamed or changes schema: it keeps its identity, so
    its policies, the foreign keys that reference it and its publications follow it."""
    table = state.tables.pop(old, None)
    if table is None:
        return
    table.schema, table.name = new
    state.tables[new] = table
    for policy in table.policies.values():
        policy.table = new
    for other in state.tables.values():
        for fk in other.foreign_keys:
            if fk.target == old:
                fk.target = new
    for members in state.publications.values():
        members[:] = [new if member == old else member for member in members]


def alter_table(state: SchemaState, node: ast.AlterTableStmt, statement: Statement) -> None:
    if node.objtype == enums.ObjectType.OBJECT_VIEW:
        alter_view(state, node, statement)
        return
    if node.objtype != enums.ObjectType.OBJECT_TABLE:
        return
    table = state.table(relation_key(node.relation))
    for command in node.cmds or ():
        handler = ALTER_TABLE_COMMANDS.get(command.subtype)
        if handler is not None:
            handler(state, table, command, statement)


def known_column(state: SchemaState, table: Table, name: str, statement: Statement,
                 missing_ok: bool = False) -> Column | None:
    """The column ``name``; a conflict when a table the folder created lacks it."""
    column = table.columns.get(name)
    if column is None and not table.external and not missing_ok:
        state.conflict(Origin(statement), f"{table.qualified_name} has no column {name}")
    return column


def alter_add_column(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    name = command.def_.colname
    if name in table.columns:
        if command.missing_ok:
            return
        state.conflict(Origin(statement, command.def_.location),
                       f"adds column {name} to {table.qualified_name}, which "
                       f"{table.columns[name].origin.location} already added")
    add_column(state, table, command.def_, statement)


def alter_column_default(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    column = known_column(state, table, command.name, statement)
    if column is None:
        return
    column.default = command.def_
    column.default_origin = Origin(statement, getattr(command.def_, "location", None))


def alter_column_identity(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    """ADD GENERATED ... AS IDENTITY, SET GENERATED ..., DROP IDENTITY."""
    column = known_column(state, table, command.name, statement)
    if column is None:
        return
    if command.subtype == enums.AlterTableType.AT_DropIdentity:
        column.identity = None
        return
    options = command.def_ if isinstance(command.def_, (tuple, list)) else (
        command.def_.constraints if isinstance(command.def_, ast.ColumnDef) else (command.def_,))
    for option in options or ():
        if isinstance(option, ast.Constraint) and option.contype == enums.ConstrType.CONSTR_IDENTITY:
            column.identity = "always" if option.generated_when == "a" else "by default"
            if not column.not_null:
                set_not_null(state, table, column)
        elif isinstance(option, ast.DefElem) and option.defname == "generated":
            column.identity = "always" if getattr(option.arg, "ival", None) == ord("a") else "by default"


def alter_column_type(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    column = known_column(state, table, command.name, statement)
    if column is not None and command.def_ is not None:
        column.type_name = type_name(command.def_.typeName)
        column.type = command.def_.typeName


def alter_not_null(not_null: bool) -> Callable:
    def handler(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
        column = known_column(state, table, command.name, statement)
        if column is not None:
            if not_null:
                set_not_null(state, table, column)
            else:
                drop_not_null(column)
    return handler


def alter_drop_column(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    if known_column(state, table, command.name, statement, command.missing_ok) is None:
        return
    table.columns.pop(command.name, None)
    table.foreign_keys = [fk for fk in table.foreign_keys if command.name not in fk.columns]
    table.checks = [check for check in table.checks if command.name not in {
        column_ref_name(node)[1] for node, _ in walk(check.expression) if isinstance(node, ast.ColumnRef)}]
    table.indexes = [ix for ix in table.indexes if command.name not in ix.columns]


def alter_add_constraint(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    name = command.def_.conname
    if name and name in table.constraint_names():
        state.conflict(Origin(statement, command.def_.location),
                       f"adds constraint {name} to {table.qualified_name}, which already has it")
    add_constraint(state, table, command.def_, statement)


def constraint_named(table: Table, name: str):
    """The foreign key, check or key constraint of ``table`` called ``name``."""
    for constraint in (*table.foreign_keys, *table.checks, *(ix for ix in table.indexes if ix.constraint)):
        if constraint.name == name:
            return constraint
    return None


def alter_validate_constraint(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    constraint = constraint_named(table, command.name)
    if constraint is not None and hasattr(constraint, "validated"):
        constraint.validated = True


def alter_drop_constraint(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
    not_null = table.column_with_not_null(command.name)
    if not_null is not None:  # PostgreSQL 18: dropping the NOT NULL constraint makes it nullable
        drop_not_null(not_null)
        return
    if constraint_named(table, command.name) is None and not table.external and not command.missing_ok:
        state.conflict(Origin(statement), f"{table.qualified_name} has no constraint {command.name}")
    table.foreign_keys = [fk for fk in table.foreign_keys if fk.name != command.name]
    table.checks = [check for check in table.checks if check.name != command.name]
    table.indexes = [ix for ix in table.indexes if not (ix.constraint and ix.name == command.name)]


def alter_set_rls(enabled: bool) -> Callable:
    def handler(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
        table.rls = enabled
        table.rls_origin = Origin(statement)
    return handler


def alter_force_rls(forced: bool) -> Callable:
    def handler(state, table: Table, command: ast.AlterTableCmd, statement: Statement) -> None:
        table.force_rls = forced
    return handler


ALTER_TABLE_COMMANDS = {
    enums.AlterTableType.AT_AddColumn: alter_add_column,
    enums.AlterTableType.AT_ColumnDefault: alter_column_default,
    enums.AlterTableType.AT_AddIdentity: alter_column_identity,
    enums.AlterTableType.AT_SetIdentity: alter_column_identity,
    enums.AlterTableType.AT_DropIdentity: alter_column_identity,
    enums.AlterTableType.AT_AlterColumnType: alter_column_type,
    enums.AlterTableType.AT_DropColumn: alter_drop_column,
    enums.AlterTableType.AT_AddConstraint: alter_add_constraint,
    enums.AlterTableType.AT_DropConstraint: alter_drop_constraint,
    enums.AlterTableType.AT_ValidateConstraint: alter_validate_constraint,
    enums.AlterTableType.AT_SetNotNull: alter_not_null(True),
    enums.AlterTableType.AT_DropNotNull: alter_not_null(False),
    enums.AlterTableType.AT_EnableRowSecurity: alter_set_rls(True),
    enums.AlterTableType.AT_DisableRowSecurity: alter_set_rls(False),
    enums.AlterTableType.AT_ForceRowSecurity: alter_force_rls(True),
    enums.AlterTableType.AT_NoForceRowSecurity: alter_force_rls(False),
}


def create_index(state: SchemaState, node: ast.IndexStmt, statement: Statement) -> None:
    table = state.table(relation_key(node.relation))
    if node.idxname and state.relation_name_taken(table.schema, node.idxname):
        if node.if_not_exists:
            return
        state.conflict(Origin(statement), f"creates index {node.idxname}, a name {table.schema} already uses")
    columns = tuple(
        element.name if element.name else f"({deparse(element.expr)})"
        for element in node.indexParams or ()
    )
    addition = pg_names.column_addition(
        element.name or "expr" for element in node.indexParams or ())
    table.indexes.append(Index(
        name=node.idxname or pg_names.choose_name(
            table.name, addition, pg_names.INDEX, lambda name: state.relation_name_taken(table.schema, name)),
        columns=columns,
        unique=bool(node.unique or node.primary),
        predicate=deparse(node.whereClause) if node.whereClause is not None else None,
        where=node.whereClause,
        method=node.accessMethod or "btree",
        constraint=None,
        origin=Origin(statement),
    ))


def rename(state: SchemaState, node: ast.RenameStmt, statement: Statement) -> None:
    kind = node.renameType
    if kind == enums.ObjectType.OBJECT_TYPE:
        rename_enum(state, node.object, node.newname)
    elif kind == enums.ObjectType.OBJECT_TABLE:
        key = relation_key(node.relation)
        move_table(state, key, (key[0], node.newname))
    elif kind == enums.ObjectType.OBJECT_COLUMN:
        table = state.table(relation_key(node.relation))
        if known_column(state, table, node.subname, statement, node.missing_ok) is not None:
            rename_column(state, table, node.subname, node.newname)
    elif kind == enums.ObjectType.OBJECT_TABCONSTRAINT:
        table = state.table(relation_key(node.relation))
        constraint = constraint_named(table, node.subname)
        not_null = table.column_with_not_null(node.subname)
        if not_null is not None:
            not_null.not_null_name = node.newname
        elif constraint is None and not table.external:
            state.conflict(Origin(statement), f"{table.qualified_name} has no constraint {node.subname}")
        elif constraint is not None:
            constraint.name = node.newname
    elif kind == enums.ObjectType.OBJECT_TRIGGER:
        table = state.table(relation_key(node.relation))
        trigger = table.triggers.pop(node.subname, None)
        if trigger is not None:
            trigger.name = node.newname
            table.triggers[node.newname] = trigger
    elif kind == enums.ObjectType.OBJECT_INDEX:
        schema, name = relation_key(node.relation)
        for table in state.tables.values():
            for index in table.indexes:
                if table.schema == schema and index.name == name:
                    index.name = node.newname
    elif kind == enums.ObjectType.OBJECT_POLICY:
        table = state.table(relation_key(node.relation))
        policy = table.policies.pop(node.subname, None)
        if policy is not None:
            policy.name = node.newname
            table.policies[node.newname] = policy


def rename_column(state: SchemaState, table: Table, old: str, new: str) -> None:
    """What PostgreSQL does on RENAME COLUMN: definitions that use the column follow it."""
    table.columns[old].name = new
    table.columns = {(new if name == old else name): column for name, column in table.columns.items()}
    swap = lambda names: tuple(new if n == old else n for n in names)  # noqa: E731
    for index in table.indexes:
        index.columns = swap(index.columns)
        if index.where is not None:
            index.where = rename_column_refs(index.where, table.name, old, new)
            index.predicate = deparse(index.where)
    for fk in table.foreign_keys:
        fk.columns = swap(fk.columns)
    for other in state.tables.values():
        for fk in other.foreign_keys:
            if fk.target == (table.schema, table.name):
                fk.target_columns = swap(fk.target_columns)
    for check in table.checks:
        check.expression = rename_column_refs(check.expression, table.name, old, new)
    for policy in table.policies.values():
        policy.using = rename_column_refs(policy.using, table.name, old, new, top_level_only=True)
        policy.check = rename_column_refs(policy.check, table.name, old, new, top_level_only=True)
