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
from tenantspec.spec import model
from tenantspec.testing.impersonate import Attempt, attempt_as
from tenantspec.testing.intent import Intent
from tenantspec.testing.personas import WORKSPACES, Persona
from tenantspec.testing.world import World

SIBLING = "tenantspec-sibling"  # a bucket of the world's, which no spec'd policy may open
FILE = "seed.pdf"


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


def object_name(folder: str | None, file: str = FILE) -> str:
    return f"{folder}/{file}" if folder else file


def seed_objects(conn: psycopg.Connection, world: World, buckets: list[model.Bucket]) -> None:
    """As the superuser: the sibling bucket, and an object in every place of every bucket for
    every persona's folders (a user folder: each user's)."""
    conn.execute("insert into storage.buckets (id, name) values (%s, %s) on conflict (id) do nothing",
                 (SIBLING, SIBLING))
    names: set[tuple[str, str]] = set()
    for bucket in buckets:
        for persona in world.personas.values():
            for folder in folders(world, bucket, persona).values():
                names.add((bucket.id, object_name(folder)))
                names.add((SIBLING, object_name(folder)))
    for bucket_id, name in sorted(names):
        conn.execute("insert into storage.objects (bucket_id, name) values (%s, %s) on conflict do nothing",
                     (bucket_id, name))


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
                    name = object_name(folder)
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
                (object_name(places[second], f"moved-{next(counter)}.pdf"), bucket.id, object_name(places[first]))))
    return probes


def let_through(command: str, result: Attempt) -> bool:
    if result.failed:
        return (result.sqlstate or "").startswith("23")  # a constraint's refusal: the policies let it
    return bool(result.rows) if command == "select" else bool(result.rowcount)


def storage_problems(conn: psycopg.Connection, world: World, intent: Intent,
                     buckets: list[model.Bucket]) -> tuple[int, list[str]]:
    """Run every storage probe in the superuser's transaction (rolled back by the caller), each
    rolled back after; the number run, and the ones that differ from the intent."""
    seed_objects(conn, world, buckets)
    probes = plan_storage(world, intent, buckets)
    problems = []
    for probe in probes:
        persona = probe.persona
        result = attempt_as(conn, persona.db_role, persona.claims(), probe.statement, probe.params)
        if not result.failed:
            conn.execute("rollback to savepoint tenantspec_request")
        if let_through("select" if probe.command == "select" else "write", result) != probe.expected:
            got = result.surface if result.failed else (
                f"{len(result.rows)} row(s) seen" if probe.command == "select" else f"{result.rowcount} row(s)")
            problems.append(f"{probe.describe()}: {'expected it let through' if probe.expected else 'expected a refusal'}, "
                            f"got {got}")
    return len(probes), problems
