"""The functions PostgreSQL itself provides: a policy calling one of them unqualified calls
no helper of the app's, so neither adoption nor verification asks for its body or its
declaration. The names are read from pg_functions.txt (pg_catalog of a PostgreSQL server)."""

from __future__ import annotations

from pathlib import Path

_LISTED = (Path(__file__).with_name("pg_functions.txt").read_text(encoding="utf-8")).splitlines()
BUILTIN_FUNCTIONS = frozenset(name for name in _LISTED if name and not name.startswith("#"))
