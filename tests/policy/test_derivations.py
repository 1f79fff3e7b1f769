"""What the suite derives from a project model, checked without a database on every model
in this repository: this app, the generator's edge case and the notes example."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from tenantspec.render.matrix import declared_matrix, member_roles, persona_kinds
from tenantspec.spec.load import load_project
from tenantspec.testing.expectations import AccessModel
from tenantspec.testing.state import State
from tenantspec.testing.intent import Intent, IntentError, load_intent
from tenantspec.testing.personas import WORKSPACES
from tenantspec.testing.requests import plan_probes
from tenantspec.testing.world import ROWS_PER_WORKSPACE, WorldError, build_world

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "tests" / "cases" / "app"  # a frozen copy of the app: see its README
PROJECTS = [APP, ROOT / "tests/generator/cases/render/edges", ROOT / "examples/notes"]
INTENT = APP / "tests" / "access_intent.yaml"


def declared_intent(project) -> Intent:
    """The intent the specs declare, for projects that carry no intent file here."""
    return Intent("(declared)", persona_kinds(project), declared_matrix(project))


@pytest.fixture(params=PROJECTS, ids=lambda p: str(p.relative_to(ROOT)) or ".", scope="module")
def project(request):
    return load_project(request.param)


def test_every_role_in_both_workspaces_and_every_pair_across_them(project):
    world = build_world(project)
    roles = member_roles(project)
    for role, ws in itertools.product(roles, WORKSPACES):
        assert world.persona(f"{role}_{ws}").memberships == ((ws, role),)
    for first, second in itertools.product(roles, roles):
        assert world.persona(f"{first}_A_{second}_B").memberships == (("A", first), ("B", second))
    kinds = {p.db_role for p in world.personas.values()}
    assert kinds == {"authenticated", "anon", "service_role"}
    assert world.persona("outsider").memberships == ()
    forged = [p for p in world.personas.values() if p.claimed_role]
    assert forged and all(p.db_role == "authenticated" and p.claims()["role"] == "service_role" for p in forged)


def test_rows_of_every_table_in_both_workspaces_with_valid_values(project):
    world = build_world(project)
    state = State(world)
    for facts in world.spec_tables:
        for ws in WORKSPACES:
            rows = world.rows_in(facts.name, ws)
            assert len(rows) == ROWS_PER_WORKSPACE, facts.name
            for row in rows:
                assert state.workspace_of(facts.name, row.values) == ws, (facts.name, row.tag)
                for column in facts.required:
                    assert row.values.get(column) is not None, (facts.name, column)
                for column, allowed in facts.one_of.items():
                    assert row.values.get(column) in (*allowed, None), (facts.name, column)
                for ref in facts.ties:
                    target = state.find(ref.target, ref.target_column, row.values.get(ref.column))
                    if row.values.get(ref.column) is not None:
                        assert target is not None and state.workspace_of(ref.target, target) == ws, \
                            (facts.name, ref.column)
        for unique in facts.unique_keys:
            keys = [tuple(r.values.get(c) for c in unique.columns) for r in world.rows[facts.name]]
            keys = [k for k in keys if None not in k]
            assert len(keys) == len(set(keys)), (facts.name, unique.columns)


def test_probes_cover_every_table_request_and_persona(project):
    world = build_world(project)
    probes = plan_probes(world, AccessModel(world, declared_intent(project)))
    for facts in world.spec_tables:
        for persona in world.personas.values():
            mine = [p for p in probes if p.request.table == facts.name and p.request.persona == persona]
            commands = {p.request.command for p in mine}
            assert {"select", "insert", "update", "delete", "upsert"} <= commands
            assert any(p.request.keys is None and p.request.command == "delete" for p in mine)
            assert any("move" in p.request.what for p in mine) == bool(facts.workspace_column or facts.parent)
            for ref in facts.ties:
                assert any(ref.column in p.request.what and p.request.command == "insert" for p in mine)
                assert any(ref.column in p.request.what and p.request.command == "update" for p in mine)
            cells = {p.cell for p in mine if p.cell}
            assert {c[1] for c in cells} == {"select", "insert", "update", "delete"}


def test_no_expected_move_without_the_right_on_both_sides(project):
    """A row moves (or a reference points) across workspaces only for a persona that may
    update where the row is and write where it lands."""
    world = build_world(project)
    access = AccessModel(world, declared_intent(project))
    for probe in plan_probes(world, access):
        request = probe.request
        if request.command != "update" or probe.expected.failed or request.persona.db_role != "authenticated":
            continue
        state = State(world)
        for _, key in probe.expected.changed:
            before = state.table(request.table).get(key) or next(
                v for k, v in state.table(request.table).items() if k in (request.keys or (key,)))
            after = probe.expected.after.table(request.table)[key]
            source, target = state.workspace_of(request.table, before), state.workspace_of(request.table, after)
            for ws in {source, target}:
                assert access.passes(request.persona, request.table, "update", ws, before if ws == source else after), \
                        (request.what, ws)


def test_missing_intents_name_the_tables_and_print_one_block_to_paste(tmp_path):
    """However many tables lack an intent: one message, one block with an entry per table in
    name order, filled from the specs (and said so), which pasted under `tables:` loads."""
    project = load_project(APP)
    data = YAML(typ="safe").load(INTENT.read_text())
    missing = sorted(data["tables"])[::-1][:2]  # two tables, taken out in reverse name order
    for table in missing:
        del data["tables"][table]
    path = tmp_path / "access_intent.yaml"
    YAML().dump(data, path)
    tables = {name: table.source for name, table in project.tables.items()}
    with pytest.raises(IntentError) as error:
        load_intent(path, "tests/access_intent.yaml", persona_kinds(project), tables, declared_matrix(project))
    message = str(error.value)
    assert message.startswith("tests/access_intent.yaml: no intent for 2 table(s): ")
    assert all(f"{table} ({project.tables[table].source})" in message for table in missing)
    assert "filled from what the specs declare" in message and "not copied" not in message
    block = message.split("\n\n", 1)[1]
    entry = YAML(typ="safe").load(block)
    assert list(entry) == sorted(missing)
    assert set(entry[missing[0]]) == {"select", "insert", "update", "delete"}
    assert list(entry[missing[0]]["select"]) == list(persona_kinds(project))
    data["tables"].update(entry)
    YAML().dump(data, path)
    load_intent(path, "tests/access_intent.yaml", persona_kinds(project), tables, declared_matrix(project))


def test_a_block_to_paste_loads_where_a_hand_written_policy_decides_cells(tmp_path):
    """A cell a hand-written policy decides has no declared verdict: the block writes it denied,
    under a comment naming it, and loads as pasted."""
    from tenantspec.render.matrix import HAND_WRITTEN

    project = load_project(APP)
    data = YAML(typ="safe").load(INTENT.read_text())
    table = sorted(data["tables"])[0]
    del data["tables"][table]
    path = tmp_path / "access_intent.yaml"
    YAML().dump(data, path)
    kinds = persona_kinds(project)
    declared = {**declared_matrix(project), (table, "select", kinds[1]): HAND_WRITTEN}
    tables = {name: spec.source for name, spec in project.tables.items()}
    with pytest.raises(IntentError) as error:
        load_intent(path, "tests/access_intent.yaml", kinds, tables, declared)
    block = str(error.value).split("\n\n", 1)[1]
    assert f"# select: a hand-written policy decides {kinds[1]}: say what it should allow" in block, block
    entry = YAML(typ="safe").load(block)
    assert entry[table]["select"][kinds[1]] == "denied"
    data["tables"].update(entry)
    YAML().dump(data, path)
    load_intent(path, "tests/access_intent.yaml", kinds, tables, declared)


def test_intent_for_a_table_without_spec_fails_with_its_line(tmp_path):
    project = load_project(APP)
    path = tmp_path / "access_intent.yaml"
    path.write_text(INTENT.read_text() + "\n  invoices:\n    select: {}\n")
    tables = {name: table.source for name, table in project.tables.items()}
    with pytest.raises(IntentError, match=r"access_intent.yaml:\d+: intent for table 'invoices', which the "
                                          r"project does not define"):
        load_intent(path, "access_intent.yaml", persona_kinds(project), tables)


def test_intent_columns_follow_the_project_roles(tmp_path):
    project = load_project(ROOT / "examples/notes")
    tables = {name: table.source for name, table in project.tables.items()}
    with pytest.raises(IntentError, match=r"persona_kinds must be \[editor, viewer, other_member"):
        load_intent(INTENT, "access_intent.yaml", persona_kinds(project), tables)


def test_a_seed_placeholder_that_does_not_exist_is_reported(tmp_path):
    shutil.copytree(APP / "schema", tmp_path / "schema")
    project_file = tmp_path / "schema" / "project.yaml"
    project_file.write_text(project_file.read_text().replace('slug: "{label}"', 'slug: "{slug}"'))
    with pytest.raises(WorldError, match=r"seed\.slug: unknown placeholder \{slug\}"):
        build_world(load_project(tmp_path))


def test_braces_that_name_no_placeholder_are_the_seed_values_own(tmp_path):
    """A JSON document as a seed value (`'{}'`, `'{"name": "{label}"}'`): only a name in braces
    is a placeholder."""
    shutil.copytree(APP / "schema", tmp_path / "schema")
    project_file = tmp_path / "schema" / "project.yaml"
    project_file.write_text(project_file.read_text().replace('slug: "{label}"', """slug: '{"at": "{label}", "n": {}}'"""))
    world = build_world(load_project(tmp_path))
    slugs = [row.values["slug"] for rows in world.rows.values() for row in rows if "slug" in row.values]
    assert slugs and all(s.startswith('{"at": "') and s.endswith('", "n": {}}') and "{label}" not in s for s in slugs)


def test_a_table_keyed_by_the_user_gets_a_row_per_user(tmp_path):
    """`profiles.id` references auth.users: its seed says `id: '{user}'`, and the world writes
    one profile per signed-in persona's user, keyed by that user, and no other."""
    import shutil

    from tenantspec.testing.world import USERS, build_world

    base = Path(__file__).resolve().parents[1] / "generator" / "cases" / "specs" / "_base"
    shutil.copytree(base, tmp_path, dirs_exist_ok=True)
    project_file = tmp_path / "schema" / "project.yaml"
    project_file.write_text(project_file.read_text().replace(
        "  functions:",
        "    profiles: {columns: {id: uuid, full_name: text}, seed: {id: '{user}', full_name: 'Name {label}'}}\n"
        "  functions:"))
    spec = tmp_path / "schema" / "notes.yaml"
    spec.write_text(spec.read_text().replace(
        "  body: {type: text}\n", "  body: {type: text}\n  author_id: {type: uuid, references: {table: profiles}}\n"
    ).replace("  - columns: [workspace_id]\n", "  - columns: [workspace_id]\n  - columns: [author_id]\n"))
    world = build_world(load_project(tmp_path))
    profiles = [row.values for row in world.rows[next(n for n in world.rows if n.name == "profiles")]]
    users = {row.values["id"] for row in world.rows[USERS]}
    assert {p["id"] for p in profiles} == users and len(profiles) == len(users)
    assert all(p["full_name"].startswith("Name ") for p in profiles)


