"""The planner's access steps: policies, grants and the realtime publication."""

from __future__ import annotations

from tenantspec.catalog.nodes import columns_read
from tenantspec.catalog.state import LEGACY, PUBLIC, RESTRICTED, Table
from tenantspec.plan.compare import grants_by_role, policy_definition
from tenantspec.plan.steps import (
    CREATE_POLICY,
    DROP_POLICY,
    GRANTEES,
    GRANTS,
    JOIN_PUBLICATION,
    LEAVE_PUBLICATION,
    REALTIME,
    REGIMES,
)
from tenantspec.render.migrations import publication_context
from tenantspec.render.predicates import grants_of, policies_of
from tenantspec.render.quoting import ident, literal, qualified
from tenantspec.spec import model


class AccessSteps:
    """Policy, grant and publication steps of the ``Planner``."""


    def policies(self, spec: model.Table, current: Table, wanted: Table, renames: dict[str, str]) -> None:
        name, qname = spec.name.name, qualified(spec.name)
        retyped = self.retyped.get(name, set())
        have = {}
        for policy_name, policy in current.policies.items():
            using = self.renamed(policy.using, name, renames, top_level_only=True)
            check = self.renamed(policy.check, name, renames, top_level_only=True)
            reads = columns_read(using) | columns_read(check) if retyped else set()
            # a column's type cannot change under a policy that reads it
            have[policy_name] = None if reads & retyped else policy_definition(policy, using, check)
        want = {n: policy_definition(p) for n, p in wanted.policies.items()}
        generated = {p["name"]: p for p in policies_of(self.project, spec)}
        for policy_name, definition in have.items():
            if want.get(policy_name) != definition:
                what = "replaced" if policy_name in want else "removed"
                if PUBLIC in current.policies[policy_name].roles:
                    what += "; it applied to PUBLIC, anon included"
                self.add(DROP_POLICY, f"{name}: drop policy {policy_name} ({what})",
                         [self.sql.drop_policy(ident(policy_name), qname)], name, label=("policies", name))
        for policy_name, definition in want.items():
            if have.get(policy_name) != definition:
                policy = generated[ident(policy_name)]
                command = policy["command"]
                rule = spec.rule(command) if policy_name == f"{spec.name.name}_{command}" \
                    and command in model.COMMANDS else "hand-written"
                self.add(CREATE_POLICY, f"{name}: policy {policy_name} ({command}, {rule})",
                         [self.sql.create_policy(policy, qname)], name, label=("policies", name))

    def grants(self, spec: model.Table) -> None:
        """Restate the table's grants whole when they differ under either privilege regime."""
        key = (spec.name.schema, spec.name.name)
        changes = []
        for regime in REGIMES:
            have = grants_by_role(self.current[regime].tables.get(key))
            want = grants_by_role(self.desired[regime].tables.get(key))
            for role in GRANTEES:
                gained, lost = sorted(want[role] - have[role]), sorted(have[role] - want[role])
                for verb, privileges in (("gains", gained), ("loses", lost)):
                    if privileges:
                        change = f"{'PUBLIC' if role == 'public' else role} {verb} {', '.join(privileges)}"
                        if change not in [c for c, _ in changes]:
                            changes.append((change, regime))
                        else:
                            changes = [(c, None if c == change else r) for c, r in changes]
        if not changes:
            return
        regime_words = {LEGACY: " (projects with the legacy default privileges)",
                        RESTRICTED: " (projects with the 2026 default privileges)", None: ""}
        summary = f"{spec.name.name}: grants restated: " + "; ".join(c + regime_words[r] for c, r in changes)
        self.add(GRANTS, summary, [self.sql.grants(qualified(spec.name), grants_of(spec))], spec.name.name,
                 label=("grants", spec.name.name))

    def publication(self, spec: model.Table) -> None:
        key = (spec.name.schema, spec.name.name)
        inside = key in self.cur.publications.get(REALTIME, [])
        context = {"qualified_name": qualified(spec.name), "schema_literal": literal(spec.name.schema),
                   "name_literal": literal(spec.name.name)}
        if spec.realtime and not inside:
            self.add(JOIN_PUBLICATION, f"{spec.name.name}: realtime on",
                     [self.sql.join_publication(publication_context(), context)], spec.name.name,
                     label=("realtime", spec.name.name))
        elif inside and not spec.realtime:
            self.add(LEAVE_PUBLICATION, f"{spec.name.name}: realtime off",
                     [self.sql.leave_publication(publication_context(), context)], spec.name.name,
                     label=("realtime", spec.name.name))
