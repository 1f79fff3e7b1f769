"""The proof tenantspec gives every project (tenantspec.testing.proof), run on this one."""

from tenantspec.testing.proof import *  # noqa: F403