@pytest.mark.parametrize("where, row, covered", [
    (None, {}, True),
    ("is_default", {"is_default": "true"}, True),
    ("is_default", {"is_default": "false"}, False),
    ("is_default", {}, False),  # a column the write leaves out: its default, taken as null
    ("deleted_at is null", {}, True),
    ("deleted_at is null", {"deleted_at": "2026-01-01"}, False),
    ("status = 'open'", {"status": "open"}, True),
    ("length(name) > 3", {"name": "long enough"}, False),  # not judged here: no conflict predicted
])
def test_a_partial_unique_key_holds_only_where_its_predicate_does(where, row, covered):
    """A team's one default (`unique (org_id) where is_default`): a second team of the org is no
    conflict, a second default is."""
    from tenantspec.testing.tables import UniqueKey

    assert UniqueKey(("org_id",), where).covers(row) is covered


def test_a_spec_table_keyed_by_the_user_is_seeded_before_the_memberships(tmp_path):
    """The app's own `users` (keyed by the auth.users id, specified per user) comes right after
    auth.users: the membership's user column may reference it, which external tables do not
    say. Parents come before their children otherwise."""
    import shutil

    from tenantspec.testing.seeding import parents_first
    from tenantspec.testing.world import USERS

    base = Path(__file__).resolve().parents[1] / "generator" / "cases" / "specs" / "_base"
    shutil.copytree(base, tmp_path, dirs_exist_ok=True)
    (tmp_path / "schema" / "app_users.yaml").write_text(
        "table: app_users\ncolumns:\n  id: {type: uuid, primary_key: true, references: {table: auth.users}}\n"
        "  display_name: {type: text}\ntenancy: {user: id}\n"
        "access: {select: own, insert: own, update: own, delete: nobody}\n")
    project_file = tmp_path / "schema" / "project.yaml"
    project_file.write_text(project_file.read_text().replace("tables: [notes]", "tables: [notes, app_users]").replace(
        "  tables:\n", "  tables:\n    auth.users: {columns: {id: uuid, email: text}}\n", 1))
    project = load_project(tmp_path)
    world = build_world(project)
    members, workspaces = project.tenancy.members.table, project.tenancy.workspaces
    order = parents_first(world, [USERS, workspaces, members, *(n for n in world.rows if n not in
                                                               (USERS, workspaces, members))])
    names = [name.name for name in order]
    assert names[:2] == ["users", "app_users"], names
    assert names.index("workspaces") < names.index("notes") and names.index("workspace_members") < names.index("notes")


