"""The roles of a membership and the levels over them, as `adopt --init` reads them from the
migrations: the values a CHECK, an enum or a roles table lists, else those policies and helper
bodies compare the role column with (a CASE ranking them, a constant passed to a helper's role
parameter); their order by the policies' evidence or their names; and the sets of roles the
policies let through, which become levels."""

from __future__ import annotations

import re

from pglast import ast, enums

from tenantspec.adopt.objects import TEXT_TYPES
from tenantspec.catalog.access import COMMANDS, AccessReader, TenantModel, personas
from tenantspec.catalog.expression import string_constants
from tenantspec.catalog.nodes import column_ref_name, deparse, function_name, walk
from tenantspec.catalog.state import SERIALS, SchemaState, Table
from tenantspec.spec.expressions import INTEGER_TYPES


def policy_role_sets(state: SchemaState, chosen: dict, roles: list[str],
                     claims: dict[str, str] | None = None,
                     owner: tuple[str, str] | None = None) -> list[list[str]]:
    """The sets of roles the folder's policies let through (on every row, and on the rows a
    member owns), in ``roles`` order, read for the membership ``chosen`` (kept in the token's
    ``claims``, where they say so; with the workspace's ``owner`` column and role)."""
    if not roles and not owner:
        return []
    claims = claims or {}
    if owner:
        roles = [owner[1]] + (roles or ["member"])
    tenancy = TenantModel(chosen["workspaces_key"], chosen["members_key"], chosen["workspace_column"],
                          chosen["user_column"], chosen["role_column"], tuple(roles),
                          claim_workspace=claims.get("workspace"), claim_role=claims.get("role"),
                          owner_column=owner and owner[0], owner_role=owner and owner[1],
                          role_values=tuple((str(value), role) for role, value in chosen["role_ids"].items()),
                          user_through=(through["table_key"], through["key"], through["user_column"])
                          if (through := chosen["user_through"]) else None, role_field=chosen["role_field"])
    reader = AccessReader(state, tenancy)
    members = [p for p in personas(tenancy) if p.member_role is not None]
    found: list[list[str]] = []
    for key, table in sorted(state.tables.items()):
        if table.external or not table.policies or key in (tenancy.workspaces, tenancy.members) \
                or reader.workspace_column(key) is None:
            continue
        for command in COMMANDS:
            verdicts = {p.member_role: reader.verdict(key, command, p) for p in members}
            if any(v.allowed is None for v in verdicts.values()):
                continue
            every = {r for r, v in verdicts.items() if v.allowed and not v.own}
            mine = every | {r for r, v in verdicts.items() if v.allowed and v.own}
            for held in (every, mine):
                ordered = [r for r in roles if r in held]
                if ordered and ordered not in found:
                    found.append(ordered)
    return found


# How much a role's usual name says it may do, most first; roles of equal rank keep their order.


# How much a role's usual name says it may do, most first; roles of equal rank keep their order.
POWER = {name: rank for rank, names in enumerate((
    ("owner", "superadmin", "super_admin", "primary_owner"), ("admin", "administrator"), ("manager", "maintainer"),
    ("editor", "writer", "contributor", "developer", "billing"), ("member", "agent", "user", "staff"),
    ("viewer", "reader", "readonly", "read_only", "guest", "observer"))) for name in names}


def by_admission(roles: list[str], admitted: list[list[str]]) -> list[str]:
    """``roles`` most powerful first by the policies' evidence: a role that more of the sets of
    roles the policies let through hold ranks higher; ties go by the usual rank of their names
    (``POWER``), the names it does not know after, and then keep their order."""
    return sorted(roles, key=lambda role: (-sum(role in held for held in admitted), POWER.get(role, len(POWER))))


def by_power(roles: list[str]) -> list[str] | None:
    """``roles`` most powerful first by what their names usually mean, when every name is one
    of the usual ones (``member, admin, owner`` as ``owner, admin, member``); else None."""
    if not all(role.lower() in POWER for role in roles):
        return None
    return sorted(roles, key=lambda role: POWER[role.lower()])


def levels(roles: list[str]) -> list[tuple[str, list[str]]]:
    """A level for each run of roles from the most powerful: ``owner: [owner]``,
    ``editor_or_above: [owner, editor]``, ``member: [owner, editor, viewer]``, which is what
    policies written for hierarchical roles test. Level names are identifiers whatever the
    roles are called (``OWNER``, ``Produto``)."""
    found: list[tuple[str, list[str]]] = []
    for k in range(1, len(roles) + 1):
        name = "member" if k == len(roles) else roles[0] if k == 1 else f"{roles[k - 1]}_or_above"
        name = level_name(name)
        while name in [n for n, _ in found]:
            name += "_level"
        found.append((name, roles[:k]))
    return found


