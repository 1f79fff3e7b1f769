"""pg_jsonschema on the stand-in: CHECKs holding a JSON column to a schema validate documents as
the extension does, and the document the proof writes into such a column
(`catalog.json_schema.document`) is one the schema accepts."""

from __future__ import annotations

import json

import pglast
import pytest
from tenantspec.catalog.json_schema import document, schema_checks
from tenantspec.standin.databases import drop_database
from tenantspec.testing.database import MigrationSource, build_template

OUTLINE = {  # a course's outline, as apps keep one in a jsonb column
    "type": "object",
    "required": ["total", "chapters"],
    "properties": {
        "total": {"type": "integer", "minimum": 0},
        "chapters": {"type": "array", "items": {"type": "object", "required": ["id", "title"],
                                                "properties": {"id": {"type": "string", "format": "uuid"},
                                                               "title": {"type": "string", "minLength": 1}}}},
    },
    "additionalProperties": False,
}
TIERS = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["frequency", "price"],
    "properties": {"frequency": {"enum": ["monthly", "yearly"]}, "price": {"type": "number", "exclusiveMinimum": 0},
                   "label": {"type": ["string", "null"], "maxLength": 5}}}}

CASES = [  # (schema, document, valid)
    (OUTLINE, {"total": 0, "chapters": []}, True),
    (OUTLINE, {"total": 1, "chapters": [{"id": "x", "title": "One"}]}, True),
    (OUTLINE, {"total": 1.5, "chapters": []}, False),              # not an integer
    (OUTLINE, {"total": -1, "chapters": []}, False),               # below its minimum
    (OUTLINE, {"chapters": []}, False),                            # a required key missing
    (OUTLINE, {"total": 0, "chapters": [], "extra": 1}, False),    # additionalProperties false
    (OUTLINE, {"total": 0, "chapters": [{"id": "x", "title": ""}]}, False),  # minLength in an item
    (OUTLINE, [], False),
    (TIERS, [{"frequency": "monthly", "price": 5}], True),
    (TIERS, [{"frequency": "monthly", "price": 5, "label": None}], True),
    (TIERS, [], False),                                            # minItems
    (TIERS, [{"frequency": "weekly", "price": 5}], False),         # not in the enum
    (TIERS, [{"frequency": "monthly", "price": 0}], False),        # exclusiveMinimum
    (TIERS, [{"frequency": "monthly", "price": 1, "label": "too long"}], False),
    ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, 3, True),
    ({"oneOf": [{"type": "number"}, {"type": "integer"}]}, 3, False),  # both match: not one of
    ({"not": {"type": "null"}}, None, False),
    ({"if": {"properties": {"kind": {"const": "pdf"}}}, "then": {"required": ["pages"]}}, {"kind": "pdf"}, False),
    ({"if": {"properties": {"kind": {"const": "pdf"}}}, "then": {"required": ["pages"]}}, {"kind": "png"}, True),
    ({"type": "object", "patternProperties": {"^x_": {"type": "integer"}}, "additionalProperties": False},
     {"x_a": 1}, True),
    ({"type": "object", "patternProperties": {"^x_": {"type": "integer"}}, "additionalProperties": False},
     {"y": 1}, False),
    ({"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "integer"}}, ["a", 1, 2], True),
    ({"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "integer"}}, ["a", "b"], False),
    ({"type": "array", "uniqueItems": True}, [1, 1], False),
    ({"type": "string", "pattern": "^[a-z]+$"}, "abc", True),
    ({"type": "string", "pattern": "^[a-z]+$"}, "ab1", False),
    ({"type": "number", "multipleOf": 5}, 10, True),
    ({"allOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"a": 1}, False),
    (True, {"anything": 1}, True),
    (False, {}, False),
]
DOCUMENTED = [OUTLINE, TIERS, {"allOf": [{"type": "object", "required": ["a"]}, {"required": ["b"]}]},
              {"oneOf": [{"type": "object", "required": ["kind"], "properties": {"kind": {"const": "a"}}},
                         {"type": "string"}]},
              {"type": "array", "minItems": 2, "prefixItems": [{"type": "string", "minLength": 3}],
               "items": {"type": "integer", "minimum": 4}},
              {"type": ["null", "object"], "required": ["at"], "properties": {"at": {"format": "date-time",
                                                                                     "type": "string"}}},
              {"type": "integer", "exclusiveMinimum": 2, "multipleOf": 5}]


@pytest.fixture(scope="module")
def schema_database(tenantspec_server, tmp_path_factory):
    server = tenantspec_server.server
    if server.server_version_num() < 180000:
        pytest.skip("not applicable: the stand-in's extensions need PostgreSQL 18's extension_control_path")
    folder = tmp_path_factory.mktemp("json_schema") / "migrations"
    folder.mkdir()
    (folder / "20250101000000_schema.sql").write_text("create extension if not exists pg_jsonschema with schema extensions;\n")
    template = build_template(server, "2026", MigrationSource(None, folder), tenantspec_server.probe, None)
    try:
        with server.connect_admin(template.name) as conn:
            yield conn
    finally:
        drop_database(server, template.name)


@pytest.mark.parametrize("schema, instance, valid", CASES, ids=[f"{i}-{c[2]}" for i, c in enumerate(CASES)])
def test_documents_are_validated_as_the_schema_says(schema_database, schema, instance, valid):
    got = schema_database.execute("select extensions.jsonb_matches_schema(%s::json, %s::jsonb), "
                                  "extensions.json_matches_schema(%s::json, %s::json)",
                                  (json.dumps(schema), json.dumps(instance)) * 2).fetchone()
    assert got == (valid, valid)


def test_a_schema_with_a_reference_is_refused_rather_than_answered(schema_database):
    import psycopg

    with pytest.raises(psycopg.errors.FeatureNotSupported, match=r"\$ref"):
        with schema_database.transaction():
            schema_database.execute("select extensions.jsonb_matches_schema('{\"$ref\": \"#/$defs/a\"}', '{}')")


@pytest.mark.parametrize("schema", DOCUMENTED, ids=range(len(DOCUMENTED)))
def test_the_document_the_proof_writes_is_accepted(schema_database, schema):
    made = document(schema)
    assert schema_database.execute("select extensions.jsonb_matches_schema(%s::json, %s::jsonb)",
                                   (json.dumps(schema), json.dumps(made))).fetchone()[0], made


def test_checks_name_their_column_and_schema_in_every_spelling():
    for check in ("extensions.jsonb_matches_schema('{\"type\": \"array\"}'::json, tiers)",
                  "jsonb_matches_schema(schema => '{\"type\": \"array\"}', instance => tiers)",
                  "tiers is null or json_matches_schema('{\"type\": \"array\"}', tiers::json)"):
        expression = pglast.parse_sql(f"select {check}")[0].stmt.targetList[0].val
        assert schema_checks(expression) == {"tiers": {"type": "array"}}, check
    expression = pglast.parse_sql("select jsonb_matches_schema(current_setting('x')::json, tiers)")[0].stmt
    assert schema_checks(expression.targetList[0].val) == {}, "a schema that is no literal is not read"


def test_the_world_writes_a_schema_checked_column_a_document_it_accepts(tmp_path):
    """A spec'd table's required jsonb, held by a CHECK to a JSON Schema: every row the world
    writes carries a document of the schema, never the generic sample (`{"n": 1}`)."""
    import shutil
    from pathlib import Path

    from tenantspec.spec.load import load_project
    from tenantspec.testing.world import build_world

    base = Path(__file__).resolve().parents[1] / "generator" / "cases" / "specs" / "_base"
    shutil.copytree(base, tmp_path, dirs_exist_ok=True)
    check = f"extensions.jsonb_matches_schema('{json.dumps(TIERS)}'::json, tiers)"
    notes = (tmp_path / "schema/notes.yaml").read_text().replace(
        "  body: {type: text}\n", "  body: {type: text}\n  tiers: {type: jsonb, not_null: true}\n")
    (tmp_path / "schema/notes.yaml").write_text(notes + f"checks:\n  - {{name: tiers_shape, expression: {json.dumps(check)}}}\n")
    world = build_world(load_project(tmp_path))
    rows = [row.values for name, rows in world.rows.items() if name.name == "notes" for row in rows]
    assert rows and all(json.loads(row["tiers"]) == document(TIERS) for row in rows)
    assert document(TIERS) == [{"frequency": "monthly", "price": 0.5}]
