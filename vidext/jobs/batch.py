"""``vidext.batch``: one job over many files, or one long film in chunks, on Ray; resumable.

Check inputs, plan (per file: already done, one task, or chunks at scene
cuts/keyframes), run the tasks on Ray workers, join each chunked film with
its sound, and report per file.  Every finished piece is recorded in the
manifest with its checksum, so a rerun does only what is missing or damaged.
"""
from __future__ import annotations

import inspect
import os
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction

from .. import config
from ..errors import InputError, LimitError, OutputError, ParameterError, VidextError
from ..media.atomic import check_output_path, sidecar_header, write_sidecar
from ..media.codecs import CODECS, VIDEO_CONTAINERS, codec_for
from ..media.probe import probe_video
from ..media.runner import Progress, ProgressCallback, ProgressMeter
from ..batch import runtime
from ..batch.manifest import Manifest, entry_key, sha256
from .result import Result

BATCH_SIDECAR = "batch.json"        # in the output folder: the per-file summary of the last run
BATCH_VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mxf", ".ts", ".mts", ".gif")


JOBS = ("interpolate", "extend")
#: the function a worker calls for each job ("module:function", resolved in the worker)
RUNS = {"interpolate": "vidext.jobs.interpolate:run_interpolation", "extend": "vidext.jobs.extend:run_extension"}
_NOT_OPTIONS = {"input", "output", "progress", "stop", "span", "settings", "advanced"}


def _job_parameters(job: str) -> dict:
    """The job's keyword options (what :func:`vidext.interpolate` / :func:`vidext.extend` take)."""
    if job == "interpolate":
        from .interpolate import check_settings, run_interpolation

        functions = (run_interpolation, check_settings)
    else:
        from .extend import run_extension

        functions = (run_extension,)
    return {k: p for f in functions for k, p in inspect.signature(f).parameters.items()
            if k not in _NOT_OPTIONS}


@dataclass(frozen=True)
class BatchProgress(Progress):
    """:class:`Progress` in output frames over the whole batch, with files and chunks."""

    files_done: int = 0
    files_total: int = 0
    chunks_done: int = 0
    chunks_total: int = 0
    running: dict = field(default_factory=dict)   # task id → pid of the worker rendering it now


@dataclass
class FileSummary:
    input: str
    output: str
    state: str                  # "done" (made now), "kept" (already done), "failed"
    chunks: int = 1
    chunks_run: int = 0
    frames: int | None = None
    seconds: float = 0.0        # worker seconds spent on this file in this run
    peak_rss_mb: float | None = None   # the largest peak memory of a worker process that ran it
    error: str | None = None
    #: what the output could not keep of the input (sound tracks, subtitles, chapters, tags ...) and why,
    #: and what it converted: the output sidecar's ``output.dropped`` / ``output.converted``
    dropped: list = field(default_factory=list)
    converted: list = field(default_factory=list)


@dataclass
class BatchResult(Result):
    files: list[FileSummary]
    sidecar: str
    chunks_total: int
    chunks_run: int
    workers: int
    seconds: float

    @property
    def failed(self) -> list[FileSummary]:
        return [f for f in self.files if f.state == "failed"]


@dataclass
class _File:
    input: str
    output: str
    entry: dict
    info: object = None
    retime: object = None          # RetimePlan of a chunked interpolation
    tasks: list = field(default_factory=list)
    summary: FileSummary = None

    @property
    def chunked(self) -> bool:
        return "chunks" in self.entry


