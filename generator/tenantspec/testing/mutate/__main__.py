"""``python -m tenantspec.testing.mutate``."""

import sys

from tenantspec.testing.mutate.run import main

sys.exit(main())
