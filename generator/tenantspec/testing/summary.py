"""One summary of the proof for the whole run, however many pytest-xdist workers ran it: which
tables under which privilege regimes, how many personas and probes, and which checks held.

Each process collects a `RunFacts`; a worker hands its facts to the controlling process as
plain data (``workeroutput``), which merges them with the outcomes of the proof's tests that
every report carries, and prints the summary once."""

from __future__ import annotations

from dataclasses import dataclass, field

# The proof's checks in words, by test function (tenantspec.testing.proof).
CHECKS = {
    "test_intent_agrees_with_the_specs": "the intent agrees with the specs",
    "test_migrations_hold_the_specs": "the migrations hold the specs",
    "test_row_level_security_is_on": "row level security on",
    "test_every_row_has_a_workspace": "every row has a workspace",
    "test_security_definer_functions_are_pinned_and_closed": "SECURITY DEFINER functions pinned and closed",
    "test_policies_name_their_roles_and_check_updates": "policies name their roles and check updates",
    "test_api_roles_hold_no_truncate_references_or_trigger": "no TRUNCATE, REFERENCES or TRIGGER for API roles",
    "test_grants_are_what_the_access_model_needs": "grants exactly as needed",
    "test_tables_have_the_specified_columns": "columns as specified",
    "test_allowed_values": "allowed values",
    "test_unique_keys": "unique keys",
    "test_references_and_their_on_delete": "references and ON DELETE",
    "test_triggers": "triggers",
    "test_realtime_publication": "realtime publication",
    "test_hand_written_conditions_are_exercised": "hand-written conditions false somewhere in the world",
    "test_conditions_the_intent_names_decide": "the conditions the intent names decide",
    "test_migrations_build_what_a_fresh_render_builds": "chain = fresh render",
    "test_probes_surface_as_expected": "every probe as the access model expects",
    "test_observed_access_matches_the_intent": "observed access = intent",
    "test_storage_requests_match_the_intent": "storage requests = intent",
    "test_case": "the project's case files",
    "test_random_requests_match_the_access_model": "random request sequences",
    "test_observe_access": "the access observed and written",
}


# What the proof's phases took in this process, by phase: "server start", "template (legacy)",
# "probe planning", "random sequences (2026)", ...
TIMINGS: dict[str, float] = {}


@dataclass
class RunFacts:
    """What one process proved with."""

    tables: set[str] = field(default_factory=set)
    personas: int = 0
    regimes: set[str] = field(default_factory=set)
    probes: int = 0
    probe_seconds: float = 0.0
    denials: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    shared: dict[str, str] = field(default_factory=dict)  # regime -> the regime whose probe run stands for it
    never_false: set[str] = field(default_factory=set)  # conditions of hand-written policies always true

    def to_data(self) -> dict:
        return {"tables": sorted(self.tables), "personas": self.personas, "regimes": sorted(self.regimes),
                "probes": self.probes, "probe_seconds": self.probe_seconds, "denials": self.denials,
                "timings": self.timings, "shared": self.shared, "never_false": sorted(self.never_false)}

    def merge(self, data: dict) -> None:
        self.tables |= set(data["tables"])
        self.personas = max(self.personas, data["personas"])
        self.regimes |= set(data["regimes"])
        self.probes += data["probes"]
        self.probe_seconds += data["probe_seconds"]
        for how, count in data["denials"].items():
            self.denials[how] = self.denials.get(how, 0) + count
        self.shared.update(data["shared"])
        self.never_false |= set(data["never_false"])
        for name, seconds in data["timings"].items():
            self.timings[name] = max(self.timings.get(name, 0.0), seconds)


def check_of(nodeid: str) -> str | None:
    """The proof check a test id belongs to, if any."""
    name = nodeid.split("::")[-1].split("[")[0]
    return name if name in CHECKS else None


def summary_lines(facts: RunFacts, outcomes: dict[str, dict[str, int]], workers: int) -> list[str]:
    """The summary; nothing when the run proved nothing."""
    if not facts.tables and not outcomes:
        return []
    lines = []
    if facts.tables:
        regimes = ", ".join(sorted(facts.regimes)) or "none"
        lines.append(f"tenantspec: proved {len(facts.tables)} table(s) ({', '.join(sorted(facts.tables))}) "
                     f"under privilege regime(s) {regimes}, with {facts.personas} personas")
    if facts.probes:
        rate = facts.probes / max(facts.probe_seconds, 1e-9)
        denials = ", ".join(f"{how}: {n}" for how, n in sorted(facts.denials.items()))
        lines.append(f"tenantspec: {facts.probes} probes in {facts.probe_seconds:.2f}s ({rate:.0f}/s); "
                     f"denials seen: {denials}")
    for regime, same in sorted(facts.shared.items()):
        lines.append(f"tenantspec: under {regime} the migrations leave every privilege, policy, function and "
                     f"trigger as under {same}: the probes and random sequences that ran under {same} stand for both")
    if facts.never_false:
        lines.append("tenantspec: conditions of hand-written policies the world never makes false, so the probes "
                     "never see them matter (name each in the intent's `only_when` and the proof makes it false, or "
                     "make it false in a case file; TENANTSPEC_STRICT=1 fails on them): " + "; ".join(sorted(facts.never_false)))
    held = [CHECKS[name] for name in CHECKS if name in outcomes and set(outcomes[name]) <= {"passed"}]
    failed = [CHECKS[name] for name in CHECKS if outcomes.get(name, {}).get("failed")]
    skipped = [CHECKS[name] for name in CHECKS if set(outcomes.get(name, {})) == {"skipped"}]
    if held:
        lines.append("tenantspec: held: " + "; ".join(held))
    if failed:
        lines.append("tenantspec: FAILED: " + "; ".join(failed))
    if skipped:
        lines.append("tenantspec: not applicable: " + "; ".join(skipped))
    if facts.timings:
        parts = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in facts.timings.items())
        lines.append(f"tenantspec: {parts}" + (f" (slowest of {workers} workers)" if workers > 1 else ""))
    return lines


def format_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """Rows under a header, in columns as wide as their longest value."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [header, tuple("-" * w for w in widths), *rows]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip() for r in lines)
