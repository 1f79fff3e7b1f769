"""The mutation operators: what each kind of statement can be made subtly wrong into
(policies, grants, tables and their constraints)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pglast
from pglast import ast, enums
from pglast.stream import RawStream

from tenantspec.catalog.nodes import walk
from tenantspec.testing.mutate.folder import (
    FK_ACTION_NAMES,
    FK_ACTION_SWAP,
    TABLE_PRIVILEGES,
    Mutant,
    Statement,
    _calls,
    _name,
    _relation,
)

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