def test_an_external_table_is_seeded_after_the_rows_its_references_name(tmp_path):
    """`prices.product_id` references `products`, both external, and a spec'd table references
    prices: products are seeded first (though no spec references them), and each price names
    one of them."""
    from tenantspec.testing.seeding import parents_first

    base = Path(__file__).resolve().parents[1] / "generator" / "cases" / "specs" / "_base"
    shutil.copytree(base, tmp_path, dirs_exist_ok=True)
    project_file = tmp_path / "schema" / "project.yaml"
    project_file.write_text(project_file.read_text().replace(
        "  functions:",
        "    prices: {columns: {id: uuid, product_id: uuid, amount: integer}, seed: {amount: 5},\n"
        "             references: {product_id: {table: products, on_delete: cascade}}}\n"
        "    products: {columns: {id: uuid, name: text}, seed: {name: 'Product {label}'}}\n"
        "  functions:"))
    spec = tmp_path / "schema" / "notes.yaml"
    spec.write_text(spec.read_text().replace(
        "  body: {type: text}\n", "  body: {type: text}\n  price_id: {type: uuid, references: {table: prices}}\n"
    ).replace("  - columns: [workspace_id]\n", "  - columns: [workspace_id]\n  - columns: [price_id]\n"))
    world = build_world(load_project(tmp_path))
    rows = {name.name: [row.values for row in table] for name, table in world.rows.items()}
    assert rows["products"] and rows["prices"]
    assert {p["product_id"] for p in rows["prices"]} <= {p["id"] for p in rows["products"]}
    assert all(p["product_id"] is not None and str(p["amount"]) == "5" for p in rows["prices"])
    names = [name.name for name in parents_first(world, list(world.rows))]
    assert names.index("products") < names.index("prices") < names.index("notes"), names


