"""The workspaces table's owner column, as ``adopt --init`` finds it: the column naming a user
whom the policies (or the helpers they call) let in as the workspace's owner, where a text that
reads the workspaces table compares it with ``auth.uid()``."""

from __future__ import annotations

import re

from pglast import ast

from tenantspec.catalog.nodes import deparse, function_name, walk
from tenantspec.catalog.state import SchemaState

OWNER_NAMES = ("owner", "created_by", "creator", "admin_id")


def owner_column(state: SchemaState, chosen: dict, of_users: set) -> str | None:
    """The workspaces table's column naming a user the policies let in as the workspace's owner
    (``c.owner_user_id = auth.uid()`` in a helper the policies call, or in the policies of
    another table): a uuid column referencing a user, or named for an owner or creator."""
    tenant = state.tables[chosen["workspaces_key"]]
    users = {fk.columns[0] for fk in tenant.foreign_keys if len(fk.columns) == 1 and fk.target in of_users}
    candidates = [name for name, column in tenant.columns.items() if column.type_name == "uuid"
                  and (name in users or any(word in name for word in OWNER_NAMES)) and name != chosen["user_column"]]
    if not candidates:
        return None
    called = called_by_policies(state)
    texts = [deparse(expression) for key, table in state.tables.items() if key != chosen["workspaces_key"]
             for policy in table.policies.values() for expression in (policy.using, policy.check)
             if expression is not None]
    texts += [f.source for f in state.functions.values() if f.name in called and f.source]
    # only a text that reads the workspaces table can compare its column (another table's own
    # created_by = auth.uid() says nothing of the workspace's owner): its name or alias qualifies
    tenant = re.escape(chosen["workspaces_key"][1])
    reading = re.compile(rf"\b(?:from|join)\s+(?:\w+\.)?\"?{tenant}\"?(?:\s+(?:as\s+)?(?!where\b|join\b|on\b|inner\b"
                         rf"|left\b|right\b|cross\b|full\b|using\b)(\w+))?", re.IGNORECASE)
    counts = {}
    for name in candidates:
        count = 0
        for text in texts:
            if not (found := reading.findall(text)):
                continue
            qualifier = "|".join(re.escape(q) for q in {chosen["workspaces_key"][1], *filter(None, found)})
            column = rf"(?:(?:{qualifier})\.)?{re.escape(name)}"
            compared = re.compile(rf"(?<![\w.]){column}\b\s*=\s*\(?\s*(?:select\s+)?auth\.uid\(\)"
                                  rf"|auth\.uid\(\)\s*\)?\s*=\s*{column}\b", re.IGNORECASE)
            count += len(compared.findall(text))
        counts[name] = count
    best = max(candidates, key=lambda name: (counts[name], name in users))
    return best if counts[best] else None


def called_by_policies(state: SchemaState) -> set[str]:
    """The names of the functions the policies call (the helpers deciding access)."""
    return {function_name(node)[1] for table in state.tables.values() for policy in table.policies.values()
            for expression in (policy.using, policy.check) if expression is not None
            for node, _ in walk(expression) if isinstance(node, ast.FuncCall)}
