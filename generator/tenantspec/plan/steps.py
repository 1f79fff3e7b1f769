"""The next migration as data: steps in phase order, each with its words, statements and
hazards, and the plan that holds them."""

from __future__ import annotations

from dataclasses import dataclass

from tenantspec.catalog import names as pg_names
from tenantspec.catalog.state import LEGACY, RESTRICTED
from tenantspec.errors import Location
from tenantspec.render.quoting import ident

REGIMES = (LEGACY, RESTRICTED)
GRANTEES = ("public", "anon", "authenticated", "service_role")
REALTIME = "supabase_realtime"

# Step phases: the order PostgreSQL accepts. Whatever uses an object goes before it does
# (policies before the columns they read), and is created after it exists.
DROP_POLICY, DROP_TRIGGER, DROP_FOREIGN_KEY, DROP_CONSTRAINT, DROP_INDEX = 10, 11, 12, 13, 14
LEAVE_PUBLICATION, DROP_TABLE, RENAME, DROP_COLUMN, ALTER_COLUMN, ADD_COLUMN = 15, 16, 20, 30, 40, 41
# keys come before new tables, whose foreign keys may need them; foreign keys and checks after
HELPERS, ADD_KEY, CREATE_TABLE, ADD_CONSTRAINT, CREATE_INDEX, COMMENT, CREATE_TRIGGER = 50, 55, 60, 70, 71, 80, 81
ENABLE_RLS, CREATE_POLICY, GRANTS, JOIN_PUBLICATION, DROP_HELPER = 85, 90, 100, 110, 120




@dataclass(frozen=True)
class Hazard:
    """Something a step may do to data; ``destructive`` ones are refused unless allowed."""

    message: str
    location: Location | None
    destructive: bool = True

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


@dataclass(frozen=True)
class Step:
    """One change, in words, and the statements that make it."""

    phase: int
    summary: str
    statements: tuple[str, ...]
    table: str | None = None
    hazards: tuple[Hazard, ...] = ()
    # (verb, object) for naming the migration: ("add", "notes"), ("create", "audit_log")
    label: tuple[str, str] | None = None


def proving_check(table: str, column: str) -> str:
    """The CHECK that lets ``set not null`` skip its scan of the table. Its label is not
    PostgreSQL 18's ``not_null``, so the NOT NULL constraint created beside it keeps the name a
    fresh table gets (``<table>_<column>_not_null``), never a numbered one."""
    return ident(pg_names.object_name(table, column, pg_names.NOT_NULL_CHECK))


@dataclass(frozen=True)
class Plan:
    """The ordered steps of the next migration, and what reviewers should know besides."""

    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.steps

    @property
    def hazards(self) -> list[Hazard]:
        return [hazard for step in self.steps for hazard in step.hazards]

    @property
    def destructive(self) -> list[Hazard]:
        return [hazard for hazard in self.hazards if hazard.destructive]

    def name(self) -> str:
        """A file name part derived from the change, e.g. ``add_robot_jobs_notes``."""
        labelled = [(s.table, s.label) for s in self.steps if s.label and s.table] or [
            (s.table, s.label) for s in self.steps if s.label]
        tables = list(dict.fromkeys(t for t, _ in labelled if t)) or list(
            dict.fromkeys(s.table for s in self.steps if s.table))
        kinds = list(dict.fromkeys(label for _, label in labelled))
        if len(tables) == 1 and len(kinds) == 1:
            verb, thing = kinds[0]
            name = f"{verb}_{tables[0]}" if thing == tables[0] else f"{verb}_{tables[0]}_{thing}"
        elif tables:
            verb = "create" if all(label[0] == "create" for label in kinds) else "alter"
            more = f"_and_{len(tables) - 3}_more" if len(tables) > 3 else ""
            name = f"{verb}_{'_'.join(tables[:3])}"[:80 - len(more)].rstrip("_") + more
        elif kinds:  # types only: extend_topic_status, create_job_status
            name = "_".join(f"{verb}_{thing}" for verb, thing in kinds[:2])
        else:
            name = "update_helpers"
        return name[:80].rstrip("_")
