import sys

from tenantspec.cli import main

sys.exit(main())
