"""Bounded fuzzing of mp4 headers through ``vidext.probe_file`` and a short ``vidext.interpolate``.

A small valid mp4 (64×48, 6 frames, AAC tone, index at the front) is mutated
by Hypothesis in its header bytes — ftyp and the whole moov box: sizes,
types, versions, timescales, durations, sample tables, sample entries — by
byte, 16-bit and 32-bit overwrites (biased to box boundaries and to values
such as 0, 1, 2³¹−1 and 2³²−1) and by truncation.  Each input goes through
``vidext.probe_file`` and, when the probe accepts it, ``vidext.interpolate``
(factor 2, fast preset, a tight output-frame limit so that every job stays
short).  A finding is any exception that is not a ``VidextError``, a
``VidextError`` whose message is not one line, a file left in the folder
besides a finished job's output and sidecar, a finished job whose output
does not decode to the frames it reports, or a hang (an input that runs past
``--timeout``: the worker process is killed and the input saved).

Bounded in count and time; prints how many inputs it tried and what it found:

    PYTHONPATH=. .venv/bin/python bench/fuzz_headers.py [--examples 1500] [--seconds 170] [--seed 0]

Findings are copied to ``--findings`` (default ``./fuzz-findings``) for replay.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from corpus import remux  # noqa: E402  (the corpus generators' stream copy)

# Short jobs whatever a mutated header claims: the limits are part of what is tested.
FUZZ_LIMITS = {"VIDEXT_MAX_OUTPUT_FRAMES": "400", "VIDEXT_MAX_DURATION_S": "600"}
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta"}
_INTERESTING_32 = (0, 1, 2, 0x7F, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF)
_INTERESTING_16 = (0, 1, 0x7F, 0xFF, 0x7FFF, 0x8000, 0xFFFF)


# --- the seed file --------------------------------------------------------------------
def make_seed(folder: str) -> str:
    """A 64×48, 6-frame mp4 with an AAC tone and its index (moov) before the data."""
    from vidext.media.synth import make_clip

    plain = make_clip(os.path.join(folder, "plain.mp4"), frames=6, fps=25, width=64, height=48,
                      options={"preset": "ultrafast", "bf": "0"})
    seed = os.path.join(folder, "seed.mp4")
    remux(plain, seed, {"movflags": "+faststart"})
    os.unlink(plain)
    return seed


def box_offsets(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of every box, containers expanded."""
    end = len(data) if end is None else end
    out, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if size < 8 or pos + size > end:
            break
        out.append((kind, pos, size))
        if kind in _CONTAINERS:
            out += box_offsets(data, pos + 8, pos + size)
        pos += size
    return out


def header_length(data: bytes) -> int:
    """Bytes before the media data: ftyp, moov (and any free box)."""
    for kind, pos, _size in box_offsets(data):
        if kind == b"mdat":
            return pos + 8
    return len(data)


# --- mutations (a Hypothesis strategy) ---------------------------------------------------
def mutations(data: bytes):
    from hypothesis import strategies as st

    head = header_length(data)
    boxes = [b for b in box_offsets(data) if b[1] < head]
    anchors = sorted({pos for _k, pos, _s in boxes} | {pos + 8 for _k, pos, _s in boxes}
                     | {pos + 12 for _k, pos, _s in boxes})

    offset = st.one_of(
        st.integers(0, head - 1),                                     # anywhere in the header
        st.builds(lambda a, d: min(head - 1, a + d), st.sampled_from(anchors), st.integers(0, 40)),
    )
    u32 = st.one_of(st.sampled_from(_INTERESTING_32), st.integers(0, 2**32 - 1))
    u16 = st.one_of(st.sampled_from(_INTERESTING_16), st.integers(0, 2**16 - 1))
    edit = st.one_of(
        st.tuples(st.just("u8"), offset, st.integers(0, 255)),
        st.tuples(st.just("u16"), offset, u16),
        st.tuples(st.just("u32"), offset, u32),
        st.tuples(st.just("flip"), offset, st.integers(0, 7)),
    )
    cut = st.one_of(st.none(), st.integers(0, len(data)))
    return st.tuples(st.lists(edit, min_size=1, max_size=6), cut)


def apply(data: bytes, edits, cut) -> bytes:
    buf = bytearray(data)
    for kind, off, value in edits:
        if kind == "u8":
            buf[off] = value
        elif kind == "flip":
            buf[off] ^= 1 << value
        elif kind == "u16" and off + 2 <= len(buf):
            struct.pack_into(">H", buf, off, value)
        elif kind == "u32" and off + 4 <= len(buf):
            struct.pack_into(">I", buf, off, value)
    return bytes(buf if cut is None else buf[:cut])


