"""`tenantspec adopt --init`: ``schema/project.yaml`` read from a folder of hand-written
migrations: the membership table (the one that ties a user of ``auth.users`` to a row of
another table, with a role), the tenant table it points at, the roles (from the role
column's CHECK, its enum type, or the rows of a roles table it references), the levels, and
both tables with their columns as external tables."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from pglast import ast

from tenantspec.adopt.claims import claims_only, token_claims
from tenantspec.adopt.objects import derived_seed, enum_values, sayable_columns
from tenantspec.adopt.owner import called_by_policies, owner_column
from tenantspec.adopt.roles import (
    by_admission,
    by_power,
    contained_list,
    json_role,
    level_name,
    levels,
    policy_role_sets,
    roles_named,
    roles_table,
)
from tenantspec.adopt.tables import replayed
from tenantspec.adopt.writing import flow, scalar
from tenantspec.catalog.bodies import function_query
from tenantspec.catalog.builtins import AUTH_USERS, SERVICE_SCHEMAS
from tenantspec.catalog.expression import conjuncts, value_list
from tenantspec.catalog.inserts import inserted_rows
from tenantspec.catalog.nodes import column_ref_name, walk
from tenantspec.catalog.sql_values import column_of, condition_key, role_values
from tenantspec.catalog.state import SchemaState, Table
from tenantspec.errors import Problem, TenantspecError
from tenantspec.lint.tenancy import signed_up_tables, users_tables
from tenantspec.render.migrations import environment
from tenantspec.spec.expressions import condition_values
from tenantspec.spec.load import load_project

ROLE_NAMES = ("role", "role_name", "account_role", "member_role", "access_level")


def initial_project(root: Path, baseline: Path | None = None) -> tuple[str, list[Problem]]:
    """The text of ``schema/project.yaml`` and the notes to review, read from the project's
    baseline and migrations; stops when no table there looks like a membership table."""
    passed_over: list[Problem] = []
    state = replayed(root, baseline, passed_over)["legacy"]
    # auth.users and tables keyed by a user's id (by a foreign key, or filled by a sign-up trigger)
    of_users = users_tables(state, frozenset({AUTH_USERS}) | signed_up_tables(state))
    inserted = inserted_rows(state)
    evidence = consulted(state)
    found = sorted((c for c in (_membership(state, t, of_users, inserted, evidence) for t in state.tables.values())
                    if c), key=lambda c: (-(c["evidence"] > 0), -c["shaped"], -c["evidence"], -c["score"], c["members"]))
    if not found and (token_only := claims_only(state)) is not None:
        found = [token_only]  # no table keeps the membership: the token's claims do
    if not found:
        raise TenantspecError("no table of supabase/migrations ties a user (a foreign key to auth.users, or a "
                              "user_id the policies or an access token hook read) to a row of another table, and "
                              "no policy compares a row's tenant with a claim of the token: write "
                              "schema/project.yaml by hand (docs/getting-started.md shows one), or `tenantspec "
                              "init` for new tables")
    chosen = root_membership(state, found) if found[0]["members"] else found[0]
    role = (f"{chosen['role_column']} ->> '{chosen['role_field']}' the role" if chosen["role_field"] else
            f"{chosen['role_column']} the role" if chosen["role_column"] else "no role column (every member alike)")
    if chosen["members"] is None:
        notes = passed_over + [Problem(chosen["origin"], f"no table keeps the membership: the policies compare "
                                                         f"{chosen['workspaces']} rows with the token's "
                                                         f"{chosen['claims']['workspace']!r} claim")]
    else:
        notes = passed_over + [Problem(chosen["origin"], (
            f"{chosen['members']} is the membership table: {chosen['user_column']} is the user, "
            f"{chosen['workspace_column']} the {chosen['workspaces']} row, {role}; {chosen['evidence']} policies and "
            "helpers consult it" + (f" (also possible: {', '.join(c['members'] for c in others)})"
                                   if (others := [c for c in found if c is not chosen][:2]) else "")))]
    roles = chosen["roles"]
    through = chosen["user_through"]
    if through:
        notes.append(Problem(chosen["origin"], f"members.user_through: {chosen['members']}.{chosen['user_column']} "
                                               f"names a row of {through['table']}, whose {through['user_column']} is "
                                               "the user (an account of the app's own)"))
    if not roles and chosen["role_column"]:  # (with no table, the claims' roles are those the policies name)
        notes.append(Problem(chosen["origin"], f"{chosen['members']}.{chosen['role_column']} has no CHECK or enum type "
                                               "listing its roles, and no policy names one: the levels below name "
                                               "one role, member; write the roles in"))
    tenant, members = state.tables[chosen["workspaces_key"]], state.tables.get(chosen["members_key"])
    claims = chosen.get("claims") or token_claims(state, chosen, roles)
    owner = owner_column(state, chosen, of_users)
    owner_role = ("owner" if "owner" not in roles else owner) if owner else None
    admitted = policy_role_sets(state, chosen, roles, claims, owner and (owner, owner_role))
    if chosen["ranked_by"]:
        ordered, order = roles, f"ordered by {chosen['ranked_by']}, lowest first"
    elif (named_rank := by_power(roles)) and named_rank != roles:
        ordered, order = named_rank, f"ordered by what their names usually mean ({', '.join(named_rank)})"
    elif named_rank is None and chosen["listed"] == "named" and (ranked := by_admission(roles, admitted)) != roles:
        ordered, order = ranked, "ordered by how many of the policies' role tests admit each"
    else:
        ordered, order = roles, f"most powerful first as {chosen['listed']}"
    if not chosen["role_column"] and (chosen["members"] is not None or not roles):
        ordered, order = [], ""
    open_roles = bool(chosen["role_column"]) and (not roles or chosen["listed"] == "named")
    if chosen["members"] is None and ordered:  # the token's role claim may hold others too
        ordered, unlisted = with_unlisted(ordered)
        notes.append(Problem(chosen["origin"], f"the token's {chosen['claims'].get('role')!r} claim may hold roles "
                                               f"no policy names: the role {unlisted} stands for them (the proof "
                                               "signs a token with it), and the level of every role tests none"))
    if open_roles and ordered:  # the column may hold roles no policy names: a role standing for them
        ordered, unlisted = with_unlisted(ordered)
        notes.append(Problem(chosen["origin"], f"open_roles: no CHECK or enum lists {chosen['members']}."
                                               f"{chosen['role_column']}'s roles, so a member may hold one no policy "
                                               f"names: the role {unlisted} stands for them (the proof seeds one), and "
                                               "the level of every role lets in any member"))
    if owner:  # the owner first: who made the workspace may do what its members may
        ordered = [owner_role] + (ordered or ["member"])
        notes.append(Problem(chosen["origin"], f"owner: {chosen['workspaces']}.{owner} names a user the policies "
                                               f"and helpers let in as its owner: role {owner_role}, above the members; "
                                               "check its place in the levels"))
    found_levels = levels(ordered or ["member"])
    extra = [[role for role in ordered if role in held] for held in admitted]
    extra = [held for i, held in enumerate(extra) if held and held not in extra[:i]
             and set(held) not in [set(h) for _, h in found_levels]]
    if extra:
        found_levels += [(level_name("_or_".join(held)), held) for held in extra]
        notes.append(Problem(chosen["origin"], "levels " + ", ".join(level_name("_or_".join(h)) for h in extra) +
                                               ": sets of roles the policies let through that no run of roles from the "
                                               "top names"))
    if claims:
        notes.append(Problem(chosen["origin"], f"members.claims: the policies compare the workspace with the token's "
                                               f"{claims['workspace']!r} claim" +
                             (f" and test its {claims['role']!r} claim" if "role" in claims else "") +
                             (": an access token hook writes them" if members is not None else
                              ": the server writes them (app_metadata), or an access token hook")))
        chosen = {**chosen, "one_per_user": False}  # the token's one workspace says it
    sole = sole_role(state, chosen)
    if sole:
        notes.append(Problem(chosen["origin"], f"members.sole_role: {sole}: a unique index lets one "
                                               f"{chosen['members']} row a workspace hold it"))
    active = active_condition(state, chosen)
    if active:
        notes.append(Problem(chosen["origin"], f"members.active: {active}: most policies and helpers count a "
                                               f"{chosen['members']} row only when it holds; check it"))
    values = {
        **chosen,
        "active": scalar(active) if active else None,
        "sole_role": scalar(sole) if sole else None,
        "claims": flow(claims) if claims else None,
        # no CHECK, enum or roles table lists the roles: the column may hold others
        "open_roles": open_roles,
        "user_through": flow({k: v for k, v in through.items() if k != "table_key"}) if through else None,
        "role_field": scalar(chosen["role_field"]) if chosen["role_field"] else None,
        "role_values": "{" + ", ".join(f"{scalar(role)}: {value}" for role, value in chosen["role_ids"].items()) + "}"
        if chosen["role_ids"] else None,
        "role_lookup": _shown(next(fk.target for fk in members.foreign_keys if fk.columns == (chosen["role_column"],))) if chosen["role_ids"] else None,
        "owner": flow({"column": owner, **({"role": owner_role} if owner_role != "owner" else {})}) if owner else None,
        "schema": tables_schema(state, chosen),
        "levels": [(name, [scalar(role) for role in held]) for name, held in found_levels],
        "roles_source": f"{chosen['source']}, {order}: check the order" if roles
                        else "nothing: no CHECK or enum names the roles" if chosen["role_column"]
                        else "no role column: every member is alike",
        "enums": _enums_used(state, [tenant] + ([members] if members is not None else [])),
        "users": flow(_users_entry(state)),
        "tables": [(chosen["workspaces"], flow(_external(tenant, workspace_column=(tenant.primary_key or ("id",))[0],
                                                         seed=True, enums=enum_values(state), users=of_users))),
                   *([(chosen["members"], flow(_external(
                       members, workspace_column=chosen["workspace_column"], seed=True, enums=enum_values(state),
                       users=of_users, kept={chosen["user_column"], chosen["role_column"]}
                       | set(re.findall(r"\w+", active or "")))))]
                     if members is not None else [])]
                  + ([(through["table"], flow(_external(state.tables[through["table_key"]], workspace_column=None,
                                                        seed=True, enums=enum_values(state), users=of_users)))]
                     if through else []),
    }
    text = environment().get_template("init/adopted_project.yaml.j2").render(values)
    _loadable(text)
    return text, notes


def with_unlisted(ordered: list[str]) -> tuple[list[str], str]:
    """``ordered`` and a last role standing for the values no policy names, and its name."""
    unlisted = next(name for name in ("unlisted", "unlisted_role", "other_unlisted") if name not in ordered)
    return ordered + [unlisted], unlisted


def _loadable(text: str) -> None:
    """Stop, with the loader's words, rather than write a project file the loader refuses."""
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "schema").mkdir()
        (Path(scratch) / "schema" / "project.yaml").write_text(text, encoding="utf-8")
        try:
            load_project(Path(scratch))
        except TenantspecError as error:
            raise TenantspecError(list(error.problems) + [Problem(None, (
                "adopt --init read a membership the project file cannot say yet (above, as the loader says it); "
                "nothing was written: write schema/project.yaml by hand (docs/getting-started.md shows one)"))]) \
                from None