def batch(job: str, inputs, out_dir: str, *, options: dict | None = None, address: str | None = None,
          chunk_seconds: float | None = None, resume: bool = False, workers: int | None = None,
          progress: ProgressCallback | None = None, stop: threading.Event | None = None) -> BatchResult:
    """Run ``job`` (``interpolate`` or ``extend``) on every input into ``out_dir``; a :class:`BatchResult`.

    ``inputs`` are files or folders (their videos, sorted); each output is
    ``out_dir/NAME.EXT`` with the input's extension when the codec allows it.
    ``options`` are the job's own keyword arguments (``factor``, ``codec``,
    ``model``, ``seconds``…).  With ``chunk_seconds`` (interpolate) a film
    longer than 1.5× that is split at scene cuts, else keyframes, into chunks
    run in parallel and joined frame-for-frame as one run would make it, the
    sound added once for the whole film.  ``address`` joins a Ray cluster;
    without it a local runtime starts on this machine (no dashboard, nothing
    sent anywhere).  ``workers`` caps the workers (default: one per GPU for
    learned models, else one per CPU).  A rerun with the same settings (or
    ``resume=True``, which insists that there is something to resume) redoes
    only what is missing or damaged.  Files that fail are reported, not
    raised; ``progress`` receives :class:`BatchProgress`.
    """
    t0 = time.perf_counter()
    options = _check_options(job, options, chunk_seconds)
    paths = _expand(inputs)
    out_dir = os.path.abspath(out_dir)
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"cannot create the output folder {out_dir}: {exc.strerror or exc}") from exc
    manifest = Manifest(out_dir)
    if resume and not manifest.files:
        raise ParameterError(f"nothing to resume in {out_dir}: no batch manifest there")
    files = []
    for p in paths:
        try:
            files.append(_plan_file(job, p, out_dir, options, chunk_seconds, manifest, stop))
        except (InputError, LimitError) as exc:   # this file is unusable: reported, the others go on
            files.append(_File(p, "", {}, summary=FileSummary(p, "", "failed", chunks=0, error=str(exc))))
    manifest.save()
    tasks = [t for f in files for t in f.tasks]
    pool_size = 0
    owned = False
    try:
        if tasks:
            owned = runtime.connect(address)
            pool = runtime.plan_pool(_learned(job, options), workers, len(tasks))
            pool_size = pool.workers
            _run(files, tasks, pool, manifest, progress, stop, t0)
        for f in files:
            if f.summary.state != "failed" and f.chunked and not Manifest.valid(f.entry, f.output):
                try:
                    _join(f, manifest)
                except (InputError, OutputError) as exc:   # this film fails; the others are kept
                    f.summary.state, f.summary.error = "failed", str(exc)
    finally:
        if owned:
            runtime.shutdown()
    result = BatchResult(files=[f.summary for f in files], sidecar=os.path.join(out_dir, BATCH_SIDECAR),
                         chunks_total=sum(f.summary.chunks for f in files),
                         chunks_run=sum(f.summary.chunks_run for f in files), workers=pool_size,
                         seconds=time.perf_counter() - t0)
    # write_sidecar adds ".json": this writes DIR/batch.json atomically
    write_sidecar(result.sidecar[:-len(".json")], {
        **sidecar_header(f"batch {job}", options=options),
        "chunk_seconds": chunk_seconds, "workers": pool_size, "seconds": round(result.seconds, 3),
        "chunks_total": result.chunks_total, "chunks_run": result.chunks_run,
        "files": [asdict(s) for s in result.files]}, xmp=False)   # a summary of files, not a media file
    return result


# -- check ---------------------------------------------------------------------

def _check_options(job: str, options: dict | None, chunk_seconds) -> dict:
    if job not in JOBS:
        raise ParameterError(f"batch runs {', '.join(JOBS)}, not {job!r}")
    params = _job_parameters(job)
    if job == "interpolate":
        from .interpolate import ADVANCED
        known = set(params) | set(ADVANCED)
    else:
        known = set(params)
    unknown = sorted(set(options or {}) - known)
    if unknown:
        raise ParameterError(f"unknown {job} option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    missing = sorted(k for k, p in params.items() if p.default is inspect.Parameter.empty
                     and p.kind is inspect.Parameter.KEYWORD_ONLY and k not in (options or {}))
    if missing:
        raise ParameterError(f"{job} needs option(s) {', '.join(missing)}")
    # one spelling of the same settings (defaults filled in, None = default left out): the manifest's key
    defaults = {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}
    options = {k: v for k, v in {**defaults, **(options or {})}.items() if v is not None}
    if chunk_seconds is not None:
        if job != "interpolate":
            raise ParameterError("chunks apply to interpolate only: an extension is made from the clip's ends")
        if not float(chunk_seconds) > 0:
            raise ParameterError(f"chunk seconds must be positive, got {chunk_seconds}")
    return options


