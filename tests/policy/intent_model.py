"""A small pure-Python model of the intended access, for the property test.

It tracks which workspace every row belongs to (an item through its job) and answers, for each
operation by a persona, whether it may change anything and which rows a select shows. Unique
and foreign-key rules that decide an allowed write's fate are modelled too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from generator.testing.personas import CONFIG_CARRIERS, WORKSPACES, World, fixed_id

ACTORS = ("owner_A", "admin_A", "agent_A", "owner_B", "admin_B", "agent_B", "outsider", "anon", "service_role")
CARRIERS = CONFIG_CARRIERS + ("interrapidisimo",)


@dataclass(frozen=True)
class Op:
    """One request: `kind` on `table` by `actor`; `a`/`b` pick rows, workspaces or carriers."""

    kind: str  # select | insert | update | move | repoint | delete
    actor: str
    table: str
    a: int = 0
    b: int = 0

    def __repr__(self) -> str:
        return f"Op({self.kind} {self.table} by {self.actor}, a={self.a}, b={self.b})"


@dataclass
class Model:
    """The intended state: rows and the workspace each belongs to."""

    orders: dict[uuid.UUID, str]
    configs: dict[uuid.UUID, tuple[str, str]]  # id -> (workspace, carrier)
    jobs: dict[uuid.UUID, str]  # id -> workspace
    items: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]]  # id -> (job, order)
    ws_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    created: int = field(default=0)

    @classmethod
    def from_world(cls, world: World) -> Model:
        model = cls({}, {}, {}, {})
        for ws in WORKSPACES:
            rows = world.rows[ws]
            model.ws_ids[ws] = rows.workspace_id
            model.orders.update({o: ws for o in rows.orders})
            model.configs.update({c: (ws, carrier) for c, carrier in zip(rows.carrier_configs, CONFIG_CARRIERS)})
            model.jobs.update({j: ws for j in rows.robot_jobs})
            model.items.update({i: (j, o) for i, j, o in rows.robot_job_items})
        return model

    def new_id(self) -> uuid.UUID:
        self.created += 1
        return fixed_id(f"property:new:{self.created}")

    # -- who is who ---------------------------------------------------------------------------
    @staticmethod
    def member(actor: str, ws: str) -> bool:
        return actor.endswith(f"_{ws}")

    @staticmethod
    def admin(actor: str, ws: str) -> bool:
        return actor in (f"owner_{ws}", f"admin_{ws}")

    def item_ws(self, item: uuid.UUID) -> str:
        return self.jobs[self.items[item][0]]

    def item_consistent_for(self, actor: str, job: uuid.UUID, order: uuid.UUID) -> bool:
        """The items WITH CHECK: a member of the job's workspace, and the order in it too."""
        return self.member(actor, self.jobs[job]) and self.orders[order] == self.jobs[job]

    # -- picking rows -------------------------------------------------------------------------
    @staticmethod
    def pick(rows: dict, n: int):
        keys = sorted(rows, key=str)
        return keys[n % len(keys)] if keys else None

    def rows_of(self, table: str) -> dict:
        return {"carrier_configs": self.configs, "robot_jobs": self.jobs, "robot_job_items": self.items}[table]

    def visible(self, actor: str, table: str) -> set[uuid.UUID]:
        if actor == "service_role":
            return set(self.rows_of(table))
        if table == "carrier_configs":
            return {i for i, (ws, _) in self.configs.items() if self.member(actor, ws)}
        if table == "robot_jobs":
            return {i for i, ws in self.jobs.items() if self.member(actor, ws)}
        return {i for i in self.items if self.member(actor, self.item_ws(i))}


@dataclass(frozen=True)
class Plan:
    """What the model expects of one op, and the statement that carries it out."""

    statement: str | None  # None: nothing to do (no row to pick)
    params: tuple = ()
    changes: bool = False
    apply: object = None  # callable applying the change to the model


