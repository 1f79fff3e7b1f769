"""`tenantspec init`: a new project, or one beside an existing ``supabase/`` folder, made ready
for `tenantspec generate` and `tenantspec prove` with no edit: the project file, the migration
that creates the workspace and membership tables when no migration does, a first table spec,
the JSON Schemas, the intent, the proof's test module and settings, and a CI workflow."""

from __future__ import annotations

import datetime
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tenantspec.catalog.names import singular
from tenantspec.errors import Problem, TenantspecError
from tenantspec.plan.history import read_history
from tenantspec.plan.pipeline import current_state
from tenantspec.render.migrations import environment
from tenantspec.render.quoting import literal
from tenantspec.spec.documents import SCHEMA_DIR
from tenantspec.spec.load import load_project

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
WORKFLOW = Path(".github/workflows/tenantspec.yml")


@dataclass(frozen=True)
class Init:
    """What `init` writes, every file or none, and what it says about it."""

    files: dict[Path, str]
    notes: list[str] = field(default_factory=list)


def init_project(root: Path, workspaces: str, members: str | None, roles: list[str], table: str | None,
                 now: datetime.datetime | None = None, force: bool = False) -> Init:
    """The files of a new project under ``root``; refuses to overwrite any unless ``force``."""
    members = members or f"{singular(workspaces)}_members"
    for what, name in (("--workspaces", workspaces), ("--members", members), ("--table", table or "x")):
        if not IDENTIFIER.match(name):
            raise TenantspecError(f"{what} {name!r}: a table name is lower case letters, digits and _")
    if len(roles) < 2 or len(set(roles)) != len(roles) or not all(IDENTIFIER.match(r) for r in roles):
        raise TenantspecError(f"--roles {','.join(roles)}: at least two distinct roles, most powerful first "
                              "(default owner,admin,member)")
    values = {
        "workspaces": workspaces, "members": members, "workspace_column": f"{singular(workspaces)}_id",
        "workspace_singular": singular(workspaces), "label": singular(workspaces).replace("_", " ").title(),
        "roles": roles, "admin_roles": roles[:2], "role_literals": [literal(r) for r in roles],
        "table": table, "table_comment": f"One {words(singular(table))} of {a_or_an(words(singular(workspaces)))}."
        if table else None,
    }
    env = environment()
    files: dict[Path, str] = {Path("schema/project.yaml"): env.get_template("init/project.yaml.j2").render(values)}
    notes = []
    for name in ("project.schema.json", "table.schema.json"):
        files[Path("schema") / name] = (SCHEMA_DIR / name).read_text()
    existing = _created_tables(root)
    if workspaces in existing and members in existing:
        notes.append(f"supabase/migrations creates {workspaces} and {members} already: no migration written; "
                     "check their columns under external in schema/project.yaml")
    elif workspaces in existing or members in existing:
        raise TenantspecError(f"supabase/migrations creates {workspaces if workspaces in existing else members} "
                              "but not the other: name both tables with --workspaces and --members")
    else:
        version = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y%m%d%H%M%S")
        files[Path(f"supabase/migrations/{version}_{workspaces}.sql")] = \
            env.get_template("init/workspaces.sql.j2").render(values)
    if table:
        files[Path(f"schema/{table}.yaml")] = env.get_template("init/table.yaml.j2").render(values)
    files[Path("pytest.ini")] = env.get_template("init/pytest.ini.j2").render(values)
    files[Path("tests/test_tenantspec.py")] = env.get_template("init/test_tenantspec.py.j2").render(values)
    files[WORKFLOW] = env.get_template("init/workflow.yml.j2").render(values)
    files[Path("tests/access_intent.yaml")] = _intent(files)
    taken = [str(p) for p in files if (root / p).exists() and not p.name.endswith(".schema.json")]
    if taken and not force:
        raise TenantspecError([Problem(None, f"{p}: exists already; `tenantspec init --force` overwrites it")
                              for p in taken])
    return Init(files, notes)


def _created_tables(root: Path) -> set[str]:
    """Public tables the project's migrations create, if it has any."""
    if not (root / "supabase" / "migrations").is_dir():
        return set()
    state = current_state(read_history(root))["legacy"]
    return {name for (schema, name), table in state.tables.items() if schema == "public" and not table.external}


def _intent(files: dict[Path, str]) -> str:
    """The intent, filled from what the specs declare, for the user to check against the product."""
    from tenantspec.render.matrix import declared_matrix, persona_kinds
    from tenantspec.testing.intent import intent_file_text

    with tempfile.TemporaryDirectory() as folder:
        for path, text in files.items():
            if path.parts[0] == "schema":
                (Path(folder) / path).parent.mkdir(parents=True, exist_ok=True)
                (Path(folder) / path).write_text(text)
        project = load_project(Path(folder))
    kinds = persona_kinds(project)
    head = ("# Who may do what, cell by cell: may this persona run the command on rows of workspace A?\n"
            "# Written by `tenantspec init` from what the specs declare: check each cell against what\n"
            "# the product requires. The proof fails where the database or the specs disagree with it.\n")
    return head + intent_file_text(kinds, sorted(project.tables), declared_matrix(project))


def words(name: str) -> str:
    """``job_opening`` as ``job opening``: a table's name in a sentence."""
    return name.replace("_", " ")


def a_or_an(noun: str) -> str:
    """``an organization``, ``a team``: the article by the noun's first letter."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
