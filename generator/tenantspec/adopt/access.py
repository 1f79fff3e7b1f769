"""Who may do what, adopted from a table's policies without taking anyone's access away.

Each command is read by ``tenantspec.catalog.access`` for every membership role of a
workspace and for everyone outside it. It maps onto the vocabulary when the roles allowed on
every row are exactly a level's, the roles allowed on the rows naming them (``author_id =
auth.uid()``) are exactly what an own level adds, and nobody outside the workspace gets in
(except on the rows naming them, ``is_org_admin(org_id) or created_by = auth.uid()``, which
the spec closes: a former member loses the rows they wrote, no member loses anything); a
table with no workspace whose rows name their user maps onto a per-user table the same
way. A policy whose SQL cannot be read (a feature flag, a time window), and a restrictive
policy, is kept as it is written, and the command maps from the others: permissive policies
add up, so the generated rule and the kept policy admit what they all did. A command whose
readable policies say what no rule says keeps all of its policies. Kept policies become
hand-written policies of the spec, with the file and line they come from, so the corrective
migration leaves them alone.
Adoption never guesses narrower and never writes ``nobody`` for a command somebody had.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pglast import ast, enums

from tenantspec.catalog.nodes import column_ref_name, deparse, walk
from tenantspec.catalog.verdicts import Persona
from tenantspec.catalog.state import PUBLIC, Policy, Table
from tenantspec.errors import Problem, TenantspecError
from tenantspec.spec import model

COMMANDS = model.COMMANDS


@dataclass
class AdoptedAccess:
    access: dict[str, object] = field(default_factory=dict)  # command -> level, own, or {any, own}
    user: str | None = None  # tenancy.user, when a rule names the row's user
    personal: list[str] = field(default_factory=list)  # commands a row's user runs on its rows of no workspace
    kept: list[Policy] = field(default_factory=list)  # policies kept as written
    opened: dict[str, set[str]] = field(default_factory=dict)  # without RLS: command -> who got in


def owner_columns(policy: Policy) -> set[str]:
    """Columns of the row a policy compares with ``auth.uid()``."""
    found = set()
    for expression in (policy.using, policy.check):
        for node, ancestors in walk(expression) if expression is not None else ():
            if any(isinstance(a, ast.SelectStmt) for a in ancestors):
                continue
            if isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP and \
                    [n.sval for n in node.name] == ["="]:
                sides = (node.lexpr, node.rexpr)
                for side, other in (sides, sides[::-1]):
                    if _is_uid(other) and isinstance(side, ast.ColumnRef):
                        column = column_ref_name(side)[1]
                        if column:
                            found.add(column)
    return found


def _is_uid(node) -> bool:
    if isinstance(node, ast.SubLink) and isinstance(node.subselect, ast.SelectStmt) \
            and node.subselect.targetList and len(node.subselect.targetList) == 1 and not node.subselect.fromClause:
        node = node.subselect.targetList[0].val
    if isinstance(node, ast.TypeCast):
        node = node.arg
    return isinstance(node, ast.FuncCall) and [n.sval for n in node.funcname][-1] == "uid" and not node.args


def applying(table: Table, command: str) -> list[Policy]:
    """The policies PostgreSQL applies to ``command`` for signed-in users."""
    return [p for p in table.policies.values()
            if p.command in (command, "all") and ("authenticated" in p.roles or PUBLIC in p.roles)]


STRANGERS = {"other_member": "members of other workspaces", "outsider": "signed-in users of no workspace",
             "anon": "anon"}


def adopt_access(adopter, table: Table, per_user: bool) -> AdoptedAccess:
    project, reader = adopter.project, adopter.reader
    levels = {frozenset(roles): level for level, roles in project.tenancy.levels.items()}
    result = AdoptedAccess()
    users = adopter.user_columns(table)
    user = next(iter(users)) if len(users) == 1 else None
    unmapped = []
    # A policy whose SQL cannot be read is kept as written; the command maps from the others
    # (permissive policies add up, so the generated rule and the kept ones admit what all did).
    # A restrictive policy is kept too: it only narrows what the permissive ones admit, so
    # the rule mapped from those and the kept restrictive one admit what all of them did.
    unread: dict[str, str] = {}
    for command in COMMANDS:
        for policy in applying(table, command):
            if policy.name in unread:
                continue
            if not policy.permissive:
                unread[policy.name] = "a restrictive policy (it narrows what the others let through)"
            elif why := reader.unreadable(table, policy, command):
                unread[policy.name] = why
    reader.left_out = frozenset(unread)
    try:
        for command in COMMANDS:
            unmapped += map_command(adopter, table, command, per_user, user, users, levels, result)
        if not per_user and adopter.personal_rows_possible(table):
            unmapped += personal_commands(adopter, table, user, result, {command for command, _, _ in unmapped})
    finally:
        reader.left_out = frozenset()
    kept: dict[str, Policy] = {p.name: p for p in table.policies.values() if p.name in unread}
    for name in sorted(kept):
        policy = kept[name]
        adopter.note(policy.origin, f"{table.qualified_name}: {unread[name]}, which no access level says: the "
                                    "spec keeps the policy as written, and the correction leaves it alone")
    if result.opened:
        who = sorted(set().union(*result.opened.values()))
        adopter.note(table.origin, f"{table.qualified_name}: row-level security is off, so its grants let "
                                   f"{', '.join(STRANGERS.get(n, n) for n in who)} {', '.join(sorted(result.opened))} "
                                   "every workspace's rows: the spec lets the workspace's members in only, and the "
                                   "correction turns row-level security on")
    return finish(adopter, table, result, unmapped, user, kept)


def map_command(adopter, table: Table, command: str, per_user: bool, user: str | None, users: set[str],
                levels: dict, result: AdoptedAccess) -> list:
    """The command's rule in ``result.access``, or ``[(command, origin, why)]`` when its
    policies (the readable ones) say what no rule says."""
    key = (table.schema, table.name)
    project, reader = adopter.project, adopter.reader
    unmapped = []
    policies = applying(table, command)
    policies = [p for p in policies if p.name not in reader.left_out]
    verdicts = {p.member_role: reader.verdict(key, command, p) for p in adopter.members}
    strangers = {p.name: reader.verdict(key, command, p) for p in adopter.strangers}
    everyone = list(verdicts.values()) + list(strangers.values())
    where = policies[0].origin if policies else table.origin
    why = None
    if any(v.allowed is None for v in everyone):
        why = next(v.reason for v in everyone if v.allowed is None)
    elif any(v.own for v in everyone) and user is None and not per_user:  # (a per-user child's is its parent's)
        why = f"its policies name the row's user in {', '.join(sorted(users)) or 'no single column'}"
    elif any(v.own for v in everyone) and not per_user and adopter.nullable_workspace(key) \
            and not (user is not None and adopter.personal_rows_possible(table)):
        # a row of no workspace (or of no parent) is its user's here: no spec says that
        raise TenantspecError(Problem(where.location if where else None, (
            f"{table.qualified_name} {command}: its policies let a row's user in, also on rows with no workspace "
            "(personal rows), which a spec says with a nullable workspace column of the table's own "
            "(tenancy.personal), not through a parent: a spec gives rows of no parent to service_role alone")))
    if why is None and table.rls is not False and (level := open_level(verdicts, strangers)):
        result.access[command] = level  # `using (true)`: every row, to everyone signed in (anon too)
    elif why is None and per_user:
        signed_in = [v for name, v in strangers.items() if name != "anon"] + list(verdicts.values())
        if all(v.allowed is False for v in everyone):
            result.access[command] = model.NOBODY
        elif all(v.allowed and v.own for v in signed_in) and strangers["anon"].allowed is False:
            result.access[command] = model.OWN
        else:
            why = "who passes depends on more than the row's user"
    elif why is None:
        outside = sorted(name for name, v in strangers.items() if v.allowed is not False)
        if outside and all(strangers[name].allowed and strangers[name].own for name in outside) \
                and "anon" not in outside and authors_were_members(adopter, table, command, user):
            # `is_org_admin(org_id) or created_by = auth.uid()`: the author passes even once out
            # of the workspace. Members keep what they had; those outside lose it.
            adopter.note(where, f"{table.qualified_name} {command}: users outside the row's workspace (signed-in "
                                f"users of no workspace, members of others) passed on the rows whose {user} names "
                                "them, a former member on the rows they wrote, say: the spec lets the workspace's "
                                "members in only, and the correction closes that")
            outside = []
        if outside and table.rls is False:
            # no row-level security: every signed-in user (anon too, under the legacy grants)
            # reaches every workspace's rows. Members keep what the grants give them.
            result.opened[command] = set(outside)
            outside = []
        if outside:
            why = "it lets in people outside the row's workspace"
        else:
            every = frozenset(r for r, v in verdicts.items() if v.allowed and not v.own)
            own = frozenset(r for r, v in verdicts.items() if v.allowed and v.own)
            any_level = levels.get(every) if every else model.NOBODY
            own_level = model.NOBODY if not own else next(
                (lvl for roles, lvl in sorted(levels.items(), key=lambda i: len(i[0]))
                 if roles - every == own), None)
            if any_level is None or own_level is None:
                roles = ", ".join(r for r in adopter.tenancy.roles if r in every | own)
                why = f"it admits roles {roles}, which no level of {project.source} names"
            elif own_level == model.NOBODY:
                result.access[command] = any_level
            else:
                result.access[command] = {"own": own_level} if any_level == model.NOBODY else \
                    {"any": any_level, "own": own_level}
    if why is not None:
        unmapped.append((command, where, why))
        result.access[command] = model.NOBODY
    return unmapped


def open_level(verdicts: dict, strangers: dict) -> str | None:
    """``signed_in`` when every signed-in user, member or not, passes on every row (not only
    the rows naming them), ``anyone`` when anon does too; else None."""
    signed_in = list(verdicts.values()) + [v for name, v in strangers.items() if name != "anon"]
    if not all(v.allowed and not v.own for v in signed_in):
        return None
    anon = strangers.get("anon")
    if anon is not None and anon.allowed and not anon.own:
        return model.ANYONE
    return model.SIGNED_IN if anon is None or anon.allowed is False else None


PERSONAL = Persona("user of a personal row", "authenticated", personal_row=True)


def personal_commands(adopter, table: Table, user: str | None, result: AdoptedAccess, unmapped_already: set) -> list:
    """The commands the policies let a row's user run on its rows of no workspace (its
    personal rows: ``org_id is null and user_id = auth.uid()``), into ``result.personal``;
    a command that lets others in there too cannot be said, and is kept as written."""
    key = (table.schema, table.name)
    unmapped = []
    for command in COMMANDS:
        verdict = adopter.reader.verdict(key, command, PERSONAL)
        if verdict.allowed is False or command in unmapped_already or result.access.get(command) in model.OPEN_LEVELS:
            continue  # (an open level reaches the rows of no workspace too)
        where = next((p.origin for p in applying(table, command)), table.origin)
        if verdict.allowed and verdict.own and user is not None:
            result.personal.append(command)
        else:
            result.access[command] = model.NOBODY
            unmapped.append((command, where, verdict.reason if verdict.allowed is None else
                             "it lets others than their user in on the rows of no workspace"))
    return unmapped


def finish(adopter, table: Table, result: AdoptedAccess, unmapped: list, user: str | None,
           kept: dict[str, Policy]) -> AdoptedAccess:
    """Keep the policies of the commands no rule says; drop update/delete rules without select."""
    if any(isinstance(v, dict) or v == model.OWN for v in result.access.values()) or result.personal:
        result.user = user
    for command, where, why in unmapped:
        for policy in applying(table, command):
            kept.setdefault(policy.name, policy)
        if applying(table, command):
            adopter.note(where, f"{table.qualified_name} {command}: kept its policies as written ({why}); "
                                "the spec carries them under policies and the correction leaves them alone")
    # a command some kept policy already answers for needs no generated policy beside it
    result.kept = list(kept.values())
    for command in ("update", "delete"):
        if result.access[command] != model.NOBODY and result.access["select"] == model.NOBODY \
                and not any(p.command in ("select", "all") for p in result.kept):
            for policy in applying(table, command):
                kept.setdefault(policy.name, policy)
            result.access[command] = model.NOBODY
    result.kept = list(kept.values())
    anon = next(p for p in adopter.strangers if not p.signed_in)
    for policy in result.kept:
        # a kept policy is made TO authenticated: where it let anon in, anon loses that
        commands = COMMANDS if policy.command == "all" else (policy.command,)
        if ("anon" in policy.roles or PUBLIC in policy.roles) and any(
                adopter.reader.policy_truth(table, policy, command, anon).value is not False for command in commands):
            adopter.note(policy.origin, f"{table.qualified_name}: policy {policy.name!r} let anon in too; the spec "
                                        "keeps it for signed-in users (hand-written policies are TO authenticated), "
                                        "so the correction takes that from anon")
    return result


def policy_entry(policy: Policy) -> dict:
    """A kept policy as the spec writes it."""
    entry: dict = {"name": policy.name, "command": policy.command}
    if policy.using is not None and policy.command != "insert":
        entry["using"] = deparse(policy.using)
    if policy.check is not None and policy.command not in ("select", "delete"):
        entry["check"] = deparse(policy.check)
    elif policy.command in ("update", "all") and policy.using is not None:
        # PostgreSQL checks updated rows against USING when WITH CHECK is left out: the spec
        # says so in words (the proof wants every UPDATE policy to state its check)
        entry["check"] = entry["using"]
    if not policy.permissive:
        entry["restrictive"] = True
    return entry


def authors_were_members(adopter, table: Table, command: str, user: str | None) -> bool:
    """Whether a user outside the row's workspace can be named by a row only by having been a
    member when it was written: every row lies in a workspace (a NOT NULL workspace column or
    a parent's), the user column is not that workspace column (``account_id = auth.uid()`` is a
    personal account, whose owner need be no member), and nobody outside the workspace may
    insert rows (an intake form's ``with check (created_by = auth.uid())`` lets customers in on
    purpose). Then their passing on the rows naming them is a door left open, which the spec
    closes; otherwise the policies are kept."""
    tenancy = adopter.tenancy_of(table)
    if tenancy is None or user is None or command == "insert":
        return False
    column = tenancy.get("column")
    if column is not None and (not table.columns[column].not_null or column == user):
        return False
    key = (table.schema, table.name)
    if any(p.name in adopter.reader.left_out and p.permissive and p.command in ("insert", "all")
           for p in table.policies.values()):
        return False  # an insert policy kept as written: who it lets in is not known
    return all(adopter.reader.verdict(key, "insert", persona).allowed is False for persona in adopter.strangers)
