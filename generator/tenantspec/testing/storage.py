"""The proof on Storage: requests as the Storage API sends them (the user's role and JWT
against ``storage.objects``) for every spec'd bucket and persona: list and download (select),
upload (insert), replace (update), delete and move an object, in workspace A's folder and B's
(a user folder: the persona's own and another user's), the bucket's root, a folder forged
from A's id (``<A>-x/``), and a sibling bucket no policy names. Each answer is held to the
intent's bucket cells: a cell speaks for the folder of the workspace the persona's kind is
read on; root, forged folders and the sibling bucket are nobody's but service_role's."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import psycopg
from psycopg import sql

from tenantspec.render.matrix import bucket_key
from tenantspec.render.quoting import literal
from tenantspec.spec import model
from tenantspec.testing.conditions import refused
from tenantspec.testing.impersonate import attempt_as
from tenantspec.testing.intent import Intent
from tenantspec.testing.personas import WORKSPACES, Persona
from tenantspec.testing.world import World

SIBLING = "tenantspec-sibling"  # a bucket of the world's, which no spec'd policy may open


@dataclass(frozen=True)
class StorageProbe:
    bucket: str
    persona: Persona
    command: str  # select, insert, update, delete, or move (update the name into another folder)
    place: str  # A, B (a user folder: own, other), root, forged, sibling
    expected: bool  # let through
    statement: sql.Composed
    params: tuple = ()

    def describe(self) -> str:
        return f"bucket {self.bucket}: {self.persona.name}: {self.command} in {self.place}"


def folders(world: World, bucket: model.Bucket, persona: Persona) -> dict[str, str | None]:
    """place -> the first folder of an object there (None: the bucket's root)."""
    if bucket.folder == model.USER_FOLDER:
        own = str(persona.user_id) if persona.user_id else None
        other = next(str(p.user_id) for p in world.personas.values() if p.user_id and p.user_id != persona.user_id)
        places = {"own": own, "other": other}
    else:
        places = {ws: str(world.workspace_ids[ws]) for ws in WORKSPACES}
    anchor = next(v for v in places.values() if v) if any(places.values()) else str(world.workspace_ids["A"])
    return {**places, "root": None, "forged": f"{anchor}-x"}


def object_name(folder: str | None, file: str) -> str:
    return f"{folder}/{file}" if folder else file


def seeded_file(bucket_id: str) -> str:
    """The file seeded in every place of a bucket: named for the bucket, so that files moved
    between buckets never collide (``storage.objects`` is unique by bucket and name)."""
    return f"{bucket_id}.pdf"


def seed_statements(world: World, buckets: list[model.Bucket]) -> list[tuple[str, tuple]]:
    """As the superuser: the sibling bucket, and an object in every place of every bucket for
    every persona's folders (a user folder: each user's), and the same in the sibling."""
    statements = [("insert into storage.buckets (id, name) values (%s, %s) on conflict (id) do nothing",
                   (SIBLING, SIBLING))]
    names: set[tuple[str, str]] = set()
    for bucket in buckets:
        for persona in world.personas.values():
            for folder in folders(world, bucket, persona).values():
                names.add((bucket.id, object_name(folder, seeded_file(bucket.id))))
                names.add((SIBLING, object_name(folder, seeded_file(SIBLING))))
    statements += [("insert into storage.objects (bucket_id, name) values (%s, %s) on conflict do nothing", name)
                   for name in sorted(names)]
    return statements


def expected_in(intent: Intent, bucket: model.Bucket, persona: Persona, command: str, place: str) -> bool:
    """What the intent lets ``persona`` do there (``move``: update, and the same into B)."""
    if persona.db_role == "service_role":
        return True
    if place in ("root", "forged", "sibling"):
        return False
    if bucket.folder == model.USER_FOLDER:
        cell = intent.cells.get((bucket_key(bucket.id), command, persona.kind_in("A")))
        return cell == "allowed" or (cell == "own" and place == "own" and persona.user_id is not None)
    return intent.cells.get((bucket_key(bucket.id), command, persona.kind_in(place))) == "allowed"


def plan_storage(world: World, intent: Intent, buckets: list[model.Bucket]) -> list[StorageProbe]:
    counter = itertools.count(1)
    probes = []
    for bucket in buckets:
        for persona in world.personas.values():
            places = folders(world, bucket, persona)
            for place, folder in places.items():
                for target, where in ((bucket.id, place), (SIBLING, "sibling")):
                    if where == "sibling" and place not in ("A", "own"):
                        continue
                    name = object_name(folder, seeded_file(target))
                    probes += [
                        StorageProbe(bucket.id, persona, "select", where,
                                     expected_in(intent, bucket, persona, "select", where),
                                     sql.SQL("select id from storage.objects where bucket_id = %s and name = %s"),
                                     (target, name)),
                        StorageProbe(bucket.id, persona, "insert", where,
                                     expected_in(intent, bucket, persona, "insert", where),
                                     sql.SQL("insert into storage.objects (bucket_id, name, owner, owner_id) "
                                             "values (%s, %s, auth.uid(), auth.uid()::text)"),
                                     (target, object_name(folder, f"upload-{next(counter)}.pdf"))),
                        StorageProbe(bucket.id, persona, "update", where,
                                     expected_in(intent, bucket, persona, "update", where),
                                     sql.SQL("update storage.objects set metadata = '{\"probe\": true}' "
                                             "where bucket_id = %s and name = %s"), (target, name)),
                        StorageProbe(bucket.id, persona, "delete", where,
                                     expected_in(intent, bucket, persona, "delete", where),
                                     sql.SQL("delete from storage.objects where bucket_id = %s and name = %s"),
                                     (target, name)),
                    ]
            first, second = list(places)[:2]  # A and B, or own and other
            probes.append(StorageProbe(
                bucket.id, persona, "move", f"{first} to {second}",
                expected_in(intent, bucket, persona, "update", first)
                and expected_in(intent, bucket, persona, "update", second),
                sql.SQL("update storage.objects set name = %s where bucket_id = %s and name = %s"),
                (object_name(places[second], f"moved-{next(counter)}.pdf"), bucket.id,
                 object_name(places[first], seeded_file(bucket.id)))))
            probes.append(StorageProbe(
                bucket.id, persona, "move", f"{first} to the sibling bucket", persona.db_role == "service_role",
                sql.SQL("update storage.objects set bucket_id = %s where bucket_id = %s and name = %s"),
                (SIBLING, bucket.id, object_name(places[first], seeded_file(bucket.id)))))
    return probes


# Requests with no WHERE: only the rows the persona may update or delete may change, and no
# file may leave its bucket or be taken into another. One bucket at a time, the others' files
# set aside (an update must pass some policy's WITH CHECK for every row it reaches, so one
# bucket's files would shield another's); Storage's guard on direct deletes is lifted for it.
SET_ASIDE = "delete from storage.objects where bucket_id not in ({}, {})"
ALLOW_DELETE = "select set_config('storage.allow_delete_query', 'true', true)"
# A file's bucket is the end of its seeded name: one elsewhere was moved there.
MOVED = "select bucket_id, name from storage.objects where name not like '%' || bucket_id || '.pdf'"


@dataclass(frozen=True)
class EveryRow:
    """A request with no WHERE as ``persona``, after ``setup`` (as the session's own role), and
    ``check``: the rows it changed that it may not (none expected)."""

    bucket: str
    persona: Persona
    what: str
    setup: str
    request: str
    check: str

    def describe(self) -> str:
        return f"bucket {self.bucket}: {self.persona.name}: {self.what} with no WHERE"


def _rows(pairs) -> str:
    return "values " + ", ".join(f"({literal(b)}, {literal(n)})" for b, n in sorted(pairs)) if pairs else \
        "select null::text, null::text where false"


def plan_every_row(world: World, intent: Intent, buckets: list[model.Bucket]) -> list[EveryRow]:
    found = []
    for bucket in buckets:
        kept = {(b, n) for _, (b, n) in seed_statements(world, buckets)[1:] if b in (bucket.id, SIBLING)}
        setup = SET_ASIDE.format(literal(bucket.id), literal(SIBLING))
        for persona in world.personas.values():
            if persona.db_role == "service_role":
                continue
            allowed = {command: {(bucket.id, object_name(folder, seeded_file(bucket.id)))
                                 for place, folder in folders(world, bucket, persona).items()
                                 if expected_in(intent, bucket, persona, command, place)}
                       for command in ("update", "delete")}
            found += [
                EveryRow(bucket.id, persona, "update", setup,
                         "update storage.objects set metadata = jsonb_build_object('probe', true)",
                         f"select bucket_id, name from storage.objects where metadata ->> 'probe' = 'true' "
                         f"and (bucket_id, name) not in ({_rows(allowed['update'])})"),
                EveryRow(bucket.id, persona, "delete", setup, "delete from storage.objects",
                         f"select k.b, k.n from ({_rows(kept)}) as k (b, n) where not exists (select from "
                         f"storage.objects as o where o.bucket_id = k.b and o.name = k.n) and (k.b, k.n) not in "
                         f"({_rows(allowed['delete'])})"),
                EveryRow(bucket.id, persona, "a move out of the bucket", setup,
                         f"update storage.objects set bucket_id = {literal(SIBLING)}", MOVED),
                EveryRow(bucket.id, persona, "a move into the bucket", setup,
                         f"update storage.objects set bucket_id = {literal(bucket.id)}", MOVED),
            ]
    return found


def every_row_problems(conn: psycopg.Connection, world: World, intent: Intent,
                       buckets: list[model.Bucket]) -> tuple[int, list[str]]:
    """Each `EveryRow` in a savepoint of the superuser's transaction: what it changed that it
    may not. (With a WHERE, PostgreSQL shows UPDATE and DELETE only the rows SELECT policies
    let through; without one, their own USING alone decides.)"""
    problems = []
    checks = plan_every_row(world, intent, buckets)
    for check in checks:
        conn.execute("savepoint tenantspec_every_row")
        conn.execute(ALLOW_DELETE)
        conn.execute(check.setup)
        attempt_as(conn, check.persona.db_role, check.persona.claims(), sql.SQL(check.request))
        conn.execute("reset role")
        wrong = sorted(tuple(row) for row in conn.execute(check.check))
        conn.execute("rollback to savepoint tenantspec_every_row")
        if wrong:
            shown = ", ".join(f"{b}/{n}" for b, n in wrong[:3]) + (", ..." if len(wrong) > 3 else "")
            problems.append(f"{check.describe()}: changed {len(wrong)} file(s) it may not: {shown}")
    return len(checks), problems


def seed_objects(conn: psycopg.Connection, world: World, buckets: list[model.Bucket]) -> None:
    for statement, params in seed_statements(world, buckets):
        conn.execute(statement, params)


def storage_problems(conn: psycopg.Connection, world: World, intent: Intent,
                     buckets: list[model.Bucket]) -> tuple[int, list[str]]:
    """Run every storage probe in the superuser's transaction (rolled back by the caller), each
    rolled back after; the number run, and the ones that differ from the intent."""
    seed_objects(conn, world, buckets)
    probes = plan_storage(world, intent, buckets)
    count, problems = every_row_problems(conn, world, intent, buckets)
    for probe in probes:
        persona = probe.persona
        result = attempt_as(conn, persona.db_role, persona.claims(), probe.statement, probe.params, undo=True)
        if refused(probe.command, result) == probe.expected:
            got = result.surface if result.failed else (
                f"{len(result.rows)} row(s) seen" if probe.command == "select" else f"{result.rowcount} row(s)")
            problems.append(f"{probe.describe()}: {'expected it let through' if probe.expected else 'expected a refusal'}, "
                            f"got {got}")
    return len(probes) + count, problems


def observed_buckets(conn: psycopg.Connection, world: World,
                     buckets: list[model.Bucket]) -> dict[tuple[str, str, str, str], tuple[str, str]]:
    """``(bucket:<id>, command, kind, workspace) -> (verdict, how)`` as the database answers
    the basic requests (`tenantspec prove --observe`): a workspace folder's cell on each
    workspace's folder; a user folder's, ``own`` where the persona's own folder lets it through
    and another user's does not. ``conn`` is the superuser's, rolled back by the caller."""
    seed_objects(conn, world, buckets)
    seen: dict[tuple[str, str, str, str], list[tuple[str, bool]]] = {}
    for probe in plan_storage(world, Intent("(observing)", (), {}), buckets):
        if probe.command == "move" or probe.place in ("root", "forged", "sibling"):
            continue
        persona = probe.persona
        result = attempt_as(conn, persona.db_role, persona.claims(), probe.statement, probe.params, undo=True)
        through = not refused(probe.command, result)
        bucket = world.project.buckets[probe.bucket]
        workspace = "A" if bucket.folder == model.USER_FOLDER else probe.place
        key = (bucket_key(bucket.id), probe.command, persona.kind_in(workspace), workspace)
        seen.setdefault(key, []).append((probe.place, through))
    cells = {}
    for key, answers in seen.items():
        own = {through for place, through in answers if place == "own"}
        other = {through for place, through in answers if place == "other"}
        through = {through for _, through in answers}
        if own == {True} and other == {False}:
            cells[key] = ("own", "the user's own folder only")
        elif through == {True}:
            cells[key] = ("allowed", "let through")
        elif through == {False}:
            cells[key] = ("denied", "refused (0 rows or error 42501)")
        else:
            cells[key] = ("partial", "some personas of the kind let through, others not")
    return cells
