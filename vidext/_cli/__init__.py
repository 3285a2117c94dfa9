"""The ``vidext`` command: argparse in, :mod:`vidext` calls out, nothing else.

Every subcommand lives in its own module with ``add_parser(subparsers)`` and
``run(args)``; this file wires them up and turns errors into one
``error: ...`` line on stderr with exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from .._version import __version__
from ..errors import Cancelled, VidextError
from ..media.heap import reuse_freed_memory

# One line per subcommand module (vidext/_cli/<name>.py).
COMMANDS = ("interpolate", "extend", "audio", "evaluate", "probe", "sample", "serve", "batch")
# Commands that leave nothing running when they return: their outputs are complete and in place,
# their threads joined, their temporary folders removed (see entry()).  Not ``serve`` (Gradio's
# own shutdown) nor ``batch`` (Ray's).
QUICK_EXIT = frozenset({"interpolate", "extend", "audio", "evaluate", "probe", "sample"})


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors follow the contract too
        self.exit(2, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vidext", description="Make a clip longer and smoother without making it worse.")
    parser.add_argument("--version", action="version", version=f"vidext {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # The CLI's stderr carries one `error:` line on failure: libraries' retry chatter
    # (huggingface_hub's download retries) stays below that.
    os.environ.setdefault("HF_HUB_VERBOSITY", "error")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        reuse_freed_memory()    # before any thread starts: every thread then shares the one reused heap
        return int(args.run(args) or 0)
    except Cancelled:
        print("error: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\nerror: interrupted", file=sys.stderr)
        return 130
    except VidextError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # last resort: one line, the traceback only on request
        if os.environ.get("VIDEXT_DEBUG"):
            raise
        print(f"error: internal error ({type(exc).__name__}: {exc}); rerun with VIDEXT_DEBUG=1 "
              f"for details", file=sys.stderr)
        return 1


def entry() -> None:
    """The ``vidext`` console script and ``python -m vidext``: :func:`main`, then the exit status.

    After a command of :data:`QUICK_EXIT` the process ends at once (``os._exit``, once logging
    and the standard streams are flushed) instead of through the interpreter's shutdown, which
    with PyTorch loaded took 0.4 s of every RIFE run (``import torch`` and a matrix product:
    1.20 s to the last line, 1.57 s to the process's end; 1.15 s with the quick exit).
    """
    argv = sys.argv[1:]
    rc = main(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in QUICK_EXIT:
        sys.exit(rc)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):     # a closed pipe or stream: nothing more can be said on it
            pass
    os._exit(rc)


if __name__ == "__main__":
    entry()
