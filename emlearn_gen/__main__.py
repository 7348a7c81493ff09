"""``python -m emlearn_gen``: the emlearn-gen command line."""

import sys

from .cli import main

sys.exit(main())
