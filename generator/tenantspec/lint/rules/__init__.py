"""The lint rules: one function per rule, run on the schema state after the whole folder.

Each rule has an id, a severity and a one-paragraph doc (what it finds, why it matters, how
to fix it) that ``tenantspec lint --explain RULE-ID`` prints. A check takes the replayed
state, the configuration and the tenancy read from the state (``tenancy.py``), and yields
``Violation``s pointing at the statement that brought the problem about; a violation may
carry its own severity when the rule's usual one over- or understates it.
"""

from __future__ import annotations

from tenantspec.lint.rules.base import RULES, Rule, Severity, Violation, note

# The families register their rules on import, in the order --explain lists them.
from tenantspec.lint.rules import functions  # noqa: E402,F401,I001  isort: skip
from tenantspec.lint.rules import grants  # noqa: E402,F401  isort: skip
from tenantspec.lint.rules import rls  # noqa: E402,F401  isort: skip
from tenantspec.lint.rules import policies  # noqa: E402,F401  isort: skip
from tenantspec.lint.rules import writes  # noqa: E402,F401  isort: skip
from tenantspec.lint.rules import indexes  # noqa: E402,F401  isort: skip
from tenantspec.lint.rules import storage  # noqa: E402,F401  isort: skip

__all__ = ["RULES", "Rule", "Severity", "Violation"]

note("suppression-without-reason", Severity.WARNING, "tenantspec: ignore comment without a reason", """
    A `-- tenantspec: ignore RULE-ID` comment that gives no reason. A suppression is a
    decision a reviewer has to be able to check later, so it is not honoured without one.
    Fix: say why after the rule id, e.g. `-- tenantspec: ignore rls-disabled lookup table,
    public by design`.""")

note("unused-suppression", Severity.INFO, "tenantspec: ignore comment that silences nothing", """
    A `-- tenantspec: ignore RULE-ID` comment on a statement where that rule reports
    nothing (or an unknown rule id). It no longer documents a real exception and would
    silently hide a future finding. Fix: remove it, or move it to the statement it was
    meant for.""")
