"""What the linter assumes about the project it reads: which schemas the API exposes, which
default privileges the project has, and what it says about its tenants.

Nothing here names an application's tables: tenants are inferred from the schema
(``tenantspec.lint.tenancy``). A project can add to that in three places, merged in this
order: its tenantspec specs (``schema/project.yaml``), a ``[tool.tenantspec.lint]`` section
in ``pyproject.toml``, and command-line flags.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from tenantspec.catalog.state import LEGACY, RESTRICTED
from tenantspec.errors import TenantspecError
from tenantspec.lint.tenancy import Declared, parse_column_name, parse_table_name

# Supabase's API (PostgREST) exposes these schemas unless the project changes it.
DEFAULT_API_SCHEMAS = frozenset({"public", "graphql_public"})
DEFAULT_USERS_TABLES = frozenset({"auth.users"})
PYPROJECT = "pyproject.toml"
SECTION = ("tool", "tenantspec", "lint")


@dataclass(frozen=True)
class LintConfig:
    """Project facts the rules depend on; every field has the Supabase default.

    Projects created before 2026-05-30 grant ALL on new public tables and functions to
    anon, authenticated and service_role; newer ones grant nothing. Migrations must be
    right under both, so the more generous (legacy) regime is assumed by default.
    """

    api_schemas: frozenset[str] = DEFAULT_API_SCHEMAS
    default_privileges: str = LEGACY
    # Tenancy, added to what is inferred: "schema.table" roots and users tables;
    # "column", "table.column" or "schema.table.column" tenant columns.
    tenant_roots: frozenset[str] = frozenset()
    tenant_columns: frozenset[str] = frozenset()
    users_tables: frozenset[str] = DEFAULT_USERS_TABLES
    # Functions (by name) whose call runs a membership query, besides SECURITY DEFINER ones.
    membership_helpers: frozenset[str] = frozenset()
    infer_tenancy: bool = True

    def declared(self) -> Declared:
        """The tenancy this configuration declares, for ``infer_tenancy``."""
        return Declared(
            users_tables=frozenset(parse_table_name(t) for t in self.users_tables),
            roots=frozenset(parse_table_name(t) for t in self.tenant_roots),
            tenant_columns=frozenset(parse_column_name(c) for c in self.tenant_columns),
            infer=self.infer_tenancy,
        )

    def merged(self, **values) -> LintConfig:
        """A copy with ``values``: sets are added to, other fields replaced; None is skipped."""
        changes = {}
        for name, value in values.items():
            if value is None:
                continue
            current = getattr(self, name)
            if isinstance(current, frozenset) and name != "api_schemas":
                changes[name] = current | frozenset(value)
            elif isinstance(current, frozenset):
                changes[name] = frozenset(value)
            else:
                changes[name] = value
        return replace(self, **changes)


# [tool.tenantspec.lint] keys, as written in TOML, and the field each sets.
KEYS = {name.replace("_", "-"): name for name in (f.name for f in fields(LintConfig))}


def pyproject_values(root: Path) -> dict:
    """The ``[tool.tenantspec.lint]`` section of ``root/pyproject.toml`` as field values."""
    path = Path(root) / PYPROJECT
    if not path.is_file():
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise TenantspecError(f"{path}: cannot read: {error}") from None
    section = document
    for part in SECTION:
        section = section.get(part, {})
        if not isinstance(section, dict):
            raise TenantspecError(f"{path}: [{'.'.join(SECTION)}] must be a table")
    values = {}
    where = f"{path}: [{'.'.join(SECTION)}]"
    for key, value in section.items():
        name = KEYS.get(key)
        if name is None:
            raise TenantspecError(f"{where}: unknown key {key!r}; known keys: {', '.join(sorted(KEYS))}")
        default = getattr(LintConfig(), name)
        if isinstance(default, frozenset):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TenantspecError(f"{where}: {key} must be a list of strings")
            value = frozenset(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise TenantspecError(f"{where}: {key} must be true or false")
        elif name == "default_privileges" and value not in (LEGACY, RESTRICTED):
            raise TenantspecError(f"{where}: {key} must be {LEGACY!r} or {RESTRICTED!r}")
        values[name] = value
    return values


def spec_values(root: Path) -> dict:
    """Tenancy from the project's tenantspec specs (``schema/project.yaml``), when it has them:
    the workspaces table is a root, and the workspace column of every spec'd and external
    table is a tenant column; external functions are membership helpers."""
    if not (Path(root) / "schema" / "project.yaml").is_file():
        return {}
    from tenantspec.spec.load import (
        load_project,  # only projects with specs pay for loading them
    )

    project = load_project(Path(root))
    tenancy = project.tenancy
    roots = {f"{tenancy.workspaces.schema}.{tenancy.workspaces.name}"}
    members = tenancy.members
    columns = {f"{members.table.schema}.{members.table.name}.{members.workspace_column}"} if members.table else set()
    for name, table in project.external_tables.items():
        if table.workspace_column and name != tenancy.workspaces:
            columns.add(f"{name.schema}.{name.name}.{table.workspace_column}")
    for table in project.tables.values():
        if table.tenancy.workspace_column:
            columns.add(f"{table.name.schema}.{table.name.name}.{table.tenancy.workspace_column}")
    helpers = {f.name.name for f in project.external_functions if f.name.schema != "auth"}
    return {"tenant_roots": roots, "tenant_columns": columns, "membership_helpers": helpers}


def project_config(root: Path = Path("."), use_specs: bool = True) -> LintConfig:
    """The configuration of the project at ``root``: its specs, then its pyproject.toml."""
    config = LintConfig()
    if use_specs:
        config = config.merged(**spec_values(root))
    return config.merged(**pyproject_values(root))
