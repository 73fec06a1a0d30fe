"""``python -m cyclegan_lite ...``: see :mod:`cyclegan_lite.cli`."""

import sys

from .cli import main

sys.exit(main())
