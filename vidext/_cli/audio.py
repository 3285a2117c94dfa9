"""vidext audio INPUT -o OUTPUT (--stretch K | --extend SEC ... | --audio FILE)"""
from __future__ import annotations

from .. import api, config
from .common import ProgressBar, report_playable, report_streams, took_words
from ..media.streamwords import fit_words, main_track
from ..sound.continuation import CONTINUATIONS
from ..sound.stretch import STRETCHERS


def add_parser(sub) -> None:
    p = sub.add_parser("audio", help="stretch or extend a sound, or put a sound on a video",
                       description="Pitch-kept time-stretch or continuation of an audio file; or a video "
                                   "with its picture copied and a given sound put on it.")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True, help="output file (.wav .flac .m4a .mp3 ...; a video "
                                                         "container with --audio)")
    op = p.add_mutually_exclusive_group(required=True)
    op.add_argument("--stretch", type=float, metavar="K", help="K× longer at the same pitch (0.125–8)")
    op.add_argument("--extend", type=float, metavar="SEC", help="SEC seconds of new sound")
    op.add_argument("--audio", dest="audio_file", metavar="FILE",
                    help="put FILE's sound on the video INPUT (cut or padded to the picture)")
    p.add_argument("--direction", default="forward", choices=list(config.EXTEND_DIRECTIONS),
                   help="where --extend adds sound (default forward)")
    p.add_argument("--method", default="loop", choices=CONTINUATIONS.names(),
                   help="how --extend continues (default loop; musicgen weights are CC-BY-NC)")
    p.add_argument("--prompt", help="text description for --method musicgen")
    p.add_argument("--seed", type=int, help="random seed for --method musicgen")
    p.add_argument("--stretcher", default=config.DEFAULT_STRETCHER, choices=STRETCHERS.names(),
                   help="--stretch method: wsola (default; speech, effects, drums), pvoc (phase vocoder: "
                        "sustained tonal music), atempo (FFmpeg)")
    p.add_argument("--playable", action="store_true",
                   help="with --audio: also write OUTPUT-stem.playable.mp4 (H.264 4:2:0 8-bit + AAC) when the "
                        "video written does not play in every browser and phone")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(run=run)


def run(args) -> int:
    bar = ProgressBar(not args.quiet)
    try:
        r = api.audio(args.input, args.output, stretch=args.stretch, extend=args.extend, direction=args.direction,
                      method=args.method, prompt=args.prompt, audio_file=args.audio_file, seed=args.seed,
                      stretcher=args.stretcher, playable=args.playable, progress=bar)
    finally:
        bar.close()
    extra = f", picture {r.picture_s:.3f} s" if r.picture_s is not None else ""
    tracks = len(r.details.get("output", {}).get("audio_tracks") or [])
    more = f", {tracks} sound tracks" if tracks > 1 else ""
    print(f"wrote {r.output}: {r.operation}, sound {r.duration_s:.3f} s ({r.codec}){more}{extra}, "
          f"{took_words(r.seconds, r.details.get('timings', {}).get('stages'))}")
    main = main_track(r.details.get("output"))
    if r.picture_s is not None and main is not None:    # how the sound put on the picture was made to fit it
        print(f"sound: {main.get('file') or 'the new sound'}, {fit_words(main, r.picture_s)}")
    report_streams(r)
    report_playable(r)
    return 0
