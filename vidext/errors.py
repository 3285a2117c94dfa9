"""One error hierarchy for everything vidext refuses or fails to do.

Every error a user can cause is a :class:`VidextError`; each subclass also
derives from the matching built-in error so callers can catch either.  The CLI
prints ``error: <message>`` and exits 2; the app shows the message; nothing
else catches broadly.
"""
from __future__ import annotations


class VidextError(Exception):
    """Base class: a problem the user can act on, with a one-line message."""


class InputError(VidextError, ValueError):
    """The input file cannot be read as the needed kind of media."""


class ParameterError(VidextError, ValueError):
    """An argument is out of range or inconsistent with another one."""


class LimitError(VidextError, ValueError):
    """The job exceeds a configured limit (pixels, duration, frame count...)."""


class OutputError(VidextError, OSError):
    """The output cannot be written where or how it was asked."""


class DependencyError(VidextError, ImportError):
    """An optional dependency needed for the chosen backend is missing."""


class ModelError(VidextError, OSError):
    """Model weights cannot be found, downloaded or verified."""


class Cancelled(VidextError):
    """The job was stopped by its caller before it completed."""
