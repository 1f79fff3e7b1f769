"""Property: any sequence of requests by any personas does on the database exactly what the
intent model says -- same rows visible, same writes taking effect, same final state.

Each example is one transaction on the probe connection, identity switched per request as
PostgREST does, rolled back at the end. TENANTSPEC_HYPOTHESIS_EXAMPLES (default 200) sets the
number of examples.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attempts import attempt
from generator.testing.impersonate import ANON_CLAIMS, SERVICE_ROLE_CLAIMS, switch_identity, table_snapshot
from intent_model import ACTORS, Model, Op, plan

EXAMPLES = int(os.environ.get("TENANTSPEC_HYPOTHESIS_EXAMPLES", "200"))
TABLES = ("carrier_configs", "robot_jobs", "robot_job_items")

actors = st.sampled_from(ACTORS)
picks = st.integers(min_value=0, max_value=40)
ops = st.one_of(
    st.builds(Op, kind=st.just("select"), actor=actors, table=st.sampled_from(TABLES)),
    st.builds(Op, kind=st.sampled_from(["insert", "update", "delete", "move"]), actor=actors,
              table=st.sampled_from(TABLES), a=picks, b=picks),
    st.builds(Op, kind=st.just("repoint"), actor=actors, table=st.just("robot_job_items"), a=picks, b=picks),
)


def identity(world, actor: str) -> tuple[str, dict]:
    if actor == "anon":
        return "anon", ANON_CLAIMS
    if actor == "service_role":
        return "service_role", SERVICE_ROLE_CLAIMS
    return "authenticated", world.persona(actor).claims()


def database_state(conn) -> dict:
    """The rows the model tracks, read past RLS through the probe snapshot."""
    snap = {t: table_snapshot(conn, t) for t in TABLES}
    return {
        "carrier_configs": {(r["id"], r["workspace_id"], r["carrier"]) for r in snap["carrier_configs"]},
        "robot_jobs": {(r["id"], r["workspace_id"]) for r in snap["robot_jobs"]},
        "robot_job_items": {(r["id"], r["job_id"], r["order_id"]) for r in snap["robot_job_items"]},
    }


def model_state(model: Model) -> dict:
    ws = {k: str(v) for k, v in model.ws_ids.items()}
    return {
        "carrier_configs": {(str(i), ws[w], c) for i, (w, c) in model.configs.items()},
        "robot_jobs": {(str(i), ws[w]) for i, w in model.jobs.items()},
        "robot_job_items": {(str(i), str(j), str(o)) for i, (j, o) in model.items.items()},
    }


def test_requests_match_the_intent_model(impersonate, world):
    conn = impersonate.conn
    executed = {"examples": 0, "requests": 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(sequence=st.lists(ops, min_size=2, max_size=25))
    def run(sequence: list[Op]) -> None:
        model = Model.from_world(world)
        executed["examples"] += 1
        conn.rollback()
        try:
            for step, op in enumerate(sequence, start=1):
                expected = plan(model, op)
                if expected.statement is None:
                    continue
                role, claims = identity(world, op.actor)
                switch_identity(conn, role, claims)
                result = attempt(conn, expected.statement, expected.params)
                executed["requests"] += 1
                where = f"step {step}, {op!r}: {expected.statement} {expected.params}"
                if op.kind == "select":
                    seen = {row[0] for row in result.rows}
                    wanted = model.visible(op.actor, op.table)
                    assert seen == wanted, (
                        f"{where}: database shows {len(seen)} rows, intent {len(wanted)}; "
                        f"extra {sorted(map(str, seen - wanted))}, missing {sorted(map(str, wanted - seen))}"
                    )
                    continue
                changed = not result.failed and result.rowcount > 0
                assert changed == expected.changes, (
                    f"{where}: database {'applied it' if changed else 'refused (' + result.describe() + ')'}"
                    f", intent says it {'must apply' if expected.changes else 'must be refused'}"
                )
                if changed:
                    expected.apply()
            assert database_state(conn) == model_state(model), "final state differs from the intent model"
        finally:
            conn.rollback()

    run()
    print(f"{executed['examples']} examples, {executed['requests']} requests")
    assert executed["examples"] >= EXAMPLES and executed["requests"] > EXAMPLES
