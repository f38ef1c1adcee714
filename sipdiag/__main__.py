"""``python -m sipdiag``: the same as the ``sipdiag`` command."""

import sys

from sipdiag.cli import program

sys.exit(program())
