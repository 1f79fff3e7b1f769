"""The one error type of tenantspec: problems that carry where they were found."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based position in a source file, printed as ``path:line:col``."""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong, and where."""

    location: Location | None
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class TenantspecError(Exception):
    """Raised for bad input; the CLI prints each problem and exits with status 2."""

    exit_status = 2

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def fail(location: Location | None, message: str) -> TenantspecError:
    """Shorthand for a single-problem error, meant to be raised."""
    return TenantspecError(Problem(location, message))
