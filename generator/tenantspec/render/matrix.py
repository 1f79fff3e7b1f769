"""The access matrix the specs declare: who may run which command on workspace A's rows.

This is what the spec says, not what the database does; the policy suite observes the
database and compares both with a hand-written intent.
"""

from __future__ import annotations

from pathlib import Path

from tenantspec.render.migrations import environment
from tenantspec.spec import model

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


HAND_WRITTEN = "hand-written"  # a cell a hand-written policy may open: the probes judge it


def persona_verdict(project: model.Project, table: model.Table, command: str, persona: str) -> str:
    """``allowed``, ``own`` (rows naming them only), ``denied``, or ``hand-written``."""
    if persona == "service_role":
        return "allowed" if command in table.service_role else "denied"
    level, own = table.access[command], table.own_level(command)
    if level == model.ANYONE or (level == model.SIGNED_IN and persona != "anon"):
        return "allowed"
    if persona == "anon":
        return "denied"
    members = project.tenancy.levels
    verdict = "denied"
    if level != model.NOBODY and persona in members[level]:
        verdict = "allowed"
    elif own == model.OWN or (own != model.NOBODY and persona in members[own]):
        verdict = "own"
    if verdict != "allowed" and command in table.policy_commands():
        return HAND_WRITTEN
    return verdict


def declared_matrix(project: model.Project) -> dict[tuple[str, str, str], str]:
    """``(table, command, persona_kind) -> "allowed" | "own" | "denied" | "hand-written"``;
    a bucket's cells under ``bucket:<id>`` (`bucket_key`)."""
    return {
        **{(name, command, persona): persona_verdict(project, table, command, persona)
           for name, table in project.tables.items()
           for command in COMMANDS
           for persona in persona_kinds(project)},
        **{(bucket_key(bucket_id), command, persona): bucket_verdict(project, bucket, command, persona)
           for bucket_id, bucket in project.buckets.items()
           for command in COMMANDS
           for persona in persona_kinds(project)},
    }


def bucket_key(bucket_id: str) -> str:
    """How the access matrix and the intent name a bucket beside the tables."""
    return f"bucket:{bucket_id}"


def bucket_verdict(project: model.Project, bucket: model.Bucket, command: str, persona: str) -> str:
    """What ``persona`` may do with the objects of workspace A's folder (a user folder: its
    own folder, ``own``); service_role bypasses the policies."""
    if persona == "service_role":
        return "allowed"
    rule = bucket.rule(command)
    if persona == "anon" or rule == model.NOBODY:
        return "denied"
    if rule == model.OWN:
        return "own"
    return "allowed" if persona in project.tenancy.levels.get(rule, ()) else "denied"


def render_access(project: model.Project) -> dict[Path, str]:
    """``schema/ACCESS.md``: the declared matrix as tables a reviewer reads in a diff."""
    matrix = declared_matrix(project)
    kinds = persona_kinds(project)
    mark = {"allowed": "yes", "own": "own", "denied": "-", HAND_WRITTEN: "policy"}
    tables = [{
        "name": name,
        "tenancy": _tenancy_phrase(table),
        "rows": [{"command": command,
                  "cells": [mark[matrix[(name, command, p)]] for p in kinds]} for command in COMMANDS],
    } for name, table in project.tables.items()]
    tables += [{
        "name": f"bucket {bucket_id}",
        "tenancy": ("each file's first folder, its workspace's id" if bucket.folder == model.WORKSPACE_FOLDER
                    else "none: each file's first folder is its user's id")
                   + ("; public: anyone downloads a file by its URL" if bucket.public else ""),
        "rows": [{"command": command,
                  "cells": [mark[matrix[(bucket_key(bucket_id), command, p)]] for p in kinds]} for command in COMMANDS],
    } for bucket_id, bucket in project.buckets.items()]
    shown = {verdict for (table, _, _), verdict in matrix.items() if table in project.tables}
    owned_files = any(v == "own" for (table, _, _), v in matrix.items() if table not in project.tables)
    legend = [line for verdict, line in (
        ("own", "`own`: only on the rows that name them as their user (tenancy.user)."),
        (HAND_WRITTEN, "`policy`: what a hand-written policy of the spec allows; the policy tests judge it."),
    ) if verdict in shown]
    if owned_files:
        legend.append("A bucket's `own`: only the files under the user's own folder.")
    text = environment().get_template("access.md.j2").render(
        personas=kinds, legend=legend, members=_members_phrase(member_roles(project)), tables=tables,
        sources=", ".join([project.source] + [t.source for t in project.tables.values()]))
    return {ACCESS_FILE: text}


def _members_phrase(roles: tuple[str, ...]) -> str:
    """"`owner`, `admin` and `agent` are members" -- the sentence ACCESS.md opens with."""
    quoted = [f"`{r}`" for r in roles]
    if len(quoted) == 1:
        return f"{quoted[0]} is a member"
    return f"{', '.join(quoted[:-1])} and {quoted[-1]} are members"


def _tenancy_phrase(table: model.Table) -> str:
    tenancy = table.tenancy
    if tenancy.user_parent:
        return f"none: each row is the user's its parent row names, through `{tenancy.parent}`"
    if tenancy.per_user:
        return f"none: each row is the user's named in `{tenancy.user}`"
    where = (f"its column `{tenancy.column}`" if tenancy.column
             else f"its parent row's, through `{tenancy.parent}`")
    phrase = where + (f"; its user is named in `{tenancy.user}`" if tenancy.user else "")
    if tenancy.personal:  # rows of no workspace, their user's own
        phrase += (f"; a row with no workspace is its user's own, who may {', '.join(tenancy.personal)} it "
                   "(a personal row)")
    elif tenancy.nullable:
        phrase += "; a row with no workspace is service_role's alone"
    return phrase
