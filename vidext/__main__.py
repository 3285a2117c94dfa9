"""``python -m vidext`` is the ``vidext`` command."""
import sys

from ._cli import main

sys.exit(main())
