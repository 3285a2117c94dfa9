"""The web app's logic, free of layout: what can run, timeline, jobs, handlers, start-up.

``app.py`` (at the repository root) holds the Gradio layout and calls only
these functions; ``vidext serve`` starts it.  Gradio itself is imported only
by ``app.py``, never here, so this package stays cheap to import and test.
"""