def root_membership(state: SchemaState, found: list[dict]) -> dict:
    """The first candidate, or the one of a tenant above it: where the chosen tenant table
    (a course group) references another candidate's tenant table (the organization it lies
    in), the outer one is the tenant, the inner a second level within it."""
    chosen = found[0]
    seen = {chosen["members_key"]}
    while True:
        tenant = state.tables.get(chosen["workspaces_key"])
        above = {fk.target for fk in tenant.foreign_keys} if tenant is not None else set()
        outer = next((c for c in found if c["workspaces_key"] in above and c["members_key"] not in seen
                      and c["evidence"] > 0), None)
        if outer is None:
            return chosen
        chosen = outer
        seen.add(chosen["members_key"])


def sole_role(state: SchemaState, chosen: dict) -> str | None:
    """The role a unique index on the membership's workspace column alone lets one row a
    workspace hold (``unique (team_id) where role = 'owner'``), read as the policies' role
    tests are (``in``, ``<>``, a roles table's ids)."""
    members = state.tables.get(chosen["members_key"])
    role_column = chosen["role_column"]
    if members is None or not role_column or chosen["role_array"] or chosen["role_field"]:
        return None
    stored = {str(value): role for role, value in chosen["role_ids"].items()} or None
    for index in members.indexes:
        where = index.where
        if not (index.unique and index.columns == (chosen["workspace_column"],) and isinstance(where, ast.A_Expr)
                and role_column in (column_of(where.lexpr), column_of(where.rexpr))):
            continue
        admitted = role_values(where, None, tuple(chosen["roles"]), stored)
        if admitted is not None and len(admitted) == 1:
            return next(iter(admitted))
    return None


