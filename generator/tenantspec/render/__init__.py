"""Rendering: the model as template context, the SQL helpers and predicates policies use,
quoting, the declared access matrix, and pglast verification of everything emitted."""
