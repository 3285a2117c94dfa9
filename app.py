"""vidext web app: ``python app.py`` (also the Hugging Face Space's and Docker's entry point).

The page is built by :mod:`vidext.webapp.ui` (one builder per tab); ``vidext
serve`` starts the same thing.  The API (``/interpolate``, ``/extend``,
``/audio``, ``/evaluate``) is documented on the page's "Use via API" link
and in docs/app.md.
"""
from vidext.webapp.ui import build_demo, launch, main

__all__ = ["build_demo", "launch", "main"]

if __name__ == "__main__":
    main()
