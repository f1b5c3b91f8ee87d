"""``python -m chipsim`` is the ``chipsim`` command."""

import sys

from .cli import main

sys.exit(main())