# --- one input through the engine ----------------------------------------------------------
@dataclass
class Tally:
    tried: int = 0
    probe_ok: int = 0
    interpolated: int = 0
    refused: collections.Counter = field(default_factory=collections.Counter)
    findings: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"tried": self.tried, "probe_ok": self.probe_ok, "interpolated": self.interpolated,
                "refused": dict(self.refused), "findings": self.findings}


def _where(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    return f"{tb[-1].filename}:{tb[-1].lineno}" if tb else "?"


def check_one(path: str, tally: Tally) -> None:
    """Run one input; record what happened in ``tally`` (never raises for the input's sake)."""
    import av

    import vidext
    from vidext.errors import VidextError

    folder = os.path.dirname(path)
    before = set(os.listdir(folder))
    out = os.path.join(folder, "out.mp4")
    tally.tried += 1
    stage = "probe"
    try:
        vidext.probe_file(path)
        tally.probe_ok += 1
        stage = "interpolate"
        result = vidext.interpolate(path, out, factor=2, quality="fast")
        tally.interpolated += 1
        with av.open(out) as c:
            decoded = sum(1 for _ in c.decode(c.streams.video[0]))
        if decoded != result.frames_out or decoded == 0:
            tally.findings.append({"kind": "bad output", "stage": stage,
                                   "detail": f"reports {result.frames_out} frames, decodes {decoded}"})
    except VidextError as exc:
        msg = str(exc)
        tally.refused[f"{stage}: {type(exc).__name__}: {msg[:90]}"] += 1
        if not msg or "\n" in msg:
            tally.findings.append({"kind": "message not one line", "stage": stage, "detail": repr(msg)})
    except Exception as exc:  # noqa: BLE001 - exactly what the fuzzer is looking for
        tally.findings.append({"kind": "exception", "stage": stage,
                               "detail": f"{type(exc).__name__}: {exc}", "where": _where(exc)})
    after = set(os.listdir(folder))
    allowed = before | ({"out.mp4", "out.mp4.json", "out.mp4.xmp"} if os.path.exists(out) else set())
    if after - allowed or (os.path.exists(out) != os.path.exists(out + ".json")):
        tally.findings.append({"kind": "leftover files", "stage": stage, "detail": sorted(after - before)})


# --- the worker: Hypothesis drives, in-process ------------------------------------------------
def fuzz(seed: int, examples: int, seconds: float, workdir: str, progress_log: str | None = None) -> Tally:
    """Try up to ``examples`` mutated inputs for at most ``seconds``; returns the tally.

    With ``progress_log``, each input's bytes are saved to ``<workdir>/current.mp4`` and a
    line is appended before and after it, so that a parent process can tell which input hung.
    """
    saved = {k: os.environ.get(k) for k in FUZZ_LIMITS}
    os.environ.update(FUZZ_LIMITS)
    try:
        return _fuzz(seed, examples, seconds, workdir, progress_log)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _fuzz(seed: int, examples: int, seconds: float, workdir: str, progress_log: str | None) -> Tally:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    with open(make_seed(workdir), "rb") as f:
        data = f.read()
    tally = Tally()
    deadline = time.monotonic() + seconds
    case_dir = os.path.join(workdir, "case")

    @hseed(seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=False)
    @given(mutations(data))
    def run(mutation):
        if time.monotonic() > deadline:
            return
        edits, cut = mutation
        blob = apply(data, edits, cut)
        shutil.rmtree(case_dir, ignore_errors=True)
        os.makedirs(case_dir)
        path = os.path.join(case_dir, "input.mp4")
        with open(path, "wb") as f:
            f.write(blob)
        if progress_log:
            shutil.copyfile(path, os.path.join(workdir, "current.mp4"))
            with open(progress_log, "a") as log:
                log.write(json.dumps({"begin": tally.tried}) + "\n")
        n = len(tally.findings)
        check_one(path, tally)
        for finding in tally.findings[n:]:
            finding["input"] = blob
        if progress_log:
            with open(progress_log, "a") as log:
                log.write(json.dumps({"end": tally.tried}) + "\n")

    run()
    return tally


def _worker(args) -> None:
    tally = fuzz(args.seed, args.examples, args.seconds, args.workdir, args.progress_log)
    report = tally.as_dict()
    for i, finding in enumerate(report["findings"]):
        path = os.path.join(args.workdir, f"finding-{i}.mp4")
        with open(path, "wb") as f:
            f.write(finding.pop("input"))
        finding["file"] = path
    print("FUZZ-REPORT " + json.dumps(report))


# --- the parent: budgets, hang detection, the report ------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=1500, help="inputs to try at most")
    ap.add_argument("--seconds", type=float, default=170, help="time budget of the whole run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=20, help="seconds one input may take before it is a hang")
    ap.add_argument("--findings", default="fuzz-findings", help="folder the inputs of findings are copied to")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    ap.add_argument("--progress-log", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(args)
        return

    t0 = time.monotonic()
    total = Tally()
    seed = args.seed
    while total.tried < args.examples and time.monotonic() - t0 < args.seconds - 5:
        left_s = args.seconds - (time.monotonic() - t0)
        with tempfile.TemporaryDirectory(prefix="vidext-fuzz-") as work:
            log = os.path.join(work, "progress.jsonl")
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--seed", str(seed),
                   "--examples", str(args.examples - total.tried), "--seconds", str(left_s - 3),
                   "--workdir", work, "--progress-log", log]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            out, err = _watch(proc, log, args.timeout, left_s + args.timeout)
            line = next((ln for ln in out.splitlines() if ln.startswith("FUZZ-REPORT ")), None)
            if line is not None:
                report = json.loads(line.split(" ", 1)[1])
                for finding in report["findings"]:
                    finding["file"] = _keep(finding["file"], args.findings)
            else:   # the worker hung (killed) or died: the input it was on is the finding
                report = _partial(log)
                kind = "hang" if proc.returncode == -9 else f"worker died (exit {proc.returncode})"
                report["findings"].append({"kind": kind, "stage": "?", "detail": err.strip()[-300:],
                                           "file": _keep(os.path.join(work, "current.mp4"), args.findings)})
            total.tried += report["tried"]
            total.probe_ok += report.get("probe_ok", 0)
            total.interpolated += report.get("interpolated", 0)
            total.refused.update(report.get("refused", {}))
            total.findings += report["findings"]
        seed += 1
    _print(total, time.monotonic() - t0, args)


def _watch(proc, log: str, timeout: float, overall: float) -> tuple[str, str]:
    """Wait for the worker; kill it if one input runs longer than ``timeout``."""
    import threading

    chunks = {"out": [], "err": []}
    readers = [threading.Thread(target=lambda s=s, k=k: chunks[k].append(s.read()), daemon=True)
               for s, k in ((proc.stdout, "out"), (proc.stderr, "err"))]
    for r in readers:
        r.start()
    start = time.monotonic()
    last_change, last_size = time.monotonic(), -1
    while proc.poll() is None:
        size = os.path.getsize(log) if os.path.exists(log) else 0
        if size != last_size:
            last_change, last_size = time.monotonic(), size
        if time.monotonic() - last_change > timeout or time.monotonic() - start > overall:
            proc.kill()
            break
        time.sleep(0.2)
    proc.wait()
    for r in readers:
        r.join()
    return "".join(chunks["out"]), "".join(chunks["err"])


def _partial(log: str) -> dict:
    ends = 0
    if os.path.exists(log):
        with open(log) as f:
            ends = sum(1 for ln in f if '"end"' in ln)
    return {"tried": ends + 1, "probe_ok": 0, "interpolated": 0, "refused": {}, "findings": []}


def _keep(path: str, folder: str) -> str:
    if not os.path.exists(path):
        return path
    os.makedirs(folder, exist_ok=True)
    dst = os.path.join(folder, f"{int(time.time() * 1000)}-{os.path.basename(path)}")
    shutil.copyfile(path, dst)
    return dst


def _print(total: Tally, seconds: float, args) -> None:
    print(f"fuzz_headers: {total.tried} inputs tried in {seconds:.0f} s (seed {args.seed}, "
          f"budget {args.examples} inputs / {args.seconds:g} s, hang timeout {args.timeout:g} s)")
    print(f"  probe accepted {total.probe_ok}, interpolate finished {total.interpolated}, "
          f"refused with a VidextError {sum(total.refused.values())}")
    shown = total.refused.most_common(15)
    for what, n in shown:
        print(f"    {n:5d}  {what}")
    if len(total.refused) > len(shown):
        rest = sum(total.refused.values()) - sum(n for _, n in shown)
        print(f"    {rest:5d}  ... {len(total.refused) - len(shown)} other messages")
    print(f"  findings: {len(total.findings)}")
    groups = collections.Counter((f["kind"], f["stage"], f["detail"][:160] if isinstance(f["detail"], str)
                                  else str(f["detail"]), f.get("where", "")) for f in total.findings)
    for (kind, stage, detail, where), n in groups.most_common():
        print(f"    {n:5d}  {kind} in {stage}: {detail} {where}")
    if total.findings:
        print(f"  inputs of findings copied to {os.path.abspath(args.findings)}")


if __name__ == "__main__":
    main()
