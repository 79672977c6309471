"""``python -m scoring.cli``: the same as the ``parindex`` command."""

import sys

from scoring.cli import main

sys.exit(main())
