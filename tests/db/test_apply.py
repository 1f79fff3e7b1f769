"""Migration folders written the way real Supabase projects write them apply to the stand-in
as `supabase db push` applies them, and what the platform refuses its postgres is refused
here too, with the file and line. Each case folder holds ``migrations/`` and the expected
report (``expected.txt``: one line per file, or the failure, as PostgreSQL 18 words it);
TENANTSPEC_UPDATE_GOLDEN=1 rewrites it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from tenantspec.standin.databases import standin_database
from tenantspec.standin.migrate import MigrationError, apply_folder

CASES = Path(__file__).parent / "cases"
UPDATE = os.environ.get("TENANTSPEC_UPDATE_GOLDEN") == "1"


def case_settings(case: Path) -> dict:
    path = case / "case.yaml"
    return YAML(typ="safe").load(path.read_text()) if path.is_file() else {}


def report_of(server, regime: str, case: Path) -> list[str]:
    lines: list[str] = []
    with standin_database(server, regime, "tenantspec_apply") as name:
        with server.connect_migrator(name, autocommit=True) as conn:
            try:
                apply_folder(conn, case / "migrations", report=lines.append)
            except MigrationError as error:
                lines.append(f"error: {error}".replace(f"{case}/", ""))
            lines += [f"history: {version} {name}" for version, name in conn.execute(
                "select version, name from supabase_migrations.schema_migrations order by version")]
    return lines


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_folder_applies_as_on_the_platform(case, tenantspec_server):
    """Under the 2026 default privileges (the regimes differ in grants, which no report shows)."""
    server = tenantspec_server.server
    folder = CASES / case
    if case_settings(folder).get("extensions") and server.server_version_num() < 180000:
        pytest.skip("not applicable: the stand-in's extensions need PostgreSQL 18's extension_control_path; "
                    f"this server is {server.server_version_num() // 10000}")
    lines = report_of(server, "2026", folder)
    expected = folder / "expected.txt"
    if UPDATE:
        expected.write_text("\n".join(lines) + "\n")
    assert expected.is_file(), f"{expected} is missing (TENANTSPEC_UPDATE_GOLDEN=1 writes it)"
    wanted = expected.read_text().splitlines()
    if server.server_version_num() // 10000 != 18:  # the messages are 18's: compare where and SQLSTATE
        lines, wanted = [shorten(line) for line in lines], [shorten(line) for line in wanted]
    assert lines == wanted


def shorten(line: str) -> str:
    """``error: file:line: SQLSTATE`` without the message, which PostgreSQL versions word apart."""
    return " ".join(line.split()[:3]) if line.startswith("error: ") else line
