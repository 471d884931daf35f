"""``python -m local`` (see :mod:`local.cli`)."""

import sys

from local.cli import main

sys.exit(main())
