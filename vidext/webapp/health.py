"""Container health check: ``python -m vidext.webapp.health [URL]`` exits 0 when the app answers.

It asks the app for its API description (``/gradio_api/info``), which only a
started Gradio back end serves; the default URL is the local server on
$GRADIO_SERVER_PORT (7860).
"""
from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

from .. import config


def check(url: str, timeout: float = 5.0) -> str | None:
    """None when healthy, else what is wrong (one line)."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/gradio_api/info", timeout=timeout) as r:
            info = json.load(r)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{url} does not answer: {exc}"
    missing = {"/interpolate", "/extend", "/audio", "/evaluate"} - set(info.get("named_endpoints", {}))
    if missing:
        return f"{url} lacks the API endpoints {', '.join(sorted(missing))}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    port = os.environ.get("GRADIO_SERVER_PORT") or config.APP_DEFAULT_PORT
    problem = check(args[0] if args else f"http://127.0.0.1:{port}")
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
