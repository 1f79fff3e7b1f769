"""The functions tenantspec generates beside the tables: the membership helpers the policies
call, and the trigger functions of tenancy, as values with their names. Which helpers a
table's policies need is decided here; their SQL is rendered by ``render``."""

from __future__ import annotations

from dataclasses import dataclass

from pglast import ast

from tenantspec.catalog.access import GUARD_FUNCTION
from tenantspec.catalog.nodes import walk
from tenantspec.render.quoting import qualified
from tenantspec.spec import model
from tenantspec.spec.expressions import expression_node


@dataclass(frozen=True)
class WorkspaceHelper:
    """``<level>_workspace_ids()``: the current user's workspaces where their role is in the level."""

    level: str

    @property
    def function(self) -> str:
        return f"{self.level}_workspace_ids"


@dataclass(frozen=True)
class ParentHelper:
    """``<level>_<parent>_ids()``: ids of parent rows in the user's workspaces of that level."""

    level: str
    parent: str

    @property
    def function(self) -> str:
        return f"{self.level}_{self.parent}_ids"


@dataclass(frozen=True)
class CarryFunction:
    """``<table>_carry_<column>()``: a trigger function filling a carried child's workspace
    column from its parent row."""

    table: str
    column: str

    @property
    def function(self) -> str:
        return f"{self.table}_carry_{self.column}"


@dataclass(frozen=True)
class GuardFunction:
    """``refuse_workspace_move()``: a trigger function refusing an API role's change of a row's
    workspace (the column is the trigger's argument)."""

    @property
    def function(self) -> str:
        return GUARD_FUNCTION  # (the name the access reader knows the guard by)


@dataclass(frozen=True)
class RecheckFunction:
    """``<table>_recheck_move()``: after a movable row changes workspace, every same-workspace
    reference that depends on it must still hold."""

    table: str

    @property
    def function(self) -> str:
        return f"{self.table}_recheck_move"


Helper = WorkspaceHelper | ParentHelper | CarryFunction | GuardFunction | RecheckFunction


def states_grants(helper: Helper) -> bool:
    """Whether the migrations say who may EXECUTE the helper. The guard runs as the caller and
    only as a trigger: its EXECUTE is whatever the database's default privileges give a new
    function (a project may have changed them), which the migrations leave alone."""
    return not isinstance(helper, GuardFunction)


def helper_name(project: model.Project, helper: Helper) -> str:
    return qualified(model.Name(project.helper_schema, helper.function))


def helpers_of(project: model.Project, table: model.Table) -> list[WorkspaceHelper | ParentHelper]:
    """The helpers the policies of ``table`` call, each after the helpers it calls."""
    named = set(table.access.values()) | set(table.own_access.values())
    called = {call for policy in table.policies for text in (policy.using, policy.check) if text
              for call in called_functions(text)}
    named |= {lvl for lvl in project.tenancy.levels
              if (project.helper_schema, WorkspaceHelper(lvl).function) in called}
    levels = [lvl for lvl in project.tenancy.levels if lvl in named]
    if table.tenancy.strategy != model.PARENT_IDS:
        return [WorkspaceHelper(lvl) for lvl in levels]
    parent = table.parent_reference().table.name
    return [h for lvl in levels for h in (WorkspaceHelper(lvl), ParentHelper(lvl, parent))]


def bucket_helpers(project: model.Project) -> list[WorkspaceHelper]:
    """The workspace helpers the buckets' policies call, in the levels' order."""
    named = {rule for bucket in project.buckets.values() if bucket.folder == model.WORKSPACE_FOLDER
             for rule in bucket.access.values()}
    return [WorkspaceHelper(level) for level in project.tenancy.levels if level in named]


def called_functions(text: str) -> set[tuple[str, str]]:
    """``(schema, name)`` of every qualified function an expression calls."""
    found = set()
    for node, _ in walk(expression_node(text)):
        if isinstance(node, ast.FuncCall) and len(node.funcname) == 2:
            found.add(tuple(n.sval for n in node.funcname))
    return found
