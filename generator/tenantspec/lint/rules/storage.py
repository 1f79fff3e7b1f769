"""Rules on Storage: policies on `storage.objects` are the only thing between a request and
every bucket's files, since all buckets share the one table."""

from __future__ import annotations

from typing import Iterator

from pglast import ast, enums

from tenantspec.catalog.expression import display_expression
from tenantspec.catalog.nodes import column_ref_name, function_name, walk
from tenantspec.catalog.state import Origin, Policy, SchemaState
from tenantspec.catalog.storage import (
    PATH_FUNCTIONS,
    bucket_inserts,
    buckets_named,
    reads_path,
)
from tenantspec.lint.conditions import EVERYONE, auth_call, constant, true_for, unwrap
from tenantspec.lint.config import LintConfig
from tenantspec.lint.rules.base import (
    STORAGE_OBJECTS,
    Severity,
    Violation,
    policy_commands,
    policy_roles,
    rule,
)
from tenantspec.lint.rules.policies import opening
from tenantspec.lint.tenancy import Tenancy

OWNER_COLUMNS = ("owner", "owner_id")


def object_policies(state: SchemaState) -> Iterator[Policy]:
    table = state.tables.get(STORAGE_OBJECTS)
    return iter(table.policies.values()) if table is not None else iter(())


def clauses(policy: Policy) -> Iterator[tuple[str, ast.Node, tuple[str, ...]]]:
    """Each clause with the commands it decides: USING for the rows read, updated, deleted;
    WITH CHECK (USING when there is none) for the rows inserted and the rows updates leave."""
    commands = policy_commands(policy)
    reads = tuple(c for c in commands if c in ("select", "update", "delete"))
    writes = tuple(c for c in commands if c in ("insert", "update"))
    if policy.using is not None and reads:
        yield "USING", policy.using, reads
    checked = policy.check if policy.check is not None else policy.using
    if checked is not None and writes:
        yield "WITH CHECK" if policy.check is not None else "USING (as WITH CHECK)", checked, writes


