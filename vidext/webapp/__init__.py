"""The web app: what can run, plans, timeline, jobs, handlers, presentation, and the page.

``vidext.webapp.ui`` builds the Gradio page, one builder per tab, and is the
only part that imports Gradio; the rest (``present`` the words and tables a
user reads, ``plans`` the engine's plans, ``handlers`` form → vidext call,
``jobs``, ``timeline``, ``capabilities``, ``server``) stays cheap to import and
is tested without a browser.  ``app.py`` and ``vidext serve`` both start
:func:`vidext.webapp.ui.main`.
"""