def plan(model: Model, op: Op) -> Plan:
    """Decide, from the intent alone, whether `op` may change anything, and how."""
    actor, table = op.actor, op.table
    service = actor == "service_role"
    if op.kind == "select":
        return Plan(f"select id from public.{table}", ())

    if op.kind == "insert":
        new = model.new_id()
        if table == "carrier_configs":
            ws, carrier = WORKSPACES[op.a % 2], CARRIERS[op.b % len(CARRIERS)]
            ok = (service or model.admin(actor, ws)) and (ws, carrier) not in model.configs.values()
            return Plan(
                "insert into public.carrier_configs (id, workspace_id, carrier) values (%s, %s, %s)",
                (new, model.ws_ids[ws], carrier), ok, lambda: model.configs.__setitem__(new, (ws, carrier)),
            )
        if table == "robot_jobs":
            ws = WORKSPACES[op.a % 2]
            ok = service or model.member(actor, ws)
            return Plan("insert into public.robot_jobs (id, workspace_id) values (%s, %s)", (new, model.ws_ids[ws]), ok,
                        lambda: model.jobs.__setitem__(new, ws))
        job, order = model.pick(model.jobs, op.a), model.pick(model.orders, op.b)
        if job is None:
            return Plan(None)
        ok = (service or model.item_consistent_for(actor, job, order)) and (job, order) not in model.items.values()
        return Plan("insert into public.robot_job_items (id, job_id, order_id) values (%s, %s, %s)",
                    (new, job, order), ok, lambda: model.items.__setitem__(new, (job, order)))

    row = model.pick(model.rows_of(table), op.a)
    if row is None:
        return Plan(None)

    if op.kind == "update":
        if table == "carrier_configs":
            ok = service or model.admin(actor, model.configs[row][0])
            change = "is_enabled = not is_enabled"
        elif table == "robot_jobs":
            ok = service or model.member(actor, model.jobs[row])
            change = "total_items = total_items + 1"
        else:
            job, order = model.items[row]
            ok = service or model.item_consistent_for(actor, job, order)
            change = "retry_count = retry_count + 1"
        return Plan(f"update public.{table} set {change} where id = %s", (row,), ok, lambda: None)

    if op.kind == "delete":
        if table == "carrier_configs":
            ok = service or model.admin(actor, model.configs[row][0])
            return Plan("delete from public.carrier_configs where id = %s", (row,), ok,
                        lambda: model.configs.pop(row))

        def drop_job():
            model.jobs.pop(row)
            for item in [i for i, (j, _) in model.items.items() if j == row]:
                model.items.pop(item)

        return Plan(f"delete from public.{table} where id = %s", (row,), service,
                    drop_job if table == "robot_jobs" else (lambda: model.items.pop(row)))

    if op.kind == "move" and table == "carrier_configs":
        old_ws, carrier = model.configs[row]
        new_ws = WORKSPACES[op.b % 2]
        taken = any(c == (new_ws, carrier) for i, c in model.configs.items() if i != row)
        # a row's workspace is fixed: only a "move" within its own workspace can pass
        ok = (service or (model.admin(actor, old_ws) and model.admin(actor, new_ws))) and not taken \
            and new_ws == old_ws
        return Plan("update public.carrier_configs set workspace_id = %s where id = %s", (model.ws_ids[new_ws], row), ok,
                    lambda: model.configs.__setitem__(row, (new_ws, carrier)))

    if op.kind == "move" and table == "robot_jobs":
        new_ws = WORKSPACES[op.b % 2]
        ok = (service or (model.member(actor, model.jobs[row]) and model.member(actor, new_ws))) \
            and new_ws == model.jobs[row]
        return Plan("update public.robot_jobs set workspace_id = %s where id = %s", (model.ws_ids[new_ws], row), ok,
                    lambda: model.jobs.__setitem__(row, new_ws))

    job, order = model.items[row]
    if op.kind == "move":  # the item to another job
        new_job, new_order = model.pick(model.jobs, op.b), order
        column, value = "job_id", new_job
    else:  # repoint: the item at another order
        new_job, new_order = job, model.pick(model.orders, op.b)
        column, value = "order_id", new_order
    taken = any(v == (new_job, new_order) for i, v in model.items.items() if i != row)
    using = service or model.member(actor, model.jobs[job])
    check = service or model.item_consistent_for(actor, new_job, new_order)
    fixed = model.jobs[new_job] == model.jobs[job]  # an item's workspace (its job's) is fixed
    return Plan(f"update public.robot_job_items set {column} = %s where id = %s", (value, row),
                using and check and not taken and fixed, lambda: model.items.__setitem__(row, (new_job, new_order)))
