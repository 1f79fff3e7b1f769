"""Memberships the token carries, as `adopt --init` reads them: the claims policies compare a
row's workspace and the role with (``auth.jwt() ->> 'tenant_id'``), beside a members table an
access token hook copies them from, or with no members table at all (``app_metadata`` the
server writes)."""

from __future__ import annotations

from pglast import ast, enums

from tenantspec.catalog.access import AccessReader, TenantModel
from tenantspec.catalog.builtins import SERVICE_SCHEMAS
from tenantspec.catalog.expression import string_constants
from tenantspec.catalog.nodes import column_ref_name, walk
from tenantspec.catalog.sql_values import claim_path
from tenantspec.catalog.state import SchemaState

NO_TABLE = ("", "")  # the members key of a membership no table keeps


NOT_ROLE_CLAIMS = ("role", "aal", "email", "phone", "sub", "aud", "is_anonymous", "session_id")


def token_claims(state: SchemaState, chosen: dict, roles: list[str]) -> dict[str, str]:
    """The claims of the user's token the policies read the membership from, when they do:
    ``{workspace: tenant_id, role: user_role}`` where most policies compare a workspace column
    with ``auth.jwt() ->> 'tenant_id'`` and test ``auth.jwt() ->> 'user_role'`` (with the
    roles), as an access token hook writes them."""
    reader = AccessReader(state, TenantModel(chosen["workspaces_key"], chosen["members_key"],
                                             chosen["workspace_column"], chosen["user_column"],
                                             chosen["role_column"] or "", tuple(roles) or ("member",)))
    workspace: dict[str, int] = {}
    role: dict[str, int] = {}
    for key, table in state.tables.items():
        scope = reader.row_scope(table)
        for policy in table.policies.values():
            for expression in (policy.using, policy.check):
                for node, _ in walk(reader.qualified(expression, table)) if expression is not None else ():
                    if not _comparison(node):
                        continue
                    sides = [node.lexpr] + ([node.rexpr] if not isinstance(node.rexpr, (list, tuple)) else [])
                    for side in sides:
                        path = claim_path(side)
                        if path is None or path in NOT_ROLE_CLAIMS:
                            continue
                        other = [s for s in sides if s is not side]
                        if other and reader.denotes_workspace(_uncast(other[0]), scope):
                            workspace[path] = workspace.get(path, 0) + 1
                        elif string_constants(node.rexpr if isinstance(node.rexpr, (list, tuple))
                                              else [node.rexpr]) is not None:
                            role[path] = role.get(path, 0) + 1
    found = {"workspace": max(workspace, key=lambda path: (workspace[path], path))} if workspace else {}
    # the token, not the table, where more policies read it than policies and helpers read the table
    if not found or workspace[found["workspace"]] <= chosen["evidence"]:
        return {}
    role.pop(found["workspace"], None)
    if role and (chosen["role_column"] or chosen["members"] is None):
        found["role"] = max(role, key=lambda path: (role[path], path))
    return found


def _comparison(node) -> bool:
    """``a = b``, ``a <> b``, ``a in (...)``, ``a = any (...)``: not ``->``/``->>`` and the like."""
    return isinstance(node, ast.A_Expr) and node.kind in (
        enums.A_Expr_Kind.AEXPR_OP, enums.A_Expr_Kind.AEXPR_IN, enums.A_Expr_Kind.AEXPR_OP_ANY) \
        and node.name[-1].sval in ("=", "<>", "!=")


def _uncast(node):
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def claims_only(state: SchemaState) -> dict | None:
    """A membership no table keeps: the policies compare a column referencing a table (or that
    table's own key) with a claim of the token (``org_id = (auth.jwt() -> 'app_metadata' ->>
    'org_id')::uuid``), and test another claim against roles. The chosen membership, in the
    shape ``_membership`` gives, with the workspace table, the claims and the roles; None
    when no policy reads such a claim."""
    counts: dict[tuple[str, tuple[str, str]], int] = {}
    roles: dict[str, list[str]] = {}
    origin = None
    for key, table in state.tables.items():
        if key[0] in SERVICE_SCHEMAS or table.external:
            continue
        references = {fk.columns[0]: fk.target for fk in table.foreign_keys if len(fk.columns) == 1}
        for policy in table.policies.values():
            for expression in (policy.using, policy.check):
                for node, _ in walk(expression) if expression is not None else ():
                    if not _comparison(node):
                        continue
                    listed = isinstance(node.rexpr, (list, tuple))
                    sides = [node.lexpr] + ([] if listed else [node.rexpr])
                    for side in sides:
                        path = claim_path(side)
                        if path is None or path in NOT_ROLE_CLAIMS:
                            continue
                        other = _uncast(next((s for s in sides if s is not side), None))
                        if isinstance(other, ast.ColumnRef) and column_ref_name(other)[0] in (None, table.name):
                            column = column_ref_name(other)[1]
                            target = references.get(column) or (key if table.primary_key == (column,) else None)
                            if target is not None and target[0] not in SERVICE_SCHEMAS:
                                counts[(path, target)] = counts.get((path, target), 0) + 1
                                origin = origin or policy.origin
                        elif (values := string_constants(node.rexpr if listed else [node.rexpr])) is not None:
                            roles.setdefault(path, []).extend(values)
    if not counts:
        return None
    path, target = max(counts, key=lambda found: (counts[found], found))
    roles.pop(path, None)
    role_path = max(roles, key=lambda found: (len(roles[found]), found)) if roles else None
    named = list(dict.fromkeys(roles[role_path])) if role_path else []
    shown = target[1] if target[0] == "public" else f"{target[0]}.{target[1]}"
    return {"members": None, "members_key": NO_TABLE, "one_per_user": False, "user_column": None,
            "workspace_column": None, "workspaces": shown, "workspaces_key": target, "role_column": None,
            "role_array": False, "roles": named, "source": f"the values policies compare the token's {role_path!r} "
            "claim with" if role_path else None, "ranked_by": None, "listed": "named", "role_ids": {},
            "user_through": None, "role_field": None, "enum": None, "score": 0, "evidence": 0,
            "origin": origin.location if origin else None, "shaped": True,
            "claims": {"workspace": path, **({"role": role_path} if role_path else {})}}
