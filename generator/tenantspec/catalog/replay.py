"""The schema a folder of migrations builds, found by replaying its statements in order.

Only what the rules look at is tracked: tables (columns, defaults, foreign keys, indexes,
RLS switch, policies, privileges), functions (SECURITY DEFINER, search_path, EXECUTE, return
type), schemas (who holds USAGE) and the default privileges that decide what a new table or
function starts with. Objects the
folder references but never creates (``public.orders``, ``auth.users``) become *external*
entries: they collect what the folder does to them, and rules that need their full
definition leave them alone.
"""


from __future__ import annotations

from dataclasses import replace
from typing import Callable

from pglast import ast, enums

from tenantspec.catalog.keys import name_key, relation_key
from tenantspec.catalog.nodes import walk
from tenantspec.catalog.resolve import copy_node
from tenantspec.catalog.source import Statement
from tenantspec.catalog.state import LEGACY, GuardedConflict, SchemaState, initial_state
from tenantspec.catalog.statements.drops import drop
from tenantspec.catalog.statements.enums import alter_enum, create_domain, create_enum
from tenantspec.catalog.statements.functions import alter_function, create_function
from tenantspec.catalog.statements.objects import (
    alter_publication,
    comment,
    create_publication,
    create_schema,
    create_trigger,
    publication_tables,
)
from tenantspec.catalog.statements.policies import (
    alter_policy,
    create_policy,
    create_view,
)
from tenantspec.catalog.statements.privileges import alter_default_privileges, grant
from tenantspec.catalog.statements.tables import (
    alter_table,
    create_index,
    create_table,
    create_table_as,
    rename,
    set_schema,
)
from tenantspec.errors import Problem, TenantspecError


def replay(statements: list[Statement], default_privileges: str = LEGACY) -> SchemaState:
    """Apply every statement to an initial state, in order, and return the result."""
    state = initial_state(default_privileges)
    state.statements = statements
    path: tuple[object, str | None] = (None, None)  # (file, the schema SET search_path puts first)
    for statement in statements:
        if path[0] is not statement.file:
            path = (statement.file, None)
        if (schema := search_path_schema(statement.node)) is not None:
            path = (statement.file, schema or None)
            continue
        handler = HANDLERS.get(type(statement.node))
        if handler is None:
            continue
        if path[1] is not None:
            statement = in_schema(statement, path[1], state)
        creates = isinstance(statement.node, ast.CreateStmt)
        adds = names_only_added(statement.node)
        if not creates and not adds:
            state.taken_names.clear()  # the statement may drop or rename constraints: gathered again
        last = next(reversed(state.tables), None)
        try:
            handler(state, statement.node, statement)
        except GuardedConflict:
            state.taken_names.clear()
            continue  # (see SchemaState.conflict)
        except Exception as error:  # a statement shape replay does not know: say where
            raise TenantspecError(Problem(
                statement.file.location(statement.start),
                f"cannot follow this {type(statement.node).__name__} ({error!r}); "
                f"please report it with the statement",
            )) from error
        if creates:  # a new table only adds names: its own join the ones gathered
            new = next(reversed(state.tables), None)
            if new != last and new is not None and new[0] in state.taken_names:
                state.taken_names[new[0]] |= state.tables[new].constraint_names()
        elif adds:  # (an explicitly named constraint among them)
            for key in touched_tables(statement.node):
                if key in state.tables and key[0] in state.taken_names:
                    state.taken_names[key[0]] |= state.tables[key].constraint_names()
    state.taken_names.clear()
    return state


# Statements that leave every constraint name as it was, and ALTER TABLE actions that can only
# add names: the names gathered for numbering default ones stay right across them.
NAME_NEUTRAL = (ast.CreatePolicyStmt, ast.AlterPolicyStmt, ast.CreateFunctionStmt, ast.AlterFunctionStmt,
                ast.GrantStmt, ast.AlterDefaultPrivilegesStmt, ast.CreateTrigStmt, ast.CommentStmt,
                ast.CreatePublicationStmt, ast.AlterPublicationStmt, ast.CreateSchemaStmt, ast.CreateEnumStmt,
                ast.CreateDomainStmt, ast.AlterEnumStmt, ast.ViewStmt, ast.IndexStmt)
ADDING_ACTIONS = frozenset({
    enums.AlterTableType.AT_EnableRowSecurity, enums.AlterTableType.AT_DisableRowSecurity,
    enums.AlterTableType.AT_ForceRowSecurity, enums.AlterTableType.AT_NoForceRowSecurity,
    enums.AlterTableType.AT_AddColumn, enums.AlterTableType.AT_SetNotNull, enums.AlterTableType.AT_AddConstraint,
    enums.AlterTableType.AT_ColumnDefault, enums.AlterTableType.AT_ChangeOwner,
    enums.AlterTableType.AT_ReplicaIdentity, enums.AlterTableType.AT_ValidateConstraint,
})