def active_condition(state: SchemaState, chosen: dict) -> str | None:
    """The condition most of the queries reading the membership table put on its row besides
    the user, the workspace and the role (``cm.is_active = true``, ``deleted_at is null``): the
    rows that count. None when no such condition is that common."""
    members = chosen["members_key"]
    tested = {chosen["user_column"], chosen["workspace_column"], chosen["role_column"]}
    queries = [e for table in state.tables.values() for policy in table.policies.values()
               for e in (policy.using, policy.check) if e is not None]
    queries += [q for q in (function_query(f) for f in state.functions.values()) if q is not None]
    counts: dict[str, int] = {}
    total = 0
    for query in queries:
        for node, _ in walk(query):
            if not isinstance(node, ast.SelectStmt) or node.whereClause is None:
                continue
            aliases = [(rv.alias.aliasname if rv.alias else rv.relname) for item in node.fromClause or ()
                       for rv, _ in walk(item)
                       if isinstance(rv, ast.RangeVar) and ((rv.schemaname or "public"), rv.relname) == members]
            if not aliases:
                continue
            total += 1
            for part in conjuncts(node.whereClause):
                columns = [column_ref_name(c) for c, _ in walk(part) if isinstance(c, ast.ColumnRef)]
                if not columns or any(q not in (aliases[0], None) or c in tested or "role" in (c or "")
                                      for q, c in columns):
                    continue  # (a role test, whatever the role column: role_id = 1 is no activity)
                key = condition_key(part, aliases[0])
                if condition_values(key) is not None:
                    counts[key] = counts.get(key, 0) + 1
    common = [key for key, count in counts.items() if 2 * count >= total > 0]
    return " and ".join(sorted(common)) if common else None


