"""``python -m generator.lint [PATH…]``: the lint command on its own."""

import sys

from generator.lint.command import main

sys.exit(main())