def level_name(text: str) -> str:
    """An identifier for a level named after roles: lower case, other characters as ``_``."""
    name = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "level"
    name = name if not name[0].isdigit() else f"level_{name}"
    return name[:63] if name != "nobody" else "nobody_role"


def contained_list(expression) -> tuple[str, tuple[str, ...]] | None:
    """``(column, values)`` of an array column's ``col <@ array['a', 'b']``: every element one of them."""
    if not (isinstance(expression, ast.A_Expr) and expression.kind == enums.A_Expr_Kind.AEXPR_OP
            and [n.sval for n in expression.name] == ["<@"] and isinstance(expression.lexpr, ast.ColumnRef)):
        return None
    array = expression.rexpr
    while isinstance(array, ast.TypeCast):
        array = array.arg
    if not isinstance(array, ast.A_ArrayExpr):
        return None
    values = string_constants(array.elements or ())
    return None if values is None else (column_ref_name(expression.lexpr)[1], values)


def roles_named(state: SchemaState, role_column: str, column) -> list[str]:
    """The strings the policies and helper bodies compare a column named ``role_column`` with
    (``role in ('owner', 'admin')``, ``m.role = 'member'``), in the order first seen, and the
    column's default (``default 'member'``): the roles of a text column no CHECK lists."""
    found: list[str] = []
    pattern = re.compile(rf"\b{re.escape(role_column)}\b\s*(?:=|in|<>|!=)\s*\(?\s*((?:'[^']*'\s*,?\s*)+)",
                         re.IGNORECASE)
    texts = policy_and_helper_texts(state)
    # an array of roles: roles && array['owner', 'admin'], roles @> array['admin'], 'admin' = any (roles)
    held = re.compile(rf"\b{re.escape(role_column)}\b\s*(?:&&|@>)\s*\(?\s*array\s*\[((?:\s*'[^']*'(?:::\w+)?\s*,?)+)\]",
                      re.IGNORECASE)
    one = re.compile(rf"'([^']*)'(?:::\w+)?\s*=\s*any\s*\(\s*(?:\w+\.)?{re.escape(role_column)}\s*\)", re.IGNORECASE)
    # case role when 'viewer' then 1 when 'admin' then 3 end (an access token hook ranking them)
    cased = re.compile(rf"\bcase\s+(?:\w+\.)?{re.escape(role_column)}\s+(when\b.*?)\bend\b", re.IGNORECASE | re.S)
    for text in texts:
        for match in pattern.finditer(text):
            found += [value for value in re.findall(r"'([^']*)'", match.group(1)) if value]
        for match in held.finditer(text):
            found += [value for value in re.findall(r"'([^']*)'", match.group(1)) if value]
        found += [value for value in one.findall(text) if value]
        for match in cased.finditer(text):
            found += [value for value in re.findall(r"\bwhen\s+'([^']*)'", match.group(1), re.IGNORECASE) if value]
    found += passed_roles(state, role_column)
    default = column.default
    while isinstance(default, ast.TypeCast):
        default = default.arg
    if found and isinstance(default, ast.A_Const) and isinstance(default.val, ast.String) and default.val.sval:
        found.append(default.val.sval)
    return list(dict.fromkeys(found))


def passed_roles(state: SchemaState, role_column: str) -> list[str]:
    """The constants policies pass to a helper parameter the helper compares ``role_column``
    with (``is_org_role(org_id, 'admin')`` where the body says ``role = role_name``), in the
    order first seen."""
    positions: dict[tuple[str, str], int] = {}
    for function in state.functions.values():
        for position, name in enumerate(function.arg_names):
            if name and function.source and re.search(
                    rf"\b{re.escape(role_column)}\b\s*(?:=|in|=\s*any)\s*\(?\s*{re.escape(name)}\b"
                    rf"|\b{re.escape(name)}\b\s*=\s*(?:\w+\.)?{re.escape(role_column)}\b",
                    function.source, re.IGNORECASE):
                positions[(function.schema, function.name)] = position
    found: list[str] = []
    if not positions:
        return found
    for table in state.tables.values():
        for policy in table.policies.values():
            for expression in (policy.using, policy.check):
                for node, _ in walk(expression) if expression is not None else ():
                    if not isinstance(node, ast.FuncCall):
                        continue
                    schema, name = function_name(node)
                    position = positions.get((schema or "public", name))
                    if position is None or position >= len(node.args or ()):
                        continue
                    argument = node.args[position]
                    while isinstance(argument, ast.TypeCast):
                        argument = argument.arg
                    if isinstance(argument, ast.A_Const) and isinstance(argument.val, ast.String):
                        found.append(argument.val.sval)
                    elif isinstance(argument, ast.A_ArrayExpr):
                        found += string_constants(argument.elements or ()) or []
    return [value for value in found if value]


