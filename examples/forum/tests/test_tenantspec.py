"""tenantspec's proof of this project's migrations (pip install "tenantspec[test]")."""

from tenantspec.testing.proof import *  # noqa: F403
