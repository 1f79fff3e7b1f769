"""A schema state reduced to what a database holds, for telling two states apart.

Two folders of migrations build the same schema when their replayed states have the same
fingerprint: tables with their columns, constraints, indexes, triggers, row-level security,
policies and grants; functions with their settings, bodies and EXECUTE grants; schemas'
grants; publications; views. Where each object came from (its origin) takes no part.
"""

from __future__ import annotations

from tenantspec.catalog.nodes import deparse, normalized
from tenantspec.catalog.state import SchemaState

_PRINTED: dict[tuple[int, bool], tuple[object, str]] = {}  # (id, normalized) -> (node, text); the node kept alive


def _printed(node, normalize: bool) -> str:
    """``node`` as SQL, printed once per node: states replayed from the same parsed files (the
    mutants of one folder) share the nodes of every statement but one."""
    found = _PRINTED.get((id(node), normalize))
    if found is not None and found[0] is node:
        return found[1]
    if len(_PRINTED) > 100_000:
        _PRINTED.clear()
    text = deparse(normalized(node) if normalize else node)
    _PRINTED[(id(node), normalize)] = (node, text)
    return text


def _text(node) -> str | None:
    return None if node is None else _printed(node, True)


def _grants(privileges: dict) -> tuple:
    return tuple(sorted((role, tuple(sorted(held))) for role, held in privileges.items() if held))


def fingerprint(state: SchemaState) -> tuple:
    tables = []
    for key, table in sorted(state.tables.items()):
        if table.external and not table.policies and not table.privileges:
            continue
        tables.append((
            key,
            table.external,
            tuple((c.name, _printed(c.type, False) if c.type is not None else c.type_name, c.not_null, c.not_null_name, _text(c.default),
                   c.comment, c.identity, _text(c.generated)) for c in table.columns.values()),
            tuple(sorted((fk.name, fk.columns, fk.target, fk.target_columns, fk.on_delete, fk.on_update)
                         for fk in table.foreign_keys)),
            tuple(sorted((check.name, _text(check.expression)) for check in table.checks)),
            tuple(sorted((ix.name, ix.columns, ix.unique, ix.predicate, ix.method, ix.constraint)
                         for ix in table.indexes)),
            tuple(sorted((t.name, t.timing, t.events, t.columns, t.for_each_row, t.function, _text(t.when),
                          t.arguments) for t in table.triggers.values())),
            (table.rls, table.force_rls, table.comment),
            tuple(sorted((p.name, p.command, p.permissive, tuple(sorted(p.roles)), _text(p.using), _text(p.check))
                         for p in table.policies.values())),
            _grants(table.privileges),
        ))
    functions = tuple(sorted(
        (key, f.returns, f.language, f.volatility, f.security_definer, f.search_path, f.body, _grants(f.privileges))
        for key, f in state.functions.items()))
    schemas = tuple(sorted((name, _grants(schema.privileges)) for name, schema in state.schemas.items()))
    publications = tuple(sorted((name, tuple(sorted(members))) for name, members in state.publications.items()))
    views = tuple(sorted((key, view.security_invoker) for key, view in state.views.items()))
    types = tuple(sorted((key, tuple(enum.values)) for key, enum in state.enums.items()))
    return (tuple(tables), functions, schemas, publications, views, types)