def _expand(inputs) -> list[str]:
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    paths = []
    for item in inputs:
        item = os.path.abspath(item)
        if os.path.isdir(item):
            found = sorted(e.path for e in os.scandir(item) if e.is_file() and not e.name.startswith(".")
                           and os.path.splitext(e.name)[1].lower() in BATCH_VIDEO_EXTENSIONS)
            if not found:
                raise InputError(f"no video file ({', '.join(BATCH_VIDEO_EXTENSIONS)}) in {item}")
            paths += found
        elif os.path.isfile(item):
            paths.append(item)
        else:
            raise InputError(f"input not found: {item}")
    stems: dict[str, str] = {}
    for p in paths:
        stem = os.path.splitext(os.path.basename(p))[0]
        if stem in stems and stems[stem] != p:
            raise InputError(f"{stems[stem]} and {p} would both write {stem}.*: rename one")
        stems[stem] = p
    return list(dict.fromkeys(paths))


def _learned(job: str, options: dict) -> bool:
    """Whether the job runs a learned model (wants a GPU)."""
    if options.get("device") == "cpu":
        return False
    if job == "interpolate":
        from .interpolate import is_learned

        return is_learned(options.get("model", config.DEFAULT_MODEL))
    from ..extension import EXTENDERS

    return EXTENDERS.is_generative(options.get("method", config.DEFAULT_EXTEND_METHOD))


# -- plan ----------------------------------------------------------------------

def _output_path(path: str, out_dir: str, codec: str) -> str:
    stem, ext = os.path.splitext(os.path.basename(path))
    spec = CODECS.get(codec)
    if spec is not None and ext.lower() not in spec.containers:
        ext = spec.containers[0]
    elif spec is None and ext.lower() not in VIDEO_CONTAINERS:   # no codec named: the container decides
        ext = ".mp4"
    out = os.path.join(out_dir, stem + ext.lower())
    codec_for(codec, out)
    return check_output_path(out, (path,))


def _retime(info, options: dict):
    """The whole film's retime plan, as the job itself makes it."""
    from .interpolate import plan_interpolate

    return plan_interpolate(info, **options).details["retime"]


def _gate(options: dict):
    """The job's own scene-cut and duplicate gate for these options."""
    from .interpolate import check_settings, interpolation_settings
    from ..interpolation.scenes import SceneGate

    s = check_settings(**interpolation_settings(options))
    return SceneGate(s.scene_threshold or None, s.duplicate_threshold)