def test_a_table_of_one_row_a_workspace_is_seeded_one_row_a_workspace(tmp_path):
    """`unique (workspace_id)` (a workspace's one settings row, one create request a project):
    the world seeds one row in each workspace, where two would break the key."""
    base = Path(__file__).resolve().parents[1] / "generator" / "cases" / "specs" / "_base"
    shutil.copytree(base, tmp_path, dirs_exist_ok=True)
    spec = tmp_path / "schema" / "notes.yaml"
    spec.write_text(spec.read_text().replace("indexes:\n  - columns: [workspace_id]\n", "unique:\n  - [workspace_id]\n"))
    world = build_world(load_project(tmp_path))
    notes = next(f for f in world.spec_tables if f.name.name == "notes")
    assert [len(world.rows_in(notes.name, ws)) for ws in WORKSPACES] == [1, 1]
    assert plan_probes(world, AccessModel(world, declared_intent(world.project)))


def test_an_external_serial_column_is_written_as_its_integer(tmp_path):
    """`id: bigserial` declared external: a seeded row's value is cast to bigint (no type
    bigserial exists to cast to)."""
    from tenantspec.testing.tables import facts_of

    base = Path(__file__).resolve().parents[1] / "generator" / "cases" / "specs" / "_base"
    shutil.copytree(base, tmp_path, dirs_exist_ok=True)
    project_file = tmp_path / "schema" / "project.yaml"
    project_file.write_text(project_file.read_text().replace(
        "  functions:", "    grades: {columns: {id: bigserial, rank: smallserial, label: text}}\n  functions:"))
    project = load_project(tmp_path)
    grades = next(f for name, f in facts_of(project).items() if name.name == "grades")
    assert grades.columns == {"id": "bigint", "rank": "smallint", "label": "text"}


