"""tenantspec's proof of this project's migrations (pip install "tenantspec[test]")."""

from generator.testing.proof import *  # noqa: F403
