"""``python -m vidext`` is the ``vidext`` command."""
from ._cli import entry

entry()
