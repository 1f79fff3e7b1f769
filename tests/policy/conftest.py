"""The policy suite's world: personas of workspaces A and B, and the rows they act on."""

import pytest

from generator.testing.personas import WORLD, World, seed_world


@pytest.fixture(scope="session")
def database_seed():
    return seed_world


@pytest.fixture(scope="session")
def world() -> World:
    return WORLD