def _plan_file(job, path, out_dir, options, chunk_seconds, manifest, stop) -> _File:
    from ..interpolation.timeline import Span
    from ..batch.plan import scan, split

    out = _output_path(path, out_dir, options.get("codec", config.DEFAULT_CODEC))
    e = manifest.entry(path, entry_key(job, options, path, chunk_seconds))
    e.update(output=out, options=options)
    f = _File(path, out, e)
    if Manifest.valid(e, out):
        f.summary = FileSummary(path, out, "kept", chunks=len(e.get("chunks", [])) or 1, frames=e.get("frames"))
        return f
    e["state"] = "pending"
    f.info = info = probe_video(path)
    if job == "interpolate":
        f.retime = _retime(info, options)
    chunked = chunk_seconds is not None and info.video.duration_s >= 1.5 * float(chunk_seconds)
    if not chunked:
        f.tasks = [{"id": os.path.basename(out), "job": job, "call": RUNS[job], "input": path, "output": out, "options": options,
                    "span": None, "file": path, "chunk": None, "frames": _estimate(job, info, options, f.retime)}]
        f.summary = FileSummary(path, out, "pending")
        return f
    if "chunks" not in e:   # planned once; a rerun reuses the plan (and the chunks already made)
        marks = scan(path, info, _gate(options), f.retime.smooth_range, stop)
        stem, ext = os.path.splitext(os.path.basename(out))
        folder = os.path.join(manifest.folder, f"{stem}-{e['key']}")
        e["chunks"] = [{"index": c.index, "first": str(c.span.first),
                        "last": None if c.span.last is None else str(c.span.last), "split": c.split,
                        "part": os.path.join(folder, f"part-{c.index:04d}{ext}"), "state": "pending"}
                       for c in split(marks, float(chunk_seconds))]
    chunks = e["chunks"]
    origin = Fraction(chunks[0]["first"])
    part_options = {k: v for k, v in options.items() if k != "playable"}   # the joined film gets one
    for c in chunks:
        if Manifest.valid(c, c["part"]):
            continue
        c["state"] = "pending"
        os.makedirs(os.path.dirname(c["part"]), exist_ok=True)
        span = Span(origin, Fraction(c["first"]), None if c["last"] is None else Fraction(c["last"]),
                    cut=c["split"] == "cut")
        f.tasks.append({"id": f"{os.path.basename(out)}#{c['index']}", "job": job, "call": RUNS[job], "input": path,
                        "output": c["part"], "options": part_options, "span": span, "file": path,
                        "chunk": c["index"], "frames": _estimate(job, info, options, f.retime, span)})
    f.summary = FileSummary(path, out, "pending", chunks=len(chunks))
    return f


def _estimate(job, info, options, retime, span=None) -> int:
    """Output frames a task will make, as the job plans them (the progress bar's total)."""
    if job == "extend":
        from .extend import plan_extend

        return plan_extend(info, **options).frames_out
    from .interpolate import plan_interpolate, span_frames

    if span is not None:
        return max(1, span_frames(span, retime, info))
    return plan_interpolate(info, **options).frames_out


# -- run -----------------------------------------------------------------------

def _run(files, tasks, pool, manifest, progress, stop, t0) -> None:
    by_input = {f.input: f for f in files}
    estimate = {t["id"]: t["frames"] for t in tasks}
    finished: dict[str, int] = {}
    counts = {"chunks": 0}
    files_total = len(files)
    chunks_total = len(tasks)

    def on_done(o: runtime.Outcome) -> None:
        f = by_input[o.task["file"]]
        s = f.summary
        if o.error is not None:
            s.state = "failed"
            s.error = str(o.error) if isinstance(o.error, VidextError) else f"{type(o.error).__name__}: {o.error}"
            finished[o.task["id"]] = 0
            return
        r = o.result
        finished[o.task["id"]] = r["frames"]
        counts["chunks"] += 1
        s.chunks_run += 1
        s.seconds += r["seconds"]
        s.peak_rss_mb = max(s.peak_rss_mb or 0.0, r["peak_rss_mb"])
        record = f.entry if o.task["chunk"] is None else f.entry["chunks"][o.task["chunk"]]
        record.update(state="done", sha256=r["sha256"], frames=r["frames"], seconds=round(r["seconds"], 3),
                      worker_pid=r["pid"], worker_peak_rss_mb=r["peak_rss_mb"])
        if o.task["chunk"] is None:
            s.state, s.frames = "done", r["frames"]
            written = (r.get("details") or {}).get("output") or {}
            s.dropped, s.converted = written.get("dropped", []), written.get("converted", [])
        manifest.save()

    meter = ProgressMeter(None, None)     # the batch's rate: the same warm-up and window as any stage's

    def on_poll(board: dict) -> None:
        if progress is None:
            return
        done = sum(finished.values()) + sum(v[1] for k, v in board.items() if k not in finished)
        total = sum(finished.get(k, (board.get(k, (0, 0, None))[2] or n)) for k, n in estimate.items())
        elapsed = time.perf_counter() - t0
        meter.advance(max(0, done - meter.done))
        rate = meter.rate() or 0.0            # 0 (no time left said) until measured after the workers start
        files_done = sum(1 for f in files if f.summary.state in ("done", "kept", "failed")
                         or (f.tasks and all(t["id"] in finished for t in f.tasks)))
        running = {k: v[0] for k, v in board.items()   # started and not at their last frame yet
                   if k not in finished and (v[2] is None or v[1] < v[2])}
        progress(BatchProgress(done, total, rate, elapsed, (total - done) / rate if rate > 0 else None,
                               f"batch: {files_done}/{files_total} files, {counts['chunks']}/{chunks_total} "
                               f"chunks", files_done=files_done, files_total=files_total,
                               chunks_done=counts["chunks"], chunks_total=chunks_total, running=running))

    runtime.run_tasks(tasks, pool, on_done=on_done, on_poll=on_poll, stop=stop)


