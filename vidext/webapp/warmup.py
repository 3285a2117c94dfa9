"""At server start, RIFE's full CPU calibrations in the background, so no user's job measures.

A job on a CPU not yet calibrated takes the table of CPU families already
measured, or a screen of about a second (:mod:`vidext.interpolation.rife.calibration`);
the server then refines those choices with full calibrations of the common
frame sizes in a child process at low priority, once the machine is quiet
(entries measured while it is busy stay provisional).  Where the calibration
file lives on a volume (the Docker image: ``/data``), a restart keeps them.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys

log = logging.getLogger(__name__)

NICE = 10                   # the child's niceness: a user's job always comes first
WAIT_S = 600                # how long it waits for a quiet machine before measuring anyway (then provisional)


def precalibrate_in_background() -> subprocess.Popen | None:
    """Start ``python -m vidext.interpolation.rife.precalibrate`` when RIFE's weights are at hand
    and calibration is on; None (and why, in the log) otherwise.  The child's lines go to the
    server's output; it ends with the server, and only one runs per calibration file."""
    from .. import config
    from . import capabilities as caps

    if os.environ.get("VIDEXT_CALIBRATION", "on").strip().lower() == "off":
        return None
    if not caps.weights(config.RIFE_MODEL).available:
        log.info("RIFE calibration not started: its weights are not on this machine")
        return None
    cmd = [sys.executable, "-m", "vidext.interpolation.rife.precalibrate", "--wait", str(WAIT_S), "--nice", str(NICE),
           "--parent", str(os.getpid())]
    log.info("RIFE CPU calibration started in the background: %s", " ".join(cmd[1:]))
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
