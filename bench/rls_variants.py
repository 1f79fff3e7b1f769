"""The ways one request runs: as service_role without RLS, or as the persona under a shape.

Each shape has its own database, a copy of the same data. Every shape is compared with
``no_rls``: service_role on the generated schema, sending the request with an explicit
filter on the item's own workspace_id (what a service sends today). Every other schema gets
its own no-RLS variant (``no_rls_<schema>``), which sends the request a service would send
there (on the parent-join schema: the workspace filter through the job) and shows what the
schema itself costs or saves (for writes: the trigger, keys and index it has or lacks) apart
from the policies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tenantspec.testing.impersonate import SERVICE_ROLE_CLAIMS
from tenantspec.testing.personas import Persona as TestPersona
from rls_data import Persona
from rls_shapes import SHAPES, Shape, base_shape


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    database: str  # the shape whose database it runs on
    role: str
    baseline: str | None  # the no-RLS variant it is compared with; None for a baseline
    carried: bool = True  # its schema gives robot_job_items a workspace_id of its own

    @property
    def uses_service_sql(self) -> bool:
        return self.role == "service_role"

    def claims(self, persona: Persona) -> Mapping:
        """The JWT claims PostgREST would put in request.jwt.claims."""
        if self.role == "service_role":
            return SERVICE_ROLE_CLAIMS
        return user_claims(persona.user_id, persona.email)


def user_claims(user_id, email: str) -> Mapping:
    return TestPersona(name="bench_agent", user_id=user_id, email=email).claims()


def variants_for(shapes: tuple[Shape, ...] = SHAPES) -> tuple[Variant, ...]:
    """A no-RLS variant per schema (the generated one first), then one variant per shape."""
    base = base_shape(shapes)
    baselines = [Variant("no_rls", "no RLS", base.name, "service_role", None)]
    seen = {base.schema.name}
    for shape in shapes:
        if shape.schema.name not in seen:
            seen.add(shape.schema.name)
            baselines.append(Variant(
                f"no_rls_{shape.schema.name}", f"no RLS, {shape.schema.label} schema",
                shape.name, "service_role", None, carried=shape.schema.carried,
            ))
    measured = [
        Variant(shape.name, shape.label, shape.name, "authenticated", "no_rls",
                carried=shape.schema.carried)
        for shape in shapes
    ]
    return (*baselines, *measured)
