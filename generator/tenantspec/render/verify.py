"""Check emitted SQL against the spec with pglast, before anything is written.

Each check is one small function over parsed statements; a failure names the file,
the statement's number and its line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pglast
from pglast import ast, enums
from pglast.stream import RawStream
from pglast.visitors import Visitor

from tenantspec.catalog.builtins import BUILTIN_FUNCTIONS
from tenantspec.catalog.nodes import parsed
from tenantspec.errors import Location, Problem
from tenantspec.render.helpers import helpers_of
from tenantspec.spec import model

NEVER_FOR_API = {"all", "truncate", "references", "trigger"}


@dataclass(frozen=True)
class Statement:
    """One parsed statement and where it stands in its file."""

    path: str
    number: int
    node: ast.Node
    offset: int
    text: str

    def locate(self, offset: int | None = None) -> Location:
        before = self.text.encode()[: self.offset if offset is None or offset < 0 else offset].decode(errors="ignore")
        return Location(self.path, before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)

    def problem(self, message: str, offset: int | None = None) -> Problem:
        return Problem(self.locate(offset), f"statement {self.number}: {message}")


def parse_file(path: str, text: str) -> tuple[list[Statement], list[Problem]]:
    """Parse one file into statements, or report where it stops parsing."""
    try:
        raw = parsed(text)
    except pglast.parser.ParseError as error:
        index = error.args[1] if len(error.args) > 1 else 0
        where = Statement(path, 0, None, index, text).locate()
        return [], [Problem(where, f"does not parse: {error.args[0]}")]
    statements = []
    for number, stmt in enumerate(raw, start=1):
        offset = _skip_blank(text, stmt.stmt_location)
        statements.append(Statement(path, number, stmt.stmt, offset, text))
    return statements, []


def _skip_blank(text: str, index: int) -> int:
    """Move past whitespace and ``--`` comments to where the statement's first word starts."""
    data = text.encode()
    while index < len(data):
        if data[index:index + 1].isspace():
            index += 1
        elif data[index:index + 2] == b"--":
            end = data.find(b"\n", index)
            index = len(data) if end < 0 else end + 1
        else:
            break
    return index


def verify_sql(project: model.Project, files: dict[Path, str]) -> list[Problem]:
    """Every check over the rendered migrations; an empty list means they say what the specs say."""
    problems, statements = [], []
    for path, text in files.items():
        parsed, errors = parse_file(str(path), text)
        problems += errors
        statements += parsed
    if problems:
        return problems
    by_table = _statements_by_table(project, statements)
    for table in project.tables.values():
        problems += check_table_created(project, table, by_table.get(table.name, []))
        problems += check_rls_enabled(project, table, by_table.get(table.name, []))
    problems += check_policy_references(project, statements)
    problems += check_grants(project, statements)
    problems += check_security_definer(statements)
    return problems


def verify_change(project: model.Project, path: str, text: str) -> list[Problem]:
    """The checks that apply to one migration changing existing tables: it parses, its policies
    read only declared objects and name their role, its grants stay within the access spec, and
    its SECURITY DEFINER functions pin search_path."""
    statements, problems = parse_file(path, text)
    if problems:
        return problems
    return (check_policy_references(project, statements) + check_grants(project, statements)
            + check_security_definer(statements))


def _statements_by_table(project: model.Project, statements: list[Statement]) -> dict[model.Name, list[Statement]]:
    """CREATE TABLE and ALTER TABLE statements grouped by the table they act on."""
    grouped: dict[model.Name, list[Statement]] = {}
    for s in statements:
        if isinstance(s.node, (ast.CreateStmt, ast.AlterTableStmt)):
            grouped.setdefault(_relation(project, s.node.relation), []).append(s)
    return grouped


def _relation(project: model.Project, node: ast.RangeVar) -> model.Name:
    return model.Name(node.schemaname or project.schema, node.relname)


def _type_text(type_name: ast.TypeName) -> str:
    return RawStream()(type_name)


@lru_cache(maxsize=4096)
def _spec_type(type_text: str) -> str:
    return _type_text(pglast.parse_sql(f"select null::{type_text}")[0].stmt.targetList[0].val.typeName)