def tables_schema(state: SchemaState, chosen: dict) -> str:
    """The schema of the app's tenant tables: where most tables referencing the tenant table
    live (``app`` for an app that keeps none in ``public``); ``public`` when none does."""
    counts: dict[str, int] = {}
    for key, table in state.tables.items():
        if key[0] in SERVICE_SCHEMAS or table.external or key in (chosen["members_key"], chosen["workspaces_key"]):
            continue
        if any(fk.target == chosen["workspaces_key"] for fk in table.foreign_keys):
            counts[key[0]] = counts.get(key[0], 0) + 1
    return max(sorted(counts), key=lambda schema: (counts[schema], schema == "public"), default="public")


def consulted(state: SchemaState) -> dict[tuple[str, str], int]:
    """How often each table is read to decide access: the policies whose expressions read it,
    and the functions policies call whose bodies name it (helpers like is_org_member)."""
    counts: dict[tuple[str, str], int] = {}
    for table in state.tables.values():
        for policy in table.policies.values():
            read: set[tuple[str, str]] = set()
            for expression in (policy.using, policy.check):
                for node, _ in walk(expression) if expression is not None else ():
                    if isinstance(node, ast.RangeVar):
                        read.add((node.schemaname or "public", node.relname))
            for key in read:
                counts[key] = counts.get(key, 0) + 1
    called = called_by_policies(state)
    names = {(key[1], key) for key in state.tables}
    for function in state.functions.values():
        if not function.source or (function.name not in called and not access_token_hook(function)):
            continue
        words = set(re.findall(r"[a-z_][a-z0-9_]*", function.source.lower()))
        for name, key in names:
            if name.lower() in words:
                counts[key] = counts.get(key, 0) + 1
    return counts


def access_token_hook(function) -> bool:
    """A custom access token hook: Supabase Auth calls it (as ``supabase_auth_admin``, which
    must be granted EXECUTE) with the user's event before it signs a token, and what it reads
    decides the claims the policies test (``tenant_id``, ``user_role``)."""
    return "execute" in function.privileges.get("supabase_auth_admin", {}) \
        and function.arg_types == ("jsonb",) and function.returns == "jsonb"


def _shown(key: tuple[str, str]) -> str:
    """A table's name as project.yaml writes it: bare in public, else schema-qualified."""
    return key[1] if key[0] == "public" else f"{key[0]}.{key[1]}"


USER_NAMES = ("user_id", "profile_id", "member_id", "auth_user_id", "account_id", "uid")


