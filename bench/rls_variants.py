"""The ways one request runs: as service_role without RLS, or as the persona under a shape.

Each shape has its own database, a copy of the same data: the shapes that only swap
policies are file copies of the generated database; a shape that changes the schema has its
own, loaded with the same rows after the change. Every shape is compared with ``no_rls``,
service_role on the generated schema: what the request costs a service today. A changed
schema also gets its own no-RLS variant (``no_rls_<shape>``), which shows what the change
itself costs (for writes: its trigger, keys and index) apart from the policies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from generator.testing.impersonate import SERVICE_ROLE_CLAIMS
from generator.testing.personas import Persona as TestPersona
from rls_data import Persona
from rls_shapes import SHAPES, Shape


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    database: str  # the shape whose database it runs on
    role: str
    baseline: str | None  # the no-RLS variant it is compared with; None for a baseline

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
    """A no-RLS variant per schema, then one variant per shape."""
    base = next(shape for shape in shapes if not shape.own_schema)
    baselines = [Variant("no_rls", "no RLS", base.name, "service_role", None)]
    for shape in shapes:
        if shape.own_schema:
            baselines.append(Variant(
                f"no_rls_{shape.name}", f"no RLS, {shape.name} schema", shape.name,
                "service_role", None,
            ))
    measured = [
        Variant(shape.name, shape.label, shape.name, "authenticated", "no_rls")
        for shape in shapes
    ]
    return (*baselines, *measured)
