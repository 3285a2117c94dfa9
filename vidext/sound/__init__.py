"""Sound that follows the picture: pitch-kept time-stretch, retimed and extended feeds, sync.

(Named ``sound`` because ``vidext.audio`` is the public function; the job behind it is
:mod:`vidext.jobs.audio`.)

- :mod:`.stretch`       pitch-kept time-stretch (``STRETCHERS``: wsola default, pvoc, atempo)
- :mod:`.feeds`         ``RetimedAudio`` and ``ExtendedAudio``: AudioFeeds for the video sink
- :mod:`.continuation`  ``CONTINUATIONS``: loop (classical), silence, musicgen (:mod:`.musicgen`)
- :mod:`.sync`          ``av_sync`` / ``estimate_av_offset``: audio–video offset
- :mod:`.pcm`           streaming decode to float blocks, small read/write helpers
"""
from __future__ import annotations

from .feeds import ExtendedAudio, RetimedAudio, encode_codec
from .sync import SyncEstimate, av_sync, estimate_av_offset
from .stretch import STRETCHERS, stretch

__all__ = ["ExtendedAudio", "RetimedAudio", "STRETCHERS", "SyncEstimate", "av_sync", "encode_codec",
           "estimate_av_offset", "stretch"]
