"""Who the tenants are, read from the replayed schema: users tables, tenant roots, tenant
columns and owner columns.

- A **users table** is ``auth.users`` (or a configured one), or a table whose primary key is
  a foreign key to a users table (``profiles.id → auth.users``): one row per user.
- A **membership table** has a foreign key to a users table and one to another table, the
  **tenant root** (``organization_members`` ties users to ``organizations``). It counts when
  a policy or a function the folder creates reads it as a membership (a query on it that
  uses both its user column and its root column), or when the pair of keys is unique and
  the table is named like a membership (``*member*``, ``*participant*``, ``account_user``).
  A table with a user and a post, or a task assigned to a user, is not a membership.
- A **tenant column** is a foreign key to a root, followed through parents: a NOT NULL
  foreign key to a table that has a tenant column makes the child tenant-scoped too
  (``tasks.project_id → projects.organization_id``). A column with no foreign key counts
  when it has the name and type of the foreign keys other tables use to reach one root
  (``documents.organization_id`` next to ``projects.organization_id → organizations``).
- An **owner column** is a foreign key to a users table (``user_id → auth.users``).

``infer_tenancy`` is a pure function of the schema state and of what configuration or
specs declare, so any reader of ``tenantspec.catalog`` can use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import pglast
from pglast import ast

from tenantspec.catalog.bodies import rows_keyed_by_new_id
from tenantspec.catalog.keys import function_arg_types, name_key, relation_key
from tenantspec.catalog.names import singular
from tenantspec.catalog.nodes import column_ref_name, relation_alias, walk
from tenantspec.catalog.state import DEFAULT_SCHEMA, SchemaState, Table

Key = tuple[str, str]
USERS = ("auth", "users")

# Words in a table's name that say it records who belongs to what.
MEMBERSHIP_WORDS = ("member", "participant", "collaborator")


@dataclass(frozen=True)
class Membership:
    """A table tying users to a tenant root, and why it was taken for one."""

    table: Key
    user_columns: tuple[str, ...]
    root_columns: tuple[str, ...]
    root: Key
    evidence: str


@dataclass(frozen=True)
class TenantColumn:
    """A column naming the tenant a row belongs to."""

    table: Key
    column: str
    root: Key | None  # None: declared without a foreign key, root unknown
    reason: str


@dataclass(frozen=True)
class Declared:
    """What configuration and specs say about tenancy; inference adds to it."""

    users_tables: frozenset[Key] = frozenset({USERS})
    roots: frozenset[Key] = frozenset()
    # (table, column); table None: that column in every table that has it
    tenant_columns: frozenset[tuple[Key | None, str]] = frozenset()
    infer: bool = True


@dataclass(frozen=True)
class Tenancy:
    users_tables: frozenset[Key]
    roots: frozenset[Key]
    memberships: tuple[Membership, ...]
    tenant_columns: dict[Key, tuple[TenantColumn, ...]] = field(hash=False)
    owner_columns: dict[Key, tuple[str, ...]] = field(hash=False)

    def scoped(self, key: Key) -> bool:
        """Whether rows of ``key`` belong to a tenant (a root's rows are tenants)."""
        return key in self.roots or bool(self.tenant_columns.get(key))

    def columns_of(self, key: Key) -> tuple[TenantColumn, ...]:
        return self.tenant_columns.get(key, ())

    def owners_of(self, key: Key) -> tuple[str, ...]:
        return self.owner_columns.get(key, ())

    def root_of(self, key: Key) -> Key | None:
        """The tenant root rows of ``key`` belong to, when there is exactly one."""
        if key in self.roots:
            return key
        roots = {c.root for c in self.columns_of(key) if c.root}
        return roots.pop() if len(roots) == 1 else None

    def tenant_column_names(self) -> frozenset[str]:
        return frozenset(c.column for columns in self.tenant_columns.values() for c in columns)


def infer_tenancy(state: SchemaState, declared: Declared = Declared()) -> Tenancy:
    """Roots, tenant columns and owner columns of the schema ``state`` describes."""
    users = users_tables(state, declared.users_tables)
    memberships = find_memberships(state, users) if declared.infer else ()
    roots = (declared.roots | {m.root for m in memberships}) - users
    columns = tenant_columns(state, users, roots, declared)
    owners = {}
    for key, table in state.tables.items():
        found = tuple(c for fk in table.foreign_keys if fk.target in users for c in fk.columns)
        if found:
            owners[key] = tuple(dict.fromkeys(found))
    return Tenancy(frozenset(users), frozenset(roots), tuple(memberships), columns, owners)


# ---------------------------------------------------------------- users and memberships

def primary_key(table: Table) -> tuple[str, ...] | None:
    for index in table.indexes:
        if index.constraint == "primary key":
            return index.columns
    return None


def signed_up_tables(state: SchemaState) -> frozenset[Key]:
    """Tables keyed by the user with no foreign key to say so: a trigger on a new user of
    ``auth.users`` inserts ``new.id`` as their primary key (``public."user"``, a profile)."""
    users = state.tables.get(USERS)
    found = set()
    for trigger in users.triggers.values() if users is not None else ():
        if "insert" not in trigger.events:
            continue
        for function in state.functions.values():
            if (function.schema, function.name) != trigger.function:
                continue
            for schema, name, column in rows_keyed_by_new_id(function):
                table = state.tables.get((schema, name))
                if table is not None and primary_key(table) == (column,):
                    found.add((schema, name))
    return frozenset(found)


def users_tables(state: SchemaState, declared: frozenset[Key]) -> set[Key]:
    """The declared users tables and the tables whose primary key references one of them."""
    users = set(declared)
    changed = True
    while changed:
        changed = False
        for key, table in state.tables.items():
            if key in users:
                continue
            pk = primary_key(table)
            if pk and any(fk.target in users and set(fk.columns) == set(pk) for fk in table.foreign_keys):
                users.add(key)
                changed = True
    return users


def find_memberships(state: SchemaState, users: set[Key]) -> list[Membership]:
    reads = None
    found: dict[tuple[Key, Key], Membership] = {}
    for key, table in state.tables.items():
        user_keys = [fk for fk in table.foreign_keys if fk.target in users]
        if not user_keys:
            continue
        for fk in table.foreign_keys:
            if fk.target in users or fk.target == key or (key, fk.target) in found:
                continue
            for user_fk in user_keys:
                if reads is None:
                    reads = membership_reads(state)
                evidence = membership_evidence(table, user_fk.columns, fk.columns, fk.target, reads)
                if evidence:
                    found[(key, fk.target)] = Membership(key, user_fk.columns, fk.columns, fk.target, evidence)
                    break
    return list(found.values())


def membership_evidence(table: Table, user_columns, root_columns, root: Key,
                        reads: dict[Key, list[tuple[frozenset[str], str]]]) -> str | None:
    for columns, where in reads.get((table.schema, table.name), ()):
        if columns & set(user_columns) and columns & set(root_columns):
            return f"read as a membership by {where}"
    pair = set(user_columns) | set(root_columns)
    keyed = any(ix.unique and ix.predicate is None and set(ix.columns) == pair for ix in table.indexes)
    if keyed and named_like_membership(table.name, root[1]):
        return f"unique on ({', '.join(sorted(pair))}) and named like a membership"
    return None


def named_like_membership(name: str, root: str) -> bool:
    name = name.lower()
    if any(word in name for word in MEMBERSHIP_WORDS):
        return True
    return "user" in name and tenant_noun((None, root)).lower() in name


def tenant_noun(root: tuple[str | None, str] | None) -> str:
    """``organization`` for the root ``public.organizations``; ``tenant`` when unknown."""
    if root is None:
        return "tenant"
    return singular(root[1])


def membership_reads(state: SchemaState) -> dict[Key, list[tuple[frozenset[str], str]]]:
    """For each table read by a query in a policy or in a function the folder creates: the
    sets of its columns each query uses, with a label for the policy or function."""
    reads: dict[Key, list[tuple[frozenset[str], str]]] = {}
    for table in state.tables.values():
        for policy in table.policies.values():
            label = f"policy {policy.name!r} on {table.qualified_name}"
            for expression in (policy.using, policy.check):
                for key, columns in query_reads(state, expression):
                    reads.setdefault(key, []).append((columns, label))
    for label, tree in function_bodies(state):
        for key, columns in query_reads(state, tree):
            reads.setdefault(key, []).append((columns, label))
    return reads


def query_reads(state: SchemaState, tree) -> Iterator[tuple[Key, frozenset[str]]]:
    """``(table, columns used)`` for every table in the FROM of every SELECT under ``tree``
    (a node, or a sequence of them)."""
    if isinstance(tree, (tuple, list)):
        for item in tree:
            yield from query_reads(state, item)
        return
    for node, _ in walk(tree):
        if not isinstance(node, ast.SelectStmt) or not node.fromClause:
            continue
        aliases: dict[str, Key] = {}
        for item in node.fromClause:
            for inner, _ in walk(item):
                if isinstance(inner, ast.RangeVar):
                    key = relation_key(inner)
                    aliases[relation_alias(inner)] = key
                elif isinstance(inner, ast.SelectStmt):
                    break
        if not aliases:
            continue
        used: dict[Key, set[str]] = {key: set() for key in aliases.values()}
        for inner, _ in walk(node):
            if not isinstance(inner, ast.ColumnRef):
                continue
            qualifier, column = column_ref_name(inner)
            if column is None:
                continue
            if qualifier is not None:
                if qualifier in aliases:
                    used[aliases[qualifier]].add(column)
                continue
            for key in used:
                known = state.tables.get(key)
                if len(used) == 1 or (known is not None and column in known.columns):
                    used[key].add(column)
        for key, columns in used.items():
            yield key, frozenset(columns)


def function_bodies(state: SchemaState) -> Iterator[tuple[str, object]]:
    """The parsed bodies of the SQL and PL/pgSQL functions the folder leaves defined (the
    last CREATE of each); a body that does not parse is skipped."""
    latest = {}
    for statement in state.statements:
        node = statement.node
        if isinstance(node, ast.CreateFunctionStmt):
            schema, name = name_key(node.funcname)
            key = (schema, name, function_arg_types(node.parameters))
            if key in state.functions:
                latest[key] = statement
    for key, statement in latest.items():
        label = f"function {state.functions[key].signature}"
        tree = parse_body(statement)
        if tree is not None:
            yield label, tree


def parse_body(statement) -> object | None:
    node = statement.node
    if node.sql_body is not None:
        return node.sql_body
    options = {o.defname: o.arg for o in node.options or ()}
    language = options["language"].sval if "language" in options else "sql"
    body = options.get("as")
    if not body or not isinstance(body[0], ast.String):
        return None
    try:
        if language == "sql":
            return pglast.parse_sql(body[0].sval)
        if language == "plpgsql":
            return plpgsql_queries(pglast.parse_plpgsql(statement.text))
    except pglast.parser.ParseError:
        return None
    return None


def plpgsql_queries(tree) -> tuple:
    """Every SQL statement and expression of a parsed PL/pgSQL function, parsed."""
    parsed = []
    for expression in _plpgsql_expressions(tree):
        query = expression.get("query", "")
        text = query if expression.get("parseMode", 0) == 0 else f"select {query}"
        try:
            parsed.extend(pglast.parse_sql(text))
        except pglast.parser.ParseError:
            continue
    return tuple(parsed)


def _plpgsql_expressions(tree) -> Iterator[dict]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key == "PLpgSQL_expr":
                yield value
            else:
                yield from _plpgsql_expressions(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from _plpgsql_expressions(item)


# ---------------------------------------------------------------- tenant columns

def tenant_columns(state: SchemaState, users: set[Key], roots: set[Key],
                   declared: Declared) -> dict[Key, tuple[TenantColumn, ...]]:
    found: dict[Key, dict[str, TenantColumn]] = {}

    def add(column: TenantColumn) -> bool:
        columns = found.setdefault(column.table, {})
        if column.column in columns:
            return False
        columns[column.column] = column
        return True

    # Foreign keys straight to a root.
    root_names: dict[str, set[tuple[Key, str]]] = {}
    for key, table in state.tables.items():
        for fk in table.foreign_keys:
            if fk.target in roots:
                for column in fk.columns:
                    add(TenantColumn(key, column, fk.target, f"references {fk.target[0]}.{fk.target[1]}"))
                    if len(fk.columns) == 1 and column in table.columns:
                        root_names.setdefault(column, set()).add((fk.target, table.columns[column].type_name))

    # Declared columns; their root is the one columns of that name reference, or the only root.
    for table_key, column in declared.tenant_columns:
        hinted = {root for root, _ in root_names.get(column, ())} or set(roots)
        root = next(iter(hinted)) if len(hinted) == 1 else None
        keys = [table_key] if table_key is not None else [k for k, t in state.tables.items() if column in t.columns]
        for key in keys:
            add(TenantColumn(key, column, root, "declared in the configuration"))

    # The same name and type without a foreign key, when that name leads to one root only.
    for key, table in state.tables.items():
        if key in users:
            continue
        keyed = {c for fk in table.foreign_keys for c in fk.columns}
        for name, column in table.columns.items():
            hints = root_names.get(name)
            if name in keyed or not hints or len({root for root, _ in hints}) != 1:
                continue
            root, type_name = next(iter(hints))
            if key != root and column.type_name == type_name:
                add(TenantColumn(key, name, root,
                                 f"named like the foreign keys to {root[0]}.{root[1]} elsewhere (no foreign key)"))

    # Through parents: a NOT NULL foreign key to a tenant-scoped table.
    changed = True
    while changed:
        changed = False
        for key, table in state.tables.items():
            for fk in table.foreign_keys:
                target = fk.target
                if target in users or target == key or target in roots or not found.get(target):
                    continue
                if not all(c in table.columns and table.columns[c].not_null for c in fk.columns):
                    continue
                root = next((c.root for c in found[target].values() if c.root), None)
                for column in fk.columns:
                    changed |= add(TenantColumn(key, column, root,
                                                f"NOT NULL reference to tenant-scoped {target[0]}.{target[1]}"))
    return {key: tuple(columns.values()) for key, columns in found.items()}


def parse_table_name(text: str) -> Key:
    """``schema.table`` or ``table`` (in public)."""
    schema, _, name = text.rpartition(".")
    return (schema or DEFAULT_SCHEMA, name)


def parse_column_name(text: str) -> tuple[Key | None, str]:
    """``column`` (any table), ``table.column`` (public) or ``schema.table.column``."""
    parts = text.split(".")
    if len(parts) == 1:
        return (None, parts[0])
    return (parse_table_name(".".join(parts[:-1])), parts[-1])
