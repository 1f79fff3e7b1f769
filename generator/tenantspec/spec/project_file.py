"""The project file's parts, read by the loader: external tables and functions, the
tenancy (workspaces, memberships, levels) and the first migrations' layout."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tenantspec.spec import model, rules
from tenantspec.spec.expressions import condition_values, parse_expression


class ProjectFile:
    """The part of ``ProjectBuilder`` that reads ``project.yaml`` beside the tables."""

    def external_tables(self) -> dict[model.Name, model.ExternalTable]:
        tables = {}
        for key, spec in self.doc.data.get("external", {}).get("tables", {}).items():
            name = self.name(key)
            columns = {}
            for column, type_text in spec["columns"].items():
                columns[column], _ = rules.column_type(self, str(type_text))
                if message := rules.unknown_type(self, str(type_text)):
                    self.problem(self.doc.locate(("external", "tables", key, "columns", column)),
                                 rules.enum_hint(self, str(type_text), message))
            workspace_column = spec.get("workspace_column")
            if workspace_column and workspace_column not in columns:
                self.problem(self.doc.locate(("external", "tables", key, "workspace_column")),
                             f"'{workspace_column}' is not a column of {name}")
            for column in spec.get("seed", {}):
                if column not in columns:
                    self.problem(self.doc.locate(("external", "tables", key, "seed", column), key=True),
                                 f"'{column}' is not a column of {name}")
            tables[name] = model.ExternalTable(name, columns, workspace_column, dict(spec.get("seed", {})))
        for key, spec in self.doc.data.get("external", {}).get("tables", {}).items():
            name = self.name(key)
            references = {}
            for column, target in (spec.get("references") or {}).items():
                where = ("external", "tables", key, "references", column)
                if column not in tables[name].columns:
                    self.problem(self.doc.locate(where, key=True), f"'{column}' is not a column of {name}")
                target_name = self.name(target["table"])
                spec = self.docs_by_table.get(target_name.name) if target_name.schema == self.schema else None
                if spec is not None:  # a table of the specs: its rows are seeded before this one's
                    if target.get("column", "id") not in (spec.data.get("columns") or {}):
                        self.problem(self.doc.locate(where + ("column",) if "column" in target else where + ("table",)),
                                     f"'{target.get('column', 'id')}' is not a column of {target_name}")
                elif target_name not in tables:
                    self.problem(self.doc.locate(where + ("table",)),
                                 f"{target_name} is not declared under external.tables or specified under schema/: "
                                 f"declare it beside {name}")
                elif target.get("column", "id") not in tables[target_name].columns:
                    self.problem(self.doc.locate(where + ("column",) if "column" in target else where + ("table",)),
                                 f"'{target.get('column', 'id')}' is not a column of {target_name}")
                references[column] = model.Reference(target_name, target.get("column", "id"), target.get("on_delete"),
                                                     False)
            if references:
                tables[name] = dataclasses.replace(tables[name], references=references)
        return tables

    def external_functions(self) -> tuple[model.ExternalFunction, ...]:
        functions = []
        for signature in self.doc.data.get("external", {}).get("functions", []):
            head, _, args = str(signature).partition("(")
            arg_types = tuple(a.strip() for a in args.rstrip(")").split(",") if a.strip())
            functions.append(model.ExternalFunction(self.name(head.strip()), arg_types))
        return tuple(functions)

    def tenancy(self, external: dict[model.Name, model.ExternalTable]) -> model.TenantModel:
        data = self.doc.data["tenancy"]
        members = data["members"]
        claims = members.get("claims") or {}
        members_name = self.name(members["table"]) if "table" in members else None
        member_table = external.get(members_name) if members_name else None
        if members_name is None:  # the token's claims alone carry the membership
            for key in ("role_column", "role_array", "role_values", "role_field", "user_through", "active",
                        "open_roles"):
                if key in members:
                    self.problem(self.doc.locate(("tenancy", "members", key), key=True),
                                 f"{key} says how the members table keeps a membership; with claims and no table, "
                                 "the token carries it")
        elif member_table is None:
            self.problem(self.doc.locate(("tenancy", "members", "table")),
                         f"members table {members_name} is not declared under external.tables")
        else:
            for key in ("workspace_column", "user_column", "role_column"):
                if key in members and members[key] not in member_table.columns:
                    self.problem(self.doc.locate(("tenancy", "members", key)),
                                 f"'{members[key]}' is not a column of {members_name}")
        workspaces = self.name(data["workspaces"])
        if workspaces not in external:
            self.problem(self.doc.locate(("tenancy", "workspaces")),
                         f"workspaces table {workspaces} is not declared under external.tables")
        levels = {}
        for level, roles in data["levels"].items():
            if level in model.BUILT_IN_LEVELS:
                self.problem(self.doc.locate(("tenancy", "levels", level), key=True),
                             f"'{level}' is built in and cannot be redefined")
            levels[level] = tuple(str(r) for r in roles)
        held = {role for roles in levels.values() for role in roles}
        owner = data.get("owner") or {}
        owner_role = str(owner.get("role", "owner")) if owner else None
        if owner:
            workspace_table = external.get(workspaces)
            if workspace_table is not None and owner["column"] not in workspace_table.columns:
                self.problem(self.doc.locate(("tenancy", "owner", "column")),
                             f"'{owner['column']}' is not a column of {workspaces}")
            if owner_role not in held:
                self.problem(self.doc.locate(("tenancy", "owner"), key=True),
                             f"no level names the owner's role {owner_role!r}: add it to the levels that owners hold")
            elif held == {owner_role}:
                self.problem(self.doc.locate(("tenancy", "owner"), key=True),
                             f"the levels name only the owner's role {owner_role!r}: name the members' role too")
            held = held - {owner_role}
        if "role_column" not in members and not (members_name is None and claims.get("role")) and len(held) > 1:
            self.problem(self.doc.locate(("tenancy", "levels")),
                         f"the members table has no role_column, so every member is alike: the levels name one "
                         f"role, not {len(held)} ({', '.join(sorted(held))})")
        active = members.get("active")
        if active is not None:
            where = self.doc.locate(("tenancy", "members", "active"))
            if (why := parse_expression(str(active))) is not None:
                self.problem(where, f"active: {why}")
            elif (values := condition_values(str(active))) is None:
                self.problem(where, "active: say the condition as the columns' values joined by `and` (`is_active`, "
                                    "`deleted_at is null`, `status = 'active'`, `not archived`): the policy tests "
                                    "write member rows that hold it")
            elif member_table is not None and (unknown := [c for c in values if c not in member_table.columns]):
                self.problem(where, f"active: {', '.join(unknown)} is not a column of {members_name}")
        if members.get("open_roles") and "role_column" not in members:
            self.problem(self.doc.locate(("tenancy", "members", "open_roles"), key=True),
                         "open_roles says the role column holds roles no level names: name the role_column")
        if members.get("role_array") and "role_column" not in members:
            self.problem(self.doc.locate(("tenancy", "members", "role_array"), key=True),
                         "role_array says role_column holds an array of roles: name the role_column")
        if claims.get("role") and "role_column" not in members and members_name is not None:
            self.problem(self.doc.locate(("tenancy", "members", "claims", "role"), key=True),
                         "claims.role is the token's copy of the role column: name the role_column")
        if claims and not claims.get("role") and len(held) > 1:
            self.problem(self.doc.locate(("tenancy", "members", "claims"), key=True),
                         f"the levels name {len(held)} roles, but claims say no role claim: name the claim "
                         "holding the role (claims.role)")
        role_values = members.get("role_values") or {}
        if role_values:
            where = self.doc.locate(("tenancy", "members", "role_values"), key=True)
            if "role_column" not in members:
                self.problem(where, "role_values says what role_column holds for each role: name the role_column")
            elif claims:
                self.problem(where, "claims carry the roles' names; role_values says the role column holds others")
            elif missing := sorted(held - set(map(str, role_values))):
                self.problem(where, f"role_values says nothing of {', '.join(missing)}, which the levels name: "
                                    "say what the role column holds for every role")
            elif len(set(role_values.values())) < len(role_values):
                self.problem(where, "role_values gives two roles the same value")
        role_field = members.get("role_field")
        if role_field:
            where = self.doc.locate(("tenancy", "members", "role_field"), key=True)
            role_type = (member_table.columns.get(members.get("role_column", "")) or "") if member_table else ""
            if "role_column" not in members:
                self.problem(where, "role_field says where in role_column's JSON the role is: name the role_column")
            elif members.get("role_array") or claims:
                self.problem(where, "role_field reads one role from a JSON document: not with role_array or claims")
            elif member_table is not None and role_type.strip().lower() not in ("json", "jsonb"):
                self.problem(where, f"role_field reads the role from a JSON document, but {members['role_column']} "
                                    f"is {role_type}")
        through = members.get("user_through")
        if through:
            through_name = self.name(through["table"])
            through_table = external.get(through_name)
            if through_table is None:
                self.problem(self.doc.locate(("tenancy", "members", "user_through", "table")),
                             f"user_through table {through_name} is not declared under external.tables")
            else:
                for key in ("key", "user_column"):
                    if through.get(key, "id") not in through_table.columns:
                        self.problem(self.doc.locate(("tenancy", "members", "user_through", key),
                                                     key=key not in through),
                                     f"'{through.get(key, 'id')}' is not a column of {through_name}")
            if claims:
                self.problem(self.doc.locate(("tenancy", "members", "user_through"), key=True),
                             "claims carry the membership in the token: no members table is read, so no user_through")
        if claims and members.get("role_array"):
            self.problem(self.doc.locate(("tenancy", "members", "claims"), key=True),
                         "claims hold one role per token; role_array says a member holds several")
        sole_role = str(members["sole_role"]) if members.get("sole_role") is not None else None
        if sole_role is not None and sole_role not in held:
            self.problem(self.doc.locate(("tenancy", "members", "sole_role")),
                         f"sole_role '{sole_role}' is a role no level names (roles: {', '.join(sorted(held))})")
        return model.TenantModel(
            workspaces=workspaces,
            members=model.Members(members_name, members.get("workspace_column"), members.get("user_column"),
                                  members.get("role_column"),
                                  bool(members.get("one_per_user", False)) or bool(claims),
                                  bool(members.get("role_array", False)),
                                  str(active) if active is not None else None,
                                  claims.get("workspace"), claims.get("role"),
                                  open_roles=bool(members.get("open_roles", False)),
                                  role_values=tuple((str(role), value) for role, value in role_values.items()),
                                  user_through=model.UserThrough(self.name(through["table"]), through.get("key", "id"),
                                                                 through["user_column"]) if through else None,
                                  role_field=str(role_field) if role_field else None,
                                  sole_role=sole_role),
            levels=levels,
            owner_column=owner.get("column"),
            owner_role=owner_role,
        )

    def declared_table_names(self) -> set[str]:
        names = set()
        for doc in self.table_docs:
            name = doc.data["table"]
            stem = Path(doc.path).stem
            if name != stem:
                self.problem(doc.locate(("table",)), f"table '{name}' must be specified in schema/{name}.yaml, not {doc.path}")
            if name in names:
                self.problem(doc.locate(("table",)), f"table '{name}' is specified twice")
            if self.name(name) in self.external:
                self.problem(doc.locate(("table",)), f"table '{name}' is declared external in {self.doc.path}")
            names.add(name)
        return names

    def buckets(self) -> dict[str, model.Bucket]:
        """``storage.buckets``: each bucket's settings and who may do what with its objects."""
        buckets = {}
        for bucket_id, spec in (self.doc.data.get("storage") or {}).get("buckets", {}).items():
            where = ("storage", "buckets", bucket_id)
            folder = spec.get("folder", model.WORKSPACE_FOLDER)
            access = {}
            for command, rule in (spec.get("access") or {}).items():
                rule = str(rule)
                known = (model.OWN, model.NOBODY) if folder == model.USER_FOLDER else (*self.levels, model.NOBODY)
                if rule not in known:
                    self.problem(self.doc.locate(where + ("access", command)),
                                 f"bucket {bucket_id}: {command}: {rule!r} is not "
                                 + ("own or nobody (a user folder is its user's own)" if folder == model.USER_FOLDER
                                    else f"a level ({', '.join(self.levels)}) or nobody"))
                access[command] = rule
            seen = access.get("select", model.NOBODY)
            for command in ("update", "delete"):
                rule = access.get(command, model.NOBODY)
                if rule == model.NOBODY or rule == seen:
                    continue
                wider = rule == model.OWN or seen == model.OWN or seen == model.NOBODY or \
                    not set(self.levels.get(rule, ())) <= set(self.levels.get(seen, ()))
                if wider:
                    article = "an" if command == "update" else "a"
                    self.problem(self.doc.locate(where + ("access", command)),
                                 f"bucket {bucket_id}: {command}: {rule}, but select is {seen}: PostgreSQL lets "
                                 f"{article} {command} reach only the files select lets the user see; give select "
                                 f"{rule} (or a wider level), or narrow {command}")
            buckets[str(bucket_id)] = model.Bucket(
                str(bucket_id), bool(spec.get("public", False)), spec.get("file_size_limit"),
                tuple(str(t) for t in spec.get("allowed_mime_types") or ()), folder, access,
                self.doc.locate(where + ("access",) if "access" in spec else where, key="access" not in spec),
                tuple(str(name) for name in spec.get("replaces") or ()))
        return buckets

    def migrations(self, tables: dict[str, model.Table]) -> tuple[model.Migration, ...]:
        migrations, placed = [], {}
        versions = set()
        for i, spec in enumerate(self.doc.data.get("migrations", [])):
            version = str(spec["version"])
            if version in versions:
                self.problem(self.doc.locate(("migrations", i, "version")), f"version {version} is used twice")
            versions.add(version)
            for j, table in enumerate(spec["tables"]):
                where = self.doc.locate(("migrations", i, "tables", j))
                if table not in self.table_names:
                    self.problem(where, f"no spec for table '{table}' (expected schema/{table}.yaml)")
                elif table in placed:
                    self.problem(where, f"table '{table}' is already in migration {placed[table]}")
                else:
                    for column in tables[table].columns if table in tables else ():
                        target = column.references.table if column.references else None
                        if target and target.schema == self.schema and target.name in self.table_names \
                                and target.name != table and target.name not in placed:
                            self.problem(where, f"table '{table}' references '{target.name}', "
                                                f"which must come earlier in the migrations")
                    placed[table] = version
            migrations.append(model.Migration(version, spec["name"], tuple(spec["tables"])))
        if sorted(m.version for m in migrations) != [m.version for m in migrations]:
            self.problem(self.doc.locate(("migrations",)), "migrations must be listed in version order")
        return tuple(migrations)
