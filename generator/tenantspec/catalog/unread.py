"""Statements on given tables that replay does not follow: settings no spec says, rules, and
DO blocks running SQL built at run time. Adoption names them (the correction neither repeats
nor undoes them) and `check` refuses the last kind on tables tenantspec manages, each with its
file and line, rather than passing over them in silence."""

from __future__ import annotations

import re

from pglast import ast, enums

from tenantspec.catalog.dynamic import builds_every_execute
from tenantspec.catalog.keys import relation_key
from tenantspec.catalog.state import SchemaState
from tenantspec.catalog.statements.tables import ALTER_TABLE_COMMANDS
from tenantspec.errors import Problem

AT = enums.AlterTableType
# Storage and ownership settings: nothing a spec or the proof is about.
UNSEEN = {AT.AT_ChangeOwner, AT.AT_SetStatistics, AT.AT_SetStorage, AT.AT_SetCompression, AT.AT_ClusterOn,
          AT.AT_DropCluster, AT.AT_SetRelOptions, AT.AT_ResetRelOptions, AT.AT_ReplaceRelOptions,
          AT.AT_SetTableSpace, AT.AT_SetAccessMethod, AT.AT_SetOptions, AT.AT_ResetOptions}
WORDS = {
    AT.AT_ReplicaIdentity: "sets its replica identity (what realtime and logical replication send of old rows)",
    AT.AT_EnableTrig: "enables a trigger", AT.AT_DisableTrig: "disables a trigger",
    AT.AT_EnableAlwaysTrig: "makes a trigger fire always", AT.AT_EnableReplicaTrig: "makes a trigger fire on replicas",
    AT.AT_EnableTrigAll: "enables its triggers", AT.AT_DisableTrigAll: "disables its triggers",
    AT.AT_EnableTrigUser: "enables its triggers", AT.AT_DisableTrigUser: "disables its triggers",
    AT.AT_AddInherit: "makes it inherit another table", AT.AT_AttachPartition: "attaches a partition",
    AT.AT_DetachPartition: "detaches a partition", AT.AT_SetUnLogged: "makes it unlogged",
    AT.AT_AlterConstraint: "changes a constraint's deferral",
}


def unread_statements(state: SchemaState, keys: set[tuple[str, str]]) -> list[Problem]:
    """Notes for the statements on ``keys`` that adoption passes over."""
    notes = []
    for statement in state.statements:
        node = statement.node
        where = statement.file.location(statement.start)
        if isinstance(node, ast.AlterTableStmt) and node.objtype == enums.ObjectType.OBJECT_TABLE \
                and relation_key(node.relation) in keys:
            for command in node.cmds or ():
                if command.subtype in ALTER_TABLE_COMMANDS or command.subtype in UNSEEN:
                    continue
                what = WORDS.get(command.subtype, f"runs {command.subtype.name.removeprefix('AT_')}")
                notes.append(Problem(where, f"{'.'.join(relation_key(node.relation))}: this statement {what}, "
                                            "which no spec says: the correction neither repeats nor undoes it"))
        elif isinstance(node, ast.RuleStmt) and relation_key(node.relation) in keys:
            notes.append(Problem(where, f"{'.'.join(relation_key(node.relation))}: rule {node.rulename} rewrites its "
                                        "statements, which no spec says: the correction leaves it"))
    return notes + [Problem(p.location, p.message + ": adoption does not follow it; review what it does")
                    for p in built_sql(state, keys)]


def built_sql(state: SchemaState, keys: set[tuple[str, str]], skip_files: set[str] = frozenset()) -> list[Problem]:
    """DO blocks that run SQL built at run time (``execute``) and name a table of ``keys``:
    replay cannot tell what they do (outside the files ``skip_files`` names)."""
    found = []
    names = {key[1] for key in keys}
    for statement in state.statements:
        if not isinstance(statement.node, ast.DoStmt) or statement.file.path.rsplit("/", 1)[-1] in skip_files \
                or not re.search(r"\bexecute\b", statement.text, re.I) or builds_every_execute(statement.node):
            continue  # (SQL built from constants: replay follows it)
        named = sorted(n for n in names if re.search(rf"\b{re.escape(n)}\b", statement.text))
        if named:
            found.append(Problem(statement.file.location(statement.start),
                                 f"a DO block that runs SQL built at run time (execute) names {', '.join(named)}"))
    return found