def _membership(state: SchemaState, table: Table, of_users: set, inserted: dict,
                evidence: dict[tuple[str, str], int]) -> dict | None:
    # (in public, or in a schema of the app's own: basejump.account_user)
    if table.schema in SERVICE_SCHEMAS or table.external:
        return None
    key = (table.schema, table.name)
    users = [fk.columns[0] for fk in table.foreign_keys if fk.target in of_users and len(fk.columns) == 1]
    through = None
    if not users:  # the user behind an account of the app's own: account_id references accounts (id)
        accounts = account_tables(state, of_users)
        by_account = [fk for fk in table.foreign_keys if fk.target in accounts and len(fk.columns) == 1
                      and fk.target != key and fk.target_columns[0] == accounts[fk.target][0]]
        if by_account:
            fk = by_account[0]
            users, through = [fk.columns[0]], {"table": _shown(fk.target), "key": fk.target_columns[0],
                                               "user_column": accounts[fk.target][1], "table_key": fk.target}
    # the member, not who invited or created the row: user_id first, invited_by last
    users.sort(key=lambda c: (c not in USER_NAMES, any(w in c for w in ("invit", "creat", "by", "updat"))))
    if not users and evidence.get(key):  # user_id uuid with no foreign key, which the policies consult
        users = [c for c in USER_NAMES if c in table.columns and table.columns[c].type_name == "uuid"][:1]
    tenants = [fk for fk in table.foreign_keys if fk.target[0] not in SERVICE_SCHEMAS and fk.target not in of_users
               and fk.target != key and len(fk.columns) == 1 and fk.target in state.tables
               and fk.columns[0] not in users and (through is None or fk.target != through["table_key"])]
    if not users or not tenants:
        return None
    role_column = next((c for c in ROLE_NAMES if c in table.columns), None)
    checked = {}
    for check in table.checks:
        if (listed := value_list(check.expression) or contained_list(check.expression)) is not None:
            checked[listed[0]] = listed[1]
    if role_column is None:  # team_role, user_role, membership_role ...
        role_column = next((c for c in table.columns if "role" in c and (
            c in checked or _enum_of(state, table.columns[c]) is not None)), None)
    if role_column is None:
        role_column = next(iter(checked), None)
    if role_column is None:  # roles text[]: a member holds several
        role_column = next((c for c in table.columns if "role" in c and table.columns[c].type_name.endswith("[]")),
                           None)
    if role_column is None:  # role_key text references member_roles (key)
        role_column = next((fk.columns[0] for fk in table.foreign_keys if len(fk.columns) == 1
                            and "role" in fk.target[1] and roles_table(state, table, fk.columns[0], inserted)),
                           None)
    # of several parents (the role's lookup table aside), the tenant is the one most tables
    # hang from: a study, not its invite code
    tenants = [fk for fk in tenants if fk.columns[0] != role_column] or tenants
    tenants.sort(key=lambda fk: -sum(any(other.target == fk.target for other in t.foreign_keys)
                                     for t in state.tables.values()))
    role_field = None
    if role_column is None and (in_json := json_role(state, table)) is not None:  # (m.extra ->> 'role')
        role_column, role_field, named = in_json
    enum = _enum_of(state, table.columns[role_column]) if role_column in table.columns and not role_field else None
    listed = roles_table(state, table, role_column, inserted) if role_column and not role_field else None
    # a table the policies never consult is a membership only by its shape: a role the CHECK,
    # an enum or a roles table lists (a chat message's user/assistant role is no membership),
    # or a name that says so
    if not evidence.get(key) and (role_column is None or (
            role_column not in checked and enum is None and "member" not in table.name and listed is None)):
        return None
    # one membership per user and tenant: a primary key or unique index on exactly that pair
    pair = {users[0], tenants[0].columns[0]}
    paired = any(ix.unique and set(ix.columns) == pair and ix.where is None for ix in table.indexes)
    score = 2 * ("member" in table.name) + 2 * paired + (role_column in checked or enum is not None) \
        + (len(tenants) == 1) - 3 * ("invit" in table.name)
    roles = list(checked.get(role_column, ())) or (list(enum.values) if enum else [])
    source = (f"the CHECK of {table.name}.{role_column}" if role_column in checked else
              f"the enum type {enum.schema}.{enum.name} of {table.name}.{role_column}" if enum else None)
    ranked_by, how, role_ids = None, "written", {}
    if not roles and listed is not None:
        (roles, source, ranked_by, role_ids), how = listed, "inserted"
    if role_field:
        roles, source, how = named, f"the values policies and helpers compare {table.name}.{role_column} ->> " \
            f"'{role_field}' with", "named"
    if not roles and role_column and (named := roles_named(state, role_column, table.columns[role_column])):
        roles, source, how = named, f"the values policies and helpers compare {table.name}.{role_column} with", \
            "named"
    # a membership keyed by its user alone (a profile naming the user's organization)
    alone = any(ix.unique and ix.columns == (users[0],) and ix.where is None for ix in table.indexes)
    return {"members": _shown(key), "members_key": key,
            "one_per_user": alone,
            "user_column": users[0], "workspace_column": tenants[0].columns[0],
            "workspaces": _shown(tenants[0].target), "workspaces_key": tenants[0].target, "role_column": role_column,
            "role_array": bool(role_column in table.columns and table.columns[role_column].type_name.endswith("[]")),
            "roles": roles, "source": source, "ranked_by": ranked_by, "listed": how, "role_ids": role_ids,
            "user_through": through, "role_field": role_field,
            "enum": enum, "score": score, "evidence": evidence.get(key, 0), "origin": table.origin.location,
            # shaped like a membership: roles listed (CHECK, enum, roles table) or a name that says so
            "shaped": bool(roles and (role_column in checked or enum is not None or listed is not None))
            or "member" in table.name or "role" in table.name}


