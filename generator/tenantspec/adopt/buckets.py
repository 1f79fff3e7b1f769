"""Buckets adopted from hand-written migrations: a bucket whose row the migrations insert and
whose every policy on ``storage.objects`` says a rule in the specs' words (the user's own
folder, or a level's workspaces through the project's helpers), for signed-in users only,
becomes a bucket spec that replaces those policies with generated ones admitting the same.
Any other bucket stays as written, and a note says why: nothing is taken away."""

from __future__ import annotations

import io
import re

from pglast import ast
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from tenantspec.catalog.state import PUBLIC, Policy, SchemaState
from tenantspec.catalog.storage import (
    OBJECTS,
    OWN,
    bucket_inserts,
    buckets_named,
    folder_rule,
)
from tenantspec.errors import Problem
from tenantspec.spec import model

COMMANDS = model.COMMANDS


def bucket_settings(state: SchemaState) -> dict[str, dict | str]:
    """bucket id -> its settings as the last insert of its row says them (public, size limit,
    MIME types), or why they cannot be read (a value that is no constant)."""
    found: dict[str, dict | str] = {}
    for bucket_id, row, statement, _, _ in bucket_inserts(state):
        settings: dict | str = {}
        for column, value in row.items():
            if column not in ("public", "file_size_limit", "allowed_mime_types"):
                continue
            read = _constant(value)
            if read is _UNREAD:
                settings = f"its {column} is no constant ({statement.file.location(statement.start)})"
                break
            if read is not None:
                settings[column] = read
        found[bucket_id] = settings
    return found


_UNREAD = object()


def _constant(node):
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if node is None or (isinstance(node, ast.A_Const) and node.isnull):
        return None
    if isinstance(node, ast.A_Const):
        value = node.val
        for attribute in ("boolval", "sval", "ival"):
            if hasattr(value, attribute):
                return getattr(value, attribute)
    if isinstance(node, ast.A_ArrayExpr):
        items = [_constant(e) for e in node.elements or ()]
        return items if all(isinstance(i, str) for i in items) else _UNREAD
    return _UNREAD


def adopt_buckets(project: model.Project, state: SchemaState) -> tuple[dict[str, dict], list[Problem]]:
    """bucket id -> its spec entry, for the buckets that can be said; notes for the others."""
    table = state.tables.get(OBJECTS)
    policies = list(table.policies.values()) if table is not None else []
    entries, notes = {}, []
    for bucket_id, settings in sorted(bucket_settings(state).items()):
        if bucket_id in project.buckets:
            continue
        why, access = _read(project, bucket_id, policies)
        if why is None and not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", bucket_id):
            why = "its id has characters a spec's bucket id does not (lower-case letters, digits, _ . -)"
        if why is None and isinstance(settings, str):
            why = settings
        if why is not None:
            notes.append(Problem(None, f"storage bucket {bucket_id} stays as written: {why}"))
            continue
        rules = set(access.values())
        entry = {k: v for k, v in settings.items() if k != "public" or v}
        if rules == {OWN}:
            entry["folder"] = model.USER_FOLDER
        entry["access"] = access
        entry["replaces"] = sorted(p.name for p in policies if _names(p) == {bucket_id})
        entries[bucket_id] = entry
        notes.append(Problem(None, f"storage bucket {bucket_id}: adopted ({', '.join(f'{c}: {r}' for c, r in access.items())}); "
                                   f"its generated policies replace {', '.join(entry['replaces'])}"))
    return entries, notes


def _names(policy: Policy) -> set[str] | None:
    """The buckets every clause of a policy holds the object to (None: some clause any)."""
    named = [buckets_named(e) for e in (policy.using, policy.check) if e is not None]
    if not named or any(n is None for n in named):
        return None
    return set.union(*named)


def _read(project: model.Project, bucket_id: str, policies: list[Policy]) -> tuple[str | None, dict[str, str]]:
    """The bucket's access in the specs' words, or why it cannot be said."""
    access: dict[str, str] = {}
    for policy in policies:
        named = _names(policy)
        if named is None or bucket_id not in named:
            continue  # one for every bucket: it stays, and the bucket's spec adds to it
        if named != {bucket_id}:
            return f"policy {policy.name!r} holds files to {len(named)} buckets at once", {}
        if not policy.permissive:
            return f"policy {policy.name!r} is restrictive", {}
        if not set(policy.roles) <= {"authenticated", "anon", PUBLIC}:
            return f"policy {policy.name!r} applies to {', '.join(sorted(policy.roles))}", {}
        # a rule needs a user (the user's folder, or workspaces they belong to): anon, which has
        # none, passed no such policy, so the generated ones (to authenticated) take nothing away
        said = {folder_rule(e, bucket_id, project.helper_schema) for e in (policy.using, policy.check) if e is not None}
        if len(said) != 1 or None in said or (said != {OWN} and next(iter(said)) not in project.tenancy.levels):
            return f"policy {policy.name!r} says what no rule says (a rule is the user's own folder, or a level's " \
                   f"workspaces through {project.helper_schema}'s helpers)", {}
        rule = said.pop()
        for command in COMMANDS if policy.command == "all" else (policy.command,):
            if access.get(command, rule) != rule:
                return f"its {command} policies say different rules", {}
            access[command] = rule
    if not access:
        return "no policy names it", {}
    seen = access.get("select", model.NOBODY)
    for command in ("update", "delete"):
        rule = access.get(command, model.NOBODY)
        if rule != model.NOBODY and rule != seen and (
                OWN in (rule, seen) or seen == model.NOBODY
                or not set(project.tenancy.levels.get(rule, ())) <= set(project.tenancy.levels.get(seen, ()))):
            return f"its {command} reaches files its select does not show", {}
    return None, {c: access[c] for c in COMMANDS if c in access}


def declare_buckets(text: str, entries: dict[str, dict]) -> str:
    """The project file with ``entries`` added under ``storage.buckets``, its comments kept."""
    yaml = YAML(typ="rt")
    yaml.width = 4096
    data = yaml.load(text)
    buckets = data.setdefault("storage", CommentedMap()).setdefault("buckets", CommentedMap())
    for bucket_id, entry in entries.items():
        item = CommentedMap()
        for key, value in entry.items():
            if isinstance(value, dict):
                value = CommentedMap(value)
                value.fa.set_flow_style()
            elif isinstance(value, list):
                value = CommentedSeq(value)
                value.fa.set_flow_style()
            item[key] = value
        buckets[bucket_id] = item
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
