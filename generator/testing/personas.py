"""Who the tests act as, and the rows they act on.

Two workspaces, A and B, each with an owner, an admin and an agent; a signed-in user with no
membership; anon and service_role need no user. Ids are fixed (uuid5 of a name), so a failure
names the same rows on every run. `seed_world` writes the rows as the migrating role, before
the template database is cloned for each test.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import psycopg

_NAMESPACE = uuid.UUID("6f1c9a43-3f0e-4c1b-9d59-2b7f4c3e8a10")

WORKSPACES = ("A", "B")
MEMBER_ROLES = ("owner", "admin", "agent")


def fixed_id(name: str) -> uuid.UUID:
    """A stable uuid for a named test row."""
    return uuid.uuid5(_NAMESPACE, name)


@dataclass(frozen=True)
class Persona:
    """A signed-in user; `workspace`/`member_role` are None for the user with no membership."""

    name: str
    user_id: uuid.UUID
    email: str
    workspace: str | None = None
    member_role: str | None = None

    def claims(self) -> dict:
        """The JWT claims PostgREST would put in request.jwt.claims for this user."""
        return {
            "aud": "authenticated",
            "sub": str(self.user_id),
            "role": "authenticated",
            "email": self.email,
            "phone": "",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {},
            "aal": "aal1",
            "is_anonymous": False,
            "iat": 1_780_000_000,
            "exp": 4_102_444_800,
        }

    def is_member_of(self, workspace: str) -> bool:
        return self.workspace == workspace

    def is_admin_of(self, workspace: str) -> bool:
        return self.workspace == workspace and self.member_role in ("owner", "admin")


def _persona(workspace: str | None, role: str | None) -> Persona:
    name = f"{role}_{workspace}" if workspace else "outsider"
    return Persona(
        name=name,
        user_id=fixed_id(f"user:{name}"),
        email=f"{name.lower()}@example.test",
        workspace=workspace,
        member_role=role,
    )


@dataclass(frozen=True)
class WorkspaceRows:
    """The seeded rows of one workspace, by kind."""

    workspace_id: uuid.UUID
    orders: tuple[uuid.UUID, ...]
    carrier_configs: tuple[uuid.UUID, ...]
    robot_jobs: tuple[uuid.UUID, ...]
    # (item id, job id, order id)
    robot_job_items: tuple[tuple[uuid.UUID, uuid.UUID, uuid.UUID], ...]
    # an order of this workspace that no seeded item uses
    spare_order: uuid.UUID = field(default=None)

    def ids(self, table: str) -> tuple[uuid.UUID, ...]:
        if table == "robot_job_items":
            return tuple(item for item, _job, _order in self.robot_job_items)
        return getattr(self, table)


CONFIG_CARRIERS = ("coordinadora", "servientrega")


def _workspace_rows(ws: str) -> WorkspaceRows:
    orders = tuple(fixed_id(f"order:{ws}:{n}") for n in range(1, 5))
    jobs = tuple(fixed_id(f"job:{ws}:{n}") for n in range(1, 3))
    items = (
        (fixed_id(f"item:{ws}:1"), jobs[0], orders[0]),
        (fixed_id(f"item:{ws}:2"), jobs[0], orders[1]),
        (fixed_id(f"item:{ws}:3"), jobs[1], orders[2]),
    )
    return WorkspaceRows(
        workspace_id=fixed_id(f"workspace:{ws}"),
        orders=orders,
        carrier_configs=tuple(fixed_id(f"carrier_config:{ws}:{c}") for c in CONFIG_CARRIERS),
        robot_jobs=jobs,
        robot_job_items=items,
        spare_order=orders[3],
    )


@dataclass(frozen=True)
class World:
    """Everything seeded: personas by name and rows by workspace."""

    personas: dict[str, Persona]
    rows: dict[str, WorkspaceRows]

    def persona(self, name: str) -> Persona:
        try:
            return self.personas[name]
        except KeyError:
            raise KeyError(
                f"No persona {name!r}; known: {', '.join(sorted(self.personas))}"
            ) from None

    def members(self, workspace: str) -> list[Persona]:
        return [p for p in self.personas.values() if p.workspace == workspace]


def build_world() -> World:
    personas = {}
    for ws in WORKSPACES:
        for role in MEMBER_ROLES:
            p = _persona(ws, role)
            personas[p.name] = p
    outsider = _persona(None, None)
    personas[outsider.name] = outsider
    return World(personas=personas, rows={ws: _workspace_rows(ws) for ws in WORKSPACES})


WORLD = build_world()


def seed_world(conn: psycopg.Connection, world: World = WORLD) -> None:
    """Insert users, workspaces, memberships, orders and rows of the three tables."""
    for p in world.personas.values():
        conn.execute(
            "insert into auth.users (id, email) values (%s, %s)", (p.user_id, p.email)
        )
    for ws in WORKSPACES:
        rows = world.rows[ws]
        owner = world.persona(f"owner_{ws}")
        conn.execute(
            "insert into public.workspaces (id, name, slug, owner_id) values (%s, %s, %s, %s)",
            (rows.workspace_id, f"Workspace {ws}", f"workspace-{ws.lower()}", owner.user_id),
        )
        for p in world.members(ws):
            conn.execute(
                "insert into public.workspace_members (workspace_id, user_id, role) "
                "values (%s, %s, %s)",
                (rows.workspace_id, p.user_id, p.member_role),
            )
        for n, order in enumerate(rows.orders, start=1):
            conn.execute(
                "insert into public.orders (id, workspace_id, tracking_number) "
                "values (%s, %s, %s)",
                (order, rows.workspace_id, f"{ws}-TRK-{n}"),
            )
        for config, carrier in zip(rows.carrier_configs, CONFIG_CARRIERS):
            conn.execute(
                "insert into public.carrier_configs (id, workspace_id, carrier, portal_username) "
                "values (%s, %s, %s, %s)",
                (config, rows.workspace_id, carrier, f"{ws.lower()}-{carrier}"),
            )
        for n, job in enumerate(rows.robot_jobs, start=1):
            conn.execute(
                "insert into public.robot_jobs (id, workspace_id, idempotency_key, total_items) "
                "values (%s, %s, %s, %s)",
                (job, rows.workspace_id, f"{ws.lower()}-batch-{n}", 0),
            )
        for item, job, order in rows.robot_job_items:
            conn.execute(
                "insert into public.robot_job_items (id, job_id, order_id) values (%s, %s, %s)",
                (item, job, order),
            )