def account_tables(state: SchemaState, of_users: set) -> dict[tuple[str, str], tuple[str, str]]:
    """Tables holding one row per user under a key of their own (``accounts (id bigint,
    auth_user_id uuid unique references auth.users)``): their key, and the column naming the
    user."""
    found = {}
    for key, table in state.tables.items():
        if table.schema in SERVICE_SCHEMAS or table.external or len(table.primary_key or ()) != 1:
            continue
        for fk in table.foreign_keys:
            if len(fk.columns) == 1 and fk.target in of_users and fk.columns[0] != table.primary_key[0] \
                    and any(ix.unique and ix.columns == fk.columns and ix.where is None for ix in table.indexes):
                found[key] = (table.primary_key[0], fk.columns[0])
                break
    return found


def _enum_of(state: SchemaState, column):
    """The enum type a column is of, when the migrations create it."""
    if column.type is None:
        return None
    names = [n.sval for n in column.type.names]
    return state.enums.get((names[-2] if len(names) > 1 else "public", names[-1]))


def _enums_used(state: SchemaState, tables: list[Table]) -> list[tuple[str, str]]:
    """``(name, [values])`` of the enum types the external tables' columns use."""
    found = {}
    for table in tables:
        for column in table.columns.values():
            if (enum := _enum_of(state, column)) is not None:
                name = enum.name if enum.schema == "public" else f"{enum.schema}.{enum.name}"
                found[name] = f"[{', '.join(enum.values)}]"
    return list(found.items())


# new.raw_user_meta_data ->> 'first_name' (or -> 'first_name') in a trigger function's body
SIGN_UP_FIELD = re.compile(r"\bnew\s*\.\s*raw_user_meta_data\s*->>?\s*'([^']+)'", re.IGNORECASE)


def _users_entry(state: SchemaState) -> dict:
    """auth.users as project.yaml declares it: its id and email, and, when a trigger on a new
    user reads the sign-up metadata (a profile or a personal organization named after
    ``raw_user_meta_data ->> 'first_name'``), that metadata, which the proof then gives each
    user it makes (``{"first_name": "first_name <label>"}``)."""
    entry: dict = {"columns": {"id": "uuid", "email": "text"}}
    users = state.tables.get(AUTH_USERS)
    fields: list[str] = []
    for trigger in users.triggers.values() if users is not None else ():
        function = next((f for f in state.functions.values()
                         if (f.schema, f.name) == trigger.function and f.body), None)
        if "insert" in trigger.events and function is not None:
            fields += [name for name in SIGN_UP_FIELD.findall(function.body) if name not in fields]
    if fields:
        entry["columns"]["raw_user_meta_data"] = "jsonb"
        entry["seed"] = {"raw_user_meta_data": json.dumps({name: f"{name} {{label}}" for name in fields})}
    return entry


def _external(table: Table, workspace_column: str, seed: bool = False, enums: dict | None = None,
              users: set | None = None, kept: set | frozenset = frozenset()) -> dict:
    """An external table's entry: its columns, its workspace column, and for the tenant the
    values the proof fills a new row's required columns with."""
    entry: dict = {"columns": sayable_columns(table)}
    if workspace_column:
        entry["workspace_column"] = workspace_column
    # (``kept``: the columns the proof writes itself: a membership's user, role and what counts it)
    if seed and (values := {c: v for c, v in derived_seed(table, workspace_column, enums or {}, users or {AUTH_USERS})
                            .items() if c not in kept}):
        entry["seed"] = values
    return entry