def names_only_added(node) -> bool:
    """Whether ``node`` can add constraint names but neither drop nor rename one."""
    if isinstance(node, NAME_NEUTRAL):
        return True
    return isinstance(node, ast.AlterTableStmt) and bool(node.cmds) \
        and all(isinstance(cmd, ast.AlterTableCmd) and cmd.subtype in ADDING_ACTIONS for cmd in node.cmds)




def search_path_schema(node) -> str | None:
    """For ``SET search_path TO toit_artemis[, public]``: the schema it puts first ('' for
    public, an empty path or ``$user`` first: names then resolve as without it); else None."""
    if not (isinstance(node, ast.VariableSetStmt) and node.name == "search_path"):
        return None
    first = next(iter(node.args or ()), None)
    value = first.val.sval if isinstance(first, ast.A_Const) and isinstance(first.val, ast.String) else ""
    return "" if value in ("", "public", "$user", "pg_catalog") else value


def in_schema(statement: Statement, schema: str, state: SchemaState) -> Statement:
    """``statement`` as PostgreSQL reads it under a search_path that puts ``schema`` first: a
    table it creates goes there, and an unqualified name is that schema's table when one
    exists there (else public's). The parsed tree is shared, so a copy is changed."""
    node = copy_node(statement.node)
    created = node.relation if isinstance(node, ast.CreateStmt) else node.into.rel \
        if isinstance(node, ast.CreateTableAsStmt) else node.view if isinstance(node, ast.ViewStmt) else None
    for child, _ in walk(node):
        if isinstance(child, ast.RangeVar) and child.schemaname is None \
                and (child is created or (schema, child.relname) in state.tables):
            child.schemaname = schema
    return replace(statement, node=node)


HANDLERS: dict[type, Callable[[SchemaState, ast.Node, Statement], None]] = {
    ast.CreateStmt: create_table,
    ast.CreateTableAsStmt: create_table_as,
    ast.AlterObjectSchemaStmt: set_schema,
    ast.AlterTableStmt: alter_table,
    ast.IndexStmt: create_index,
    ast.ViewStmt: create_view,
    ast.RenameStmt: rename,
    ast.CreatePolicyStmt: create_policy,
    ast.AlterPolicyStmt: alter_policy,
    ast.CreateFunctionStmt: create_function,
    ast.AlterFunctionStmt: alter_function,
    ast.GrantStmt: grant,
    ast.AlterDefaultPrivilegesStmt: alter_default_privileges,
    ast.DropStmt: drop,
    ast.CreateTrigStmt: create_trigger,
    ast.CommentStmt: comment,
    ast.CreatePublicationStmt: create_publication,
    ast.AlterPublicationStmt: alter_publication,
    ast.CreateSchemaStmt: create_schema,
    ast.CreateEnumStmt: create_enum,
    ast.CreateDomainStmt: create_domain,
    ast.AlterEnumStmt: alter_enum,
}


def touched_tables(node: ast.Node) -> list[tuple[str, str]]:
    """The tables a schema-changing statement acts on (none for other statements)."""
    if isinstance(node, (ast.AlterTableStmt, ast.IndexStmt, ast.CreateTrigStmt, ast.CreateStmt)):
        return [relation_key(node.relation)]
    if isinstance(node, (ast.CreatePolicyStmt, ast.AlterPolicyStmt)):
        return [relation_key(node.table)]
    if isinstance(node, ast.RenameStmt) and node.relation is not None:
        return [relation_key(node.relation)]
    if isinstance(node, ast.CommentStmt) and node.objtype == enums.ObjectType.OBJECT_TABLE:
        return [name_key(node.object)]
    if isinstance(node, ast.CommentStmt) and node.objtype == enums.ObjectType.OBJECT_COLUMN:
        return [name_key(node.object[:-1])]
    if isinstance(node, ast.GrantStmt) and node.objtype == enums.ObjectType.OBJECT_TABLE \
            and node.targtype == enums.GrantTargetType.ACL_TARGET_OBJECT:
        return [relation_key(r) for r in node.objects]
    if isinstance(node, ast.AlterPublicationStmt):
        return publication_tables(node.pubobjects)
    if isinstance(node, ast.DropStmt):
        if node.removeType == enums.ObjectType.OBJECT_TABLE:
            return [name_key(target) for target in node.objects]
        if node.removeType in (enums.ObjectType.OBJECT_POLICY, enums.ObjectType.OBJECT_TRIGGER):
            return [name_key(target[:-1]) for target in node.objects]
    return []
