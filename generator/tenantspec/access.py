"""The access matrix the specs declare: who may run which command on workspace A's rows.

This is what the spec says, not what the database does; the policy suite observes the
database and compares both with a hand-written intent.
"""

from __future__ import annotations

from pathlib import Path

from tenantspec import model
from tenantspec.render import environment

COMMANDS = model.COMMANDS
# Relative to workspace A, after the membership roles (A's members with that role):
# other_member belongs to workspace B only; outsider is signed in with no membership.
NON_MEMBER_KINDS = ("other_member", "outsider", "anon", "service_role")
ACCESS_FILE = Path("schema/ACCESS.md")


def member_roles(project: model.Project) -> tuple[str, ...]:
    """Every membership role the levels name, in the order they first appear."""
    return project.tenancy.roles


def persona_kinds(project: model.Project) -> tuple[str, ...]:
    """The columns of the access matrix: each member role, then the kinds of non-member."""
    return member_roles(project) + NON_MEMBER_KINDS


def persona_allowed(project: model.Project, table: model.Table, command: str, persona: str) -> bool:
    if persona == "service_role":
        return command in table.service_role
    level = table.access[command]
    if level == model.NOBODY or persona in NON_MEMBER_KINDS:
        return False
    return persona in project.tenancy.levels[level]


def declared_matrix(project: model.Project) -> dict[tuple[str, str, str], str]:
    """``(table, command, persona_kind) -> "allowed" | "denied"`` for every cell."""
    return {
        (name, command, persona): "allowed" if persona_allowed(project, table, command, persona) else "denied"
        for name, table in project.tables.items()
        for command in COMMANDS
        for persona in persona_kinds(project)
    }


def render_access(project: model.Project) -> dict[Path, str]:
    """``schema/ACCESS.md``: the declared matrix as tables a reviewer reads in a diff."""
    matrix = declared_matrix(project)
    kinds = persona_kinds(project)
    mark = {"allowed": "yes", "denied": "-"}
    tables = [{
        "name": name,
        "tenancy": (f"its column `{table.tenancy.column}`" if table.tenancy.column
                    else f"its parent row's, through `{table.tenancy.parent}`"),
        "rows": [{"command": command,
                  "cells": [mark[matrix[(name, command, p)]] for p in kinds]} for command in COMMANDS],
    } for name, table in project.tables.items()]
    text = environment().get_template("access.md.j2").render(
        personas=kinds, members=_members_phrase(member_roles(project)), tables=tables,
        sources=", ".join([project.source] + [t.source for t in project.tables.values()]))
    return {ACCESS_FILE: text}


def _members_phrase(roles: tuple[str, ...]) -> str:
    """"`owner`, `admin` and `agent` are members" -- the sentence ACCESS.md opens with."""
    quoted = [f"`{r}`" for r in roles]
    if len(quoted) == 1:
        return f"{quoted[0]} is a member"
    return f"{', '.join(quoted[:-1])} and {quoted[-1]} are members"