@rule("storage-policy-without-bucket", Severity.WARNING, "policy on storage.objects that never tests bucket_id")
def storage_policy_without_bucket(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A permissive policy on `storage.objects` with a clause that holds the object to no
    bucket (`bucket_id = 'invoices'`, in every branch of an OR). Every bucket's files share
    the one table, so the policy opens each bucket the project has, and every bucket added
    later: a rule written for avatars lets the same users read or write invoices. For an
    UPDATE, a WITH CHECK without the test lets a file be moved into another bucket. Clauses
    that are always true are `open-read-policy`'s and `open-write-policy`'s. Fix: add
    `bucket_id = '<bucket>'` to USING and WITH CHECK."""
    table = state.tables.get(STORAGE_OBJECTS)
    for policy in object_policies(state):
        if not policy.permissive or not policy_roles(policy):
            continue
        opened = opening(state, table, policy, policy_commands(policy))
        for clause, expression, commands in clauses(policy):
            if opened is not None and opened.expression is expression:
                continue
            if buckets_named(expression) is None:
                yield Violation(policy.origin,
                                f"policy {policy.name!r} ({policy.command}) on storage.objects: {clause} "
                                f"({display_expression(expression)}) tests no bucket_id, so it decides "
                                f"{'/'.join(commands)} on the files of every bucket; add bucket_id = '<bucket>'")


def public_buckets(state: SchemaState) -> set[str]:
    """The buckets the folder inserts as public (``insert into storage.buckets (id, name,
    public) values ('avatars', 'avatars', true)``; the last insert of a bucket's row says)."""
    public = {bucket_id: constant(row.get("public")) for bucket_id, row, *_ in bucket_inserts(state)}
    return {b for b, value in public.items() if value is True or str(value).lower() in ("t", "true", "on", "yes", "1")}


def true_beside_buckets(node) -> frozenset[str]:
    """The request roles for which the condition holds whatever the row, its bucket tests
    aside: the roles of each other conjunct (`true_for`), everyone when there is none."""
    node = unwrap(node)
    if isinstance(node, ast.BoolExpr) and node.boolop == enums.BoolExprType.AND_EXPR:
        roles = EVERYONE
        for arg in node.args:
            roles &= true_beside_buckets(arg)
        return roles
    return EVERYONE if buckets_named(node) is not None else true_for(node)


@rule("public-bucket-allows-listing", Severity.WARNING, "public bucket whose SELECT policy lets clients list its files")
def public_bucket_allows_listing(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A bucket the migrations create public, and a permissive SELECT (or ALL) policy on
    `storage.objects` that holds for any of its files. A public bucket serves every file by
    its URL with no policy at all; a SELECT policy adds listing: anyone it applies to can
    enumerate every path in the bucket (other users' uploads, names with personal data).
    Supabase's advisor reports the same for SELECT policies; a `for all` policy is reported
    here too. Fix: drop the SELECT policy (public URLs keep working), or narrow it to the
    folders a user may list."""
    public = public_buckets(state)
    for policy in object_policies(state):
        if not policy.permissive or policy.using is None or "select" not in policy_commands(policy):
            continue
        named = buckets_named(policy.using)
        listed = sorted(public if named is None else set(public) & named)
        roles = true_beside_buckets(policy.using) & policy_roles(policy)
        if listed and roles:
            who = "anyone" if "anon" in roles else "every signed-in user"
            yield Violation(policy.origin,
                            f"policy {policy.name!r} ({policy.command}) on storage.objects lets {who} list every "
                            f"file of the public bucket{'s' if len(listed) > 1 else ''} {', '.join(listed)}; "
                            f"public URLs need no SELECT policy")


def casts_a_path_segment(node) -> ast.TypeCast | None:
    """A cast of a path segment (``(storage.foldername(name))[1]::uuid``)."""
    for child, _ in walk(node):
        if isinstance(child, ast.TypeCast):
            target = child.typeName.names[-1].sval
            if target in ("text", "varchar", "name", "bpchar"):
                continue
            if any(isinstance(inner, ast.FuncCall) and function_name(inner) in PATH_FUNCTIONS
                   for inner, _ in walk(child.arg)):
                return child
    return None


@rule("storage-folder-cast", Severity.WARNING, "policy on storage.objects that casts a path segment")
def storage_folder_cast(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A policy on `storage.objects` that casts a segment of the object's path to another
    type, e.g. `(storage.foldername(name))[1]::uuid = (select auth.uid())`. A path is
    whatever the client uploaded: one object whose folder is not a uuid (`avatars/me.png`,
    a path with a typo) makes the cast raise, and every request that evaluates the policy
    over that row fails, listings of the whole bucket included. Fix: compare as text,
    `(storage.foldername(name))[1] = (select auth.uid())::text`, or `= any (array(select
    id::text from ...))`."""
    for policy in object_policies(state):
        for clause, expression, _ in clauses(policy):
            cast = casts_a_path_segment(expression)
            if cast is not None:
                at = next((n.location for n, _ in walk(cast.arg) if isinstance(getattr(n, "location", None), int)
                           and n.location >= 0), cast.location)
                yield Violation(Origin(policy.origin.statement, at),
                                f"policy {policy.name!r} {clause}: {display_expression(cast)} casts a segment of "
                                f"the path, so one malformed path fails every request that reads it; compare as "
                                f"text instead")


def tests_owner(node) -> bool:
    """Whether the condition compares the object's uploader (``owner``) with the user."""
    for child, _ in walk(node):
        if (isinstance(child, ast.A_Expr) and child.kind == enums.A_Expr_Kind.AEXPR_OP
                and child.name[-1].sval == "="):
            sides = (unwrap(child.lexpr), unwrap(child.rexpr))
            if any(isinstance(s, ast.ColumnRef) and column_ref_name(s)[1] in OWNER_COLUMNS for s in sides) \
                    and any(_is_user(s) for s in sides):
                return True
    return False


def _is_user(node) -> bool:
    node = unwrap(node)
    while isinstance(node, ast.TypeCast):
        node = unwrap(node.arg)
    return auth_call(node) == "uid"


def workspace_folder(node) -> bool:
    """Whether the condition holds a path segment to something other than the user's own
    id: a workspace the user belongs to (``= any (array(select ...))``, ``in (select ...)``,
    a helper's answer)."""
    for child, _ in walk(node):
        if isinstance(child, ast.A_Expr) and child.name and child.name[-1].sval == "=":
            sides = [child.lexpr, child.rexpr]
        elif isinstance(child, ast.SubLink) and child.subLinkType == enums.SubLinkType.ANY_SUBLINK:
            sides = [child.testexpr, child.subselect]
        else:
            continue
        for path, other in (sides, sides[::-1]):
            if isinstance(path, ast.Node) and isinstance(other, ast.Node) and reads_path(path) \
                    and not reads_path(other) and not _is_user(other):
                return True
    return False


@rule("storage-owner-as-workspace", Severity.WARNING, "policy on storage.objects that grants by uploader in a workspace bucket")
def storage_owner_as_workspace(state: SchemaState, config: LintConfig, tenancy: Tenancy) -> Iterator[Violation]:
    """A permissive policy on `storage.objects` that lets a user in by the object's
    uploader (`owner = auth.uid()`) and reads no folder, in a bucket whose other policies
    hold files to a workspace's folder (a path segment tested against the workspaces the
    user belongs to). `owner` is whoever uploaded the
    file: after leaving the workspace, that user keeps reading, replacing or deleting it,
    and the workspace's other members are held to rules the uploader escapes. Fix: test
    the folder the other policies test (the workspace's membership) instead of, or beside,
    the uploader."""
    policies = [p for p in object_policies(state) if p.permissive]
    foldered: dict[str, list[str]] = {}
    for policy in policies:
        for _, expression, _ in clauses(policy):
            if workspace_folder(expression):
                for bucket in buckets_named(expression) or ():
                    foldered.setdefault(bucket, []).append(policy.name)
    for policy in policies:
        for clause, expression, commands in clauses(policy):
            if not tests_owner(expression) or reads_path(expression):
                continue
            shared = sorted((buckets_named(expression) or set(foldered)) & set(foldered))
            for bucket in shared:
                others = ", ".join(repr(n) for n in dict.fromkeys(foldered[bucket]) if n != policy.name)
                if others:
                    yield Violation(policy.origin,
                                    f"policy {policy.name!r} {clause}: files of bucket {bucket!r} belong to a "
                                    f"workspace's folder (policies {others} test it), but this one lets their uploader "
                                    f"{'/'.join(commands)} them by owner alone, also after leaving")