def check_table_created(project: model.Project, table: model.Table, statements: list[Statement]) -> list[Problem]:
    """The table is created once, with exactly the declared columns, in order, of the declared types.

    ``statements`` are those acting on this table.
    """
    creates = [s for s in statements
               if isinstance(s.node, ast.CreateStmt) and _relation(project, s.node.relation) == table.name]
    if len(creates) != 1:
        return [Problem(table.location, f"expected one CREATE TABLE {table.name} in the migrations, "
                                        f"found {len(creates)}")]
    stmt = creates[0]
    emitted = [(e.colname, _type_text(e.typeName), e.location) for e in stmt.node.tableElts
               if isinstance(e, ast.ColumnDef)]
    declared = [(c.name, _spec_type(c.type)) for c in table.columns]
    problems = []
    if [name for name, _, _ in emitted] != [name for name, _ in declared]:
        problems.append(stmt.problem(f"{table.name} has columns ({', '.join(n for n, _, _ in emitted)}); "
                                     f"the spec declares ({', '.join(n for n, _ in declared)})"))
    for (name, emitted_type, offset), (spec_name, spec_type) in zip(emitted, declared):
        if name == spec_name and emitted_type != spec_type:
            problems.append(stmt.problem(f"column {name} is {emitted_type}; the spec declares {spec_type}", offset))
    return problems


def check_rls_enabled(project: model.Project, table: model.Table, statements: list[Statement]) -> list[Problem]:
    """Row-level security is switched on for the table."""
    for s in statements:
        if isinstance(s.node, ast.AlterTableStmt) and _relation(project, s.node.relation) == table.name:
            if any(cmd.subtype == enums.AlterTableType.AT_EnableRowSecurity for cmd in s.node.cmds):
                return []
    create = next((s for s in statements if isinstance(s.node, ast.CreateStmt)
                   and _relation(project, s.node.relation) == table.name), None)
    message = f"row level security is never enabled on {table.name}"
    return [create.problem(message) if create else Problem(table.location, message)]


class _References(Visitor):
    """Collects the relations, functions and column references of an expression."""

    def __init__(self):
        self.relations, self.functions, self.columns = [], [], []
        # FROM items that are function calls: alias -> the column names it gives (None: the
        # function's own, which no spec models)
        self.function_rows: dict[str, set[str] | None] = {}

    def visit_RangeVar(self, ancestors, node):
        self.relations.append(node)

    def visit_RangeFunction(self, ancestors, node):
        call = node.functions[0][0] if node.functions else None
        name = [n.sval for n in call.funcname][-1] if isinstance(call, ast.FuncCall) else None
        alias = node.alias.aliasname if node.alias else name
        if alias is not None:
            names = {c.sval for c in node.alias.colnames} if node.alias and node.alias.colnames else None
            self.function_rows[alias] = names

    def visit_FuncCall(self, ancestors, node):
        self.functions.append(node)

    def visit_ColumnRef(self, ancestors, node):
        self.columns.append(node)


# What Supabase's auth schema gives every policy.
AUTH_FUNCTIONS = {("auth", "uid"), ("auth", "role"), ("auth", "jwt"), ("auth", "email")}


def _known_functions(project: model.Project) -> set[tuple[str, ...]]:
    known = {(f.name.schema, f.name.name) for f in project.external_functions} | AUTH_FUNCTIONS
    for table in project.tables.values():
        known.update((project.helper_schema, helper.function) for helper in helpers_of(project, table))
    return known


def _columns_of(project: model.Project, name: model.Name) -> set[str] | None:
    if name.schema == project.schema and name.name in project.tables:
        return {c.name for c in project.tables[name.name].columns}
    if name in project.external_tables:
        return set(project.external_tables[name].columns)
    return None