def test_references_into_shared_tables_that_make_a_unique_key_pick_different_rows(tmp_path):
    """`unique (sdk_id, service_id)`, both into tables no workspace owns: the rows of both
    workspaces pick different pairs, where picking by the row's number in its workspace gave
    the first workspace's pairs again."""
    base = Path(__file__).resolve().parents[1] / "generator" / "cases" / "specs" / "_base"
    shutil.copytree(base, tmp_path, dirs_exist_ok=True)
    project_file = tmp_path / "schema" / "project.yaml"
    project_file.write_text(project_file.read_text().replace(
        "  functions:", "    sdks: {columns: {id: bigint}}\n    services: {columns: {id: bigint}}\n  functions:"))
    spec = tmp_path / "schema" / "notes.yaml"
    spec.write_text(spec.read_text().replace(
        "  body: {type: text}\n",
        "  body: {type: text}\n  sdk_id: {type: bigint, not_null: true, references: {table: sdks}}\n"
        "  service_id: {type: bigint, not_null: true, references: {table: services}}\n"
    ).replace("indexes:\n", "unique:\n  - [sdk_id, service_id]\nindexes:\n  - columns: [service_id]\n"))
    world = build_world(load_project(tmp_path))
    notes = next(f for f in world.spec_tables if f.name.name == "notes")
    pairs = [(r.values["sdk_id"], r.values["service_id"]) for r in world.rows[notes.name]]
    assert len(pairs) == 2 * ROWS_PER_WORKSPACE and len(set(pairs)) == len(pairs), pairs


@pytest.mark.parametrize("type_text", ["numeric(5,4)", "numeric(10,2)", "numeric(3)", "decimal(4,4)", "numeric"])
def test_numbers_the_world_writes_fit_their_precision_and_stay_distinct(type_text):
    """A rate of numeric(5, 4) holds less than 10: the world's 501st value must fit it too."""
    from decimal import Decimal

    from tenantspec.testing.values import numeric_shape, sample

    values = [Decimal(sample(type_text, n, "x")) for n in (1, 7, 501, 12345)]
    assert len(set(values)) == len(values)
    if (shape := numeric_shape(type_text)) is not None:
        precision, scale = shape
        assert all(v < Decimal(10) ** (precision - scale) and v == round(v, scale) for v in values), values
