"""The access matrix the specs declare: who may run which command on workspace A's rows.

This is what the spec says, not what the database does; the policy suite observes the
database and compares both with a hand-written intent.
"""

from __future__ import annotations

from pathlib import Path

from generator import model
from generator.render import environment

COMMANDS = model.COMMANDS
# Relative to workspace A: owner/admin/agent are A's members with that role;
# other_member belongs to workspace B only; outsider is signed in with no membership.
PERSONA_KINDS = ("owner", "admin", "agent", "other_member", "outsider", "anon", "service_role")
ACCESS_FILE = Path("schema/ACCESS.md")


def persona_allowed(project: model.Project, table: model.Table, command: str, persona: str) -> bool:
    if persona == "service_role":
        return command in table.service_role
    level = table.access[command]
    if level == model.NOBODY or persona in ("other_member", "outsider", "anon"):
        return False
    return persona in project.tenancy.levels[level]


def declared_matrix(project: model.Project) -> dict[tuple[str, str, str], str]:
    """``(table, command, persona_kind) -> "allowed" | "denied"`` for every cell."""
    return {
        (name, command, persona): "allowed" if persona_allowed(project, table, command, persona) else "denied"
        for name, table in project.tables.items()
        for command in COMMANDS
        for persona in PERSONA_KINDS
    }


def render_access(project: model.Project) -> dict[Path, str]:
    """``schema/ACCESS.md``: the declared matrix as tables a reviewer reads in a diff."""
    matrix = declared_matrix(project)
    mark = {"allowed": "yes", "denied": "-"}
    tables = [{
        "name": name,
        "tenancy": (f"its column `{table.tenancy.column}`" if table.tenancy.column
                    else f"its parent row's, through `{table.tenancy.parent}`"),
        "rows": [{"command": command,
                  "cells": [mark[matrix[(name, command, p)]] for p in PERSONA_KINDS]} for command in COMMANDS],
    } for name, table in project.tables.items()]
    text = environment().get_template("access.md.j2").render(
        personas=PERSONA_KINDS, tables=tables,
        sources=", ".join([project.source] + [t.source for t in project.tables.values()]))
    return {ACCESS_FILE: text}