def check_policy_references(project: model.Project, statements: list[Statement]) -> list[Problem]:
    """Policies on declared tables refer only to their columns and declared objects."""
    problems, known_functions = [], _known_functions(project)
    for s in statements:
        if not isinstance(s.node, ast.CreatePolicyStmt):
            continue
        table = _relation(project, s.node.table)
        if table.schema != project.schema or table.name not in project.tables:
            continue
        if not s.node.roles or any(r.rolename is None for r in s.node.roles):
            problems.append(s.problem(f"policy {s.node.policy_name} has no TO role: it applies to PUBLIC, anon included"))
        refs = _References()
        for expression in (s.node.qual, s.node.with_check):
            if expression is not None:
                refs(expression)
        scope = {table.name: table}
        for rv in refs.relations:
            name = _relation(project, rv)
            if _columns_of(project, name) is None:
                problems.append(s.problem(f"policy {s.node.policy_name} reads {name}, which is neither "
                                          "specified nor declared external", rv.location))
            scope[rv.alias.aliasname if rv.alias else rv.relname] = name
        for call in refs.functions:
            parts = tuple(n.sval for n in call.funcname)
            if parts not in known_functions and not (len(parts) == 1 and (
                    (project.schema, parts[0]) in known_functions or parts[0] in BUILTIN_FUNCTIONS)):
                problems.append(s.problem(f"policy {s.node.policy_name} calls {'.'.join(parts)}(), which is "
                                          "neither generated nor declared external", call.location))
        visible = set().union(*(_columns_of(project, n) or set() for n in scope.values()),
                              *(names or set() for names in refs.function_rows.values()))
        unnamed = any(names is None for names in refs.function_rows.values())
        for ref in refs.columns:
            parts = [f.sval for f in ref.fields if isinstance(f, ast.String)]
            if len(parts) == 1:  # a column, or a whole row (`can_edit(uid, study)`, `study.*`)
                ok = parts[0] in visible or unnamed or parts[0] in scope
            elif parts[-2] in refs.function_rows:
                names = refs.function_rows[parts[-2]]
                ok = names is None or parts[-1] in names
            else:
                owner = scope.get(parts[-2])
                ok = owner is not None and parts[-1] in (_columns_of(project, owner) or set())
            if not ok:
                problems.append(s.problem(f"policy {s.node.policy_name} refers to unknown column "
                                          f"{'.'.join(parts)}", ref.location))
    return problems


def check_grants(project: model.Project, statements: list[Statement]) -> list[Problem]:
    """anon at most the commands anyone may run; authenticated at most what the access spec
    allows; never ALL or TRUNCATE."""
    problems = []
    for s in statements:
        node = s.node
        if not (isinstance(node, ast.GrantStmt) and node.is_grant and node.objtype == enums.ObjectType.OBJECT_TABLE):
            continue
        privileges = {p.priv_name for p in node.privileges} if node.privileges else {"all"}
        for grantee in node.grantees:
            role = grantee.rolename
            for target in node.objects:
                name = _relation(project, target)
                table = project.tables.get(name.name) if name.schema == project.schema else None
                if role == "anon":
                    public = set(table.anyone_commands) if table else set()
                    if privileges - public:
                        problems.append(s.problem(f"grants {', '.join(sorted(privileges - public))} on {name} "
                                                  "to anon, beyond what the access spec lets anyone run"))
                elif role == "authenticated":
                    allowed = set(table.api_commands) if table else set()
                    extra = privileges - allowed
                    if extra:
                        problems.append(s.problem(f"grants {', '.join(sorted(extra))} on {name} to authenticated, "
                                                  "beyond what the access spec allows"))
                elif role == "service_role" and privileges & NEVER_FOR_API:
                    problems.append(s.problem(f"grants {', '.join(sorted(privileges & NEVER_FOR_API))} on {name} "
                                              "to service_role"))
    return problems


def check_security_definer(statements: list[Statement]) -> list[Problem]:
    """A SECURITY DEFINER function pins its search_path, or callers can hijack the names it uses."""
    problems = []
    for s in statements:
        if not isinstance(s.node, ast.CreateFunctionStmt):
            continue
        options = {o.defname: o.arg for o in s.node.options or ()}
        definer = isinstance(options.get("security"), ast.Boolean) and options["security"].boolval
        pinned = any(o.defname == "set" and o.arg.name == "search_path" for o in s.node.options or ())
        if definer and not pinned:
            name = ".".join(n.sval for n in s.node.funcname)
            problems.append(s.problem(f"security definer function {name} does not set search_path"))
    return problems