# -- join ----------------------------------------------------------------------

def _join(f: _File, manifest: Manifest) -> None:
    """The chunks of one film into its output, with the film's sound (every track, copied or retimed once),
    subtitles, chapters and tags, as one run writes them."""
    from .interpolate import audio_feed
    from ..media.concat import join_parts
    from ..media.codecs import has_alpha
    from ..media.probe import probe_video
    from ..media.transcode import alpha_dropped, streams_record

    chunks = f.entry["chunks"]
    missing = [c["index"] for c in chunks if not Manifest.valid(c, c["part"])]
    if missing:
        f.summary.state = "failed"
        f.summary.error = f.summary.error or f"chunk(s) {missing} not made"
        return
    info, retime = f.info, f.retime   # set by _plan_file for every film still to join
    audio, note = audio_feed(info, retime, f.input, f.output)   # the film's sound, as one run makes it
    t0 = time.perf_counter()
    joined = join_parts([c["part"] for c in chunks], f.output, audio=audio)
    written = probe_video(f.output).video        # the parts' picture: an alpha plane the codec did not keep
    picture_lost = [alpha_dropped(info.video.index, written.codec, f.output)] \
        if has_alpha(info.video.pix_fmt) and not has_alpha(written.pix_fmt) else []
    record = {**sidecar_header("interpolate", parameters={**f.entry.get("options", {}), "batch": True},
                               input=info.as_dict()),
              "output": {"path": f.output, "fps": str(retime.rate), "frames": joined.frames,
                         "duration_s": float(joined.end_time - Fraction(info.video.start_s).limit_denominator(10**6))
                         if joined.end_time is not None else 0.0, "audio": joined.audio,
                         **streams_record(audio, ([], picture_lost))},   # the tracks, cues, chapters, tags
              "chunks": [{k: c.get(k) for k in ("index", "first", "last", "split", "frames", "seconds")}
                         for c in chunks],
              "timings": {"join_seconds": round(time.perf_counter() - t0, 3)}}
    if note:
        record["audio_note"] = note
    if f.entry.get("options", {}).get("playable"):   # the joined film's rendition, not each chunk's
        from ..media.playable import playable_rendition
        record["playable"] = playable_rendition(f.output)
    write_sidecar(f.output, record)
    f.entry.update(state="done", sha256=sha256(f.output), frames=joined.frames)
    f.summary.state, f.summary.frames = "done", joined.frames
    f.summary.dropped, f.summary.converted = record["output"]["dropped"], record["output"]["converted"]
    # the chunks are in the output now: their disk space is given back
    shutil.rmtree(os.path.dirname(chunks[0]["part"]), ignore_errors=True)
    manifest.save()

