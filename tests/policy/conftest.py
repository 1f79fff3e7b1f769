"""The policy suite's world: personas of workspaces A and B, and the rows they act on."""

import pytest

from generator.testing.personas import WORLD, World, seed_world


@pytest.fixture(scope="session")
def database_seed():
    return seed_world


@pytest.fixture(scope="session")
def world() -> World:
    return WORLD


def pytest_terminal_summary(terminalreporter):
    from access_matrix import OBSERVED, PROBE_FIGURES, denial_summary

    if PROBE_FIGURES:
        probes = sum(n for n, _ in PROBE_FIGURES)
        seconds = sum(s for _, s in PROBE_FIGURES)
        terminalreporter.write_line(
            f"tenantspec: {probes} access probes in {seconds:.2f}s ({probes / seconds:.0f} probes/s)"
        )
        summary = ", ".join(f"{how}: {n}" for how, n in denial_summary(OBSERVED).items())
        terminalreporter.write_line(f"tenantspec: denials seen by the probes -- {summary}")
