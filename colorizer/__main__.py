"""``python -m colorizer INPUT... -o OUTDIR``: see :mod:`colorizer.cli`."""

import sys

from .cli import main

sys.exit(main())
