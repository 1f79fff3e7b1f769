"""The proof tenantspec gives every project (generator.testing.proof), run on this one."""

from generator.testing.proof import *  # noqa: F403
