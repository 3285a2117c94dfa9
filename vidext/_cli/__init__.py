"""The ``vidext`` command: argparse in, :mod:`vidext` calls out, nothing else.

Every subcommand lives in its own module with ``add_parser(subparsers)`` and
``run(args)``; this file wires them up and turns errors into one
``error: ...`` line on stderr with exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from .._version import __version__
from ..errors import Cancelled, VidextError

# One line per subcommand module (vidext/_cli/<name>.py).
COMMANDS = ("interpolate", "extend", "audio", "evaluate", "probe", "sample", "serve", "batch")


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


if __name__ == "__main__":
    sys.exit(main())