def policy_and_helper_texts(state: SchemaState) -> list[str]:
    """The SQL of every function body and policy expression, as text to search."""
    texts = [function.source for function in state.functions.values() if function.source]
    return texts + [deparse(e) for table in state.tables.values() for policy in table.policies.values()
                    for e in (policy.using, policy.check) if e is not None]


def json_role(state: SchemaState, table: Table) -> tuple[str, str, list[str]] | None:
    """``(column, field, roles)`` where the role is a field of a JSON column the policies and
    helper bodies compare with constants: ``(m.extra ->> 'role') in ('owner', 'admin')``, the
    roles in the order first seen."""
    texts = policy_and_helper_texts(state)
    for name, column in table.columns.items():
        if column.type_name not in ("json", "jsonb"):
            continue
        pattern = re.compile(rf"\b{re.escape(name)}\s*->>\s*'(\w*role\w*)'\s*\)?\s*(?:::\s*text\s*)?"
                             rf"(?:=|in|<>|!=)\s*\(?\s*((?:'[^']*'(?:::\w+)?\s*,?\s*)+)", re.IGNORECASE)
        found: dict[str, list[str]] = {}
        for text in texts:
            for match in pattern.finditer(text):
                found.setdefault(match.group(1), []).extend(
                    value for value in re.findall(r"'([^']*)'", match.group(2)) if value)
        if found:
            field = max(found, key=lambda key: len(found[key]))
            return name, field, list(dict.fromkeys(found[field]))
    return None


RANKS = ("hierarchy_level", "level", "rank", "priority", "position", "sort_order", "weight")
NAME_COLUMNS = ("name", "role", "role_name", "type", "key", "slug", "code", "label", "title")


def roles_table(state: SchemaState, table: Table, role_column: str,
                inserted: dict) -> tuple[list[str], str, str | None, dict[str, int]] | None:
    """The roles a lookup table lists, when ``role_column`` references one and the migrations
    insert its rows: by name (``account_role varchar references roles (name)``), or by id
    (``role_id bigint references role (id)``, the role named by the row's ``name`` or ``type``;
    an id the migrations leave to the sequence is the row's place among the inserts). In the
    order of a ranking column (``hierarchy_level``: 1 is the most powerful), else as inserted;
    where they come from, the ranking column, and each role's id where the column holds ids."""
    fk = next((fk for fk in table.foreign_keys if fk.columns == (role_column,)), None)
    target = state.tables.get(fk.target) if fk is not None else None
    if target is None:
        return None
    key, rank = fk.target_columns[0], next((c for c in RANKS if c in target.columns), None)
    rows = inserted.get(fk.target, [])
    ids: dict[str, int] = {}
    if target.columns[key].type_name in TEXT_TYPES:
        name = key
    elif target.columns[key].type_name in INTEGER_TYPES | SERIALS:
        name = next((c for c in NAME_COLUMNS if c in target.columns and target.columns[c].type_name in TEXT_TYPES),
                    None)
        column = target.columns[key]
        counted = column.identity is not None or column.type_name in SERIALS or _draws_sequence(column)
        if name is None:
            return None
        if all(isinstance(row.get(key), int) for row in rows):
            ids = {row[name]: row[key] for row in rows if isinstance(row.get(name), str)}
        elif counted and not any(key in row for row in rows):  # the sequence numbers them 1, 2, ...
            ids = {row[name]: n for n, row in enumerate(rows, 1) if isinstance(row.get(name), str)}
        if len(ids) < len(rows) or len(set(ids.values())) < len(ids):
            return None
    else:
        return None
    roles = [row[name] for row in rows if isinstance(row.get(name), str)]
    if not roles:
        return None
    ranked_by = None
    if rank is not None and all(isinstance(row.get(rank), int) for row in rows):
        roles, ranked_by = [row[name] for row in sorted(rows, key=lambda row: row[rank])], f"{target.name}.{rank}"
    roles = list(dict.fromkeys(roles))
    return roles, f"the rows the migrations insert into {target.name}", ranked_by, \
        {role: ids[role] for role in roles if role in ids}


def _draws_sequence(column) -> bool:
    """Whether a column's default is ``nextval(...)``: a serial spelled out."""
    return column.default is not None and "nextval" in deparse(column.default).lower()
