"""Distribution for :func:`vidext.batch`: chunk planning (:mod:`.plan`), the resumable manifest
(:mod:`.manifest`) and the Ray runtime (:mod:`.runtime`).

The batch job itself (check → plan → run → result) is :mod:`vidext.jobs.batch`; this package
knows no job: a task names the function it runs.
"""
