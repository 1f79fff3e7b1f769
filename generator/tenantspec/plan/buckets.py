"""The planner's Storage steps: each spec'd bucket's row of storage.buckets and its policies on
storage.objects, compared as tables' policies are; policies of buckets whose spec is gone are
dropped, their files and rows left as they are."""

from __future__ import annotations

import re

import pglast
from pglast import ast

from tenantspec.catalog.source import Statement
from tenantspec.catalog.state import Origin, SchemaState
from tenantspec.catalog.storage import OBJECTS, bucket_inserts, folder_rule
from tenantspec.plan.compare import policy_definition
from tenantspec.plan.steps import CREATE_POLICY, DROP_POLICY
from tenantspec.render.migrations import bucket_context
from tenantspec.render.quoting import ident

BUCKET_ROW = CREATE_POLICY - 1  # a bucket's row before its policies


def bucket_rows(state: SchemaState) -> dict[str, tuple[str, Statement]]:
    """bucket id -> (the last statement inserting its row, as pglast prints it, and that
    statement), for ``insert into storage.buckets (...) values (...)``."""
    found: dict[str, tuple[str, Statement]] = {}
    for bucket_id, _, statement, node, values in bucket_inserts(state):
        one = ast.InsertStmt(relation=node.relation, cols=node.cols, selectStmt=ast.SelectStmt(valuesLists=(values,)),
                             onConflictClause=node.onConflictClause)
        found[bucket_id] = (pglast.stream.RawStream()(one), statement)
    return found


class BucketSteps:
    """Bucket steps of the ``Planner``."""

    def buckets(self) -> None:
        current, wanted = self.cur.tables.get(OBJECTS), self.want.tables.get(OBJECTS)
        want = {n: policy_definition(p) for n, p in (wanted.policies.items() if wanted else ())}
        contexts = {bucket.id: bucket_context(self.project, bucket) for bucket in self.project.buckets.values()}
        by_name = {policy["name"]: policy for context in contexts.values() for policy in context["policies"]}
        replaced = {name for bucket in self.project.buckets.values() for name in bucket.replaces}
        have = {n: policy_definition(p) for n, p in (current.policies.items() if current else ())
                if n in want or n in replaced or self.created_by_tenantspec(p.origin)}
        for name, definition in have.items():
            if want.get(name) != definition:
                what = "replaced" if name in want else "replaced by its bucket's generated policies" \
                    if name in replaced else "removed: its bucket's spec no longer lets anyone"
                self.add(DROP_POLICY, f"storage: drop policy {name} ({what})",
                         [self.sql.drop_policy(ident(name), "storage.objects")], label=("storage", "policies"))
        rows_have, rows_want = bucket_rows(self.cur), bucket_rows(self.want)
        for bucket_id, context in contexts.items():
            text, _ = rows_want[bucket_id]
            if bucket_id not in rows_have:
                self.add(BUCKET_ROW, f"storage: create bucket {bucket_id}", [self.sql.bucket_row(context)],
                         label=("create", _label(bucket_id)))
            elif rows_have[bucket_id][0] != text:
                self.add(BUCKET_ROW, f"storage: bucket {bucket_id} settings restated (public, size limit, MIME types)",
                         [self.sql.bucket_row(context)], label=("alter", _label(bucket_id)))
        for name, definition in want.items():
            if have.get(name) != definition and ident(name) in by_name:
                policy = by_name[ident(name)]
                self.add(CREATE_POLICY, f"storage: policy {name} ({policy['command']})",
                         [self.sql.create_policy(policy, "storage.objects")], label=("storage", "policies"))
        for bucket_id, (_, statement) in sorted(rows_have.items()):
            if bucket_id not in contexts and self.created_by_tenantspec(Origin(statement)):
                self.notes.append(f"bucket {bucket_id} has no spec any more: its policies go, its row and files stay "
                                  f"(delete them in the dashboard or with the Storage API)")


def _label(bucket_id: str) -> str:
    """A bucket's id as a migration file's name has it: ``bucket_shipping_guides``."""
    return "bucket_" + re.sub(r"[^a-z0-9_]+", "_", bucket_id.lower()).strip("_")


# -- who may do what with a bucket's objects, for the review ------------------------------------

def bucket_rules(state: SchemaState, bucket_id: str, helper_schema: str, replaced: tuple[str, ...] = ()) -> dict[str, str]:
    """command -> rule of the bucket's policies in ``state`` in the specs' words: its generated
    ones (``<bucket>_<command>``) and the hand-written ones its spec replaces; ``unknown`` when
    one says what no rule says; a command without one is nobody's."""
    table = state.tables.get(OBJECTS)
    rules: dict[str, str] = {}
    for policy in table.policies.values() if table is not None else ():
        generated = policy.name in {f"{bucket_id}_{c}" for c in ("select", "insert", "update", "delete")}
        if not generated and policy.name not in replaced:
            continue
        commands = ("select", "insert", "update", "delete") if policy.command == "all" else (policy.command,)
        said = {folder_rule(e, bucket_id, helper_schema) for e in (policy.using, policy.check) if e is not None}
        rule = said.pop() if len(said) == 1 and None not in said else "unknown"
        for command in commands:
            rules[command] = rule if rules.get(command, rule) == rule else "unknown"
    return rules
