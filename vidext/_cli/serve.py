"""vidext serve [--host H] [--port P] [--public]: the web app (Gradio)."""
from __future__ import annotations

from .. import config


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="start the web app (four tabs and the Gradio API)",
                       description="Start the Gradio app; the API is at /interpolate, /extend, /audio, "
                                   "/evaluate.  Limits come from VIDEXT_MAX_* environment variables.")
    p.add_argument("--host", default=None,
                   help="address to listen on (default $GRADIO_SERVER_NAME or 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--port", type=int, default=None,
                   help=f"port (default $GRADIO_SERVER_PORT or {config.APP_DEFAULT_PORT})")
    p.add_argument("--public", action="store_true",
                   help="apply a public demo's conservative limits where VIDEXT_MAX_* are unset")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..webapp.ui import serve

    serve(host=args.host, port=args.port, public=args.public)
    return 0
