"""What a folder of SQL migrations builds, read without a database.

``source`` parses migration files into located statements, ``replay`` applies them in order
to a schema state (tables, columns, constraints, indexes, policies, grants, functions), and
``expression`` reads policy and default expressions. The linter, the migration planner and
the adoption of hand-written tables all read this one model of what exists.
"""
