"""``python -m tenantspec.lint [PATH…]``: the lint command on its own."""

import sys

from tenantspec.lint.command import main

sys.exit(main())
