"""Whole-process measuring for the benches: ``/usr/bin/time -v`` of a real command, the CPU named.

``timed(cmd)`` runs one command under GNU time and returns its wall time,
CPU % and peak RSS as the kernel counted them (start-up, imports, model
loading, decode, compute and encode all included).  ``interleaved`` runs
several commands round-robin, so that load from elsewhere on a shared
machine hits every one of them alike; figures are then given as the median
and the spread (min–max) over the runs.
"""
from __future__ import annotations

import hashlib
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass

TIME = "/usr/bin/time"
# --isa NAME: (ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA), the variables both libraries document.
# The instructions are held, not the microarchitecture: on an Intel host, "avx512-bf16" measured
# bf16 slower than fp32, where a real AMD Zen 4 (the class's AVX512-BF16 CPU) runs it 2.4x faster
# (model card, 2026-12-02): an emulated row stands for an Intel CPU of those instructions.
ISA_LIMITS = {
    "avx2": ("avx2", "AVX2"),                           # AVX2-only CPUs (the class's EPYC)
    "avx512": ("avx512", "AVX512_CORE"),                # AVX-512 without VNNI or bf16
    "avx512-vnni": ("avx512", "AVX512_CORE_VNNI"),
    "avx512-bf16": ("avx512", "AVX512_CORE_BF16"),      # bf16 dot products, no AMX (Cooper Lake-like)
}


@dataclass
class Run:
    wall: float        # seconds
    cpu_percent: float
    max_rss_mb: float
    system_s: float = 0.0      # kernel time (page faults show here)
    minor_faults: int = 0


def cpu_line() -> str:
    """CPU model, cores, the flags that matter for convolutions, and a hash of all flags (/proc/cpuinfo)."""
    model, flags = "unknown CPU", []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k.strip() == "model name" and model == "unknown CPU":
                    model = v.strip()
                elif k.strip() == "flags" and not flags:
                    flags = v.split()
    except OSError:
        pass
    keep = [f for f in flags if f.startswith(("avx512_bf16", "amx", "avx512f", "avx_vnni", "avx512_vnni",
                                              "avx2", "fma"))]
    digest = hashlib.sha1(" ".join(sorted(flags)).encode()).hexdigest()[:12]
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"]
    return (f"{model}, {os.cpu_count()} CPUs, flags {' '.join(sorted(keep))} (all flags sha1 {digest}); "
            f"load average at start {' '.join(load)}")


def limit_isa(name: str | None) -> str:
    """Hold the kernels to ``name``'s instructions (:data:`ISA_LIMITS`) by running this same
    bench again with the libraries' variables set (they are read once, at start-up, so the
    limit must be in place before ``torch`` is imported; the commands timed inherit it).
    Returns the line that says so; "" without a limit."""
    if not name:
        return ""
    aten, onednn = ISA_LIMITS[name]
    if os.environ.get("ONEDNN_MAX_CPU_ISA") != onednn or os.environ.get("ATEN_CPU_CAPABILITY") != aten:
        env = dict(os.environ, ATEN_CPU_CAPABILITY=aten, ONEDNN_MAX_CPU_ISA=onednn)
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    return (f"kernels held to {name} (ATEN_CPU_CAPABILITY={aten}, ONEDNN_MAX_CPU_ISA={onednn}): another CPU "
            f"of the class, on this one's clock and caches; codecs and OpenCV unlimited")


def timed(cmd: list[str], env: dict | None = None) -> Run:
    """Run ``cmd`` under ``/usr/bin/time -v``; raise with its stderr tail if it fails."""
    proc = subprocess.run([TIME, "-v", *cmd], env=env, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd[:4])}…: exit {proc.returncode}: {proc.stderr.strip()[-600:]}")
    err = proc.stderr

    def field(name: str) -> str:
        m = re.search(rf"^\s*{re.escape(name)}:\s*(.+)$", err, re.M)
        if not m:
            raise RuntimeError(f"no {name!r} in /usr/bin/time output")
        return m.group(1).strip()

    h_m_s = field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")
    wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(h_m_s)))
    cpu = float(field("Percent of CPU this job got").rstrip("%"))
    rss = float(field("Maximum resident set size (kbytes)")) / 1024
    return Run(wall, cpu, rss, float(field("System time (seconds)")),
               int(field("Minor (reclaiming a frame) page faults")))


def interleaved(cmds: dict[str, list[str]], repeat: int, env: dict | None = None) -> dict[str, list[Run]]:
    out: dict[str, list[Run]] = {k: [] for k in cmds}
    for i in range(repeat):
        for label, cmd in cmds.items():
            r = timed(cmd, env)
            out[label].append(r)
            # each run as it ends (a long bench cut short still leaves its figures)
            print(f"  run {i + 1} {label}: wall {r.wall:.2f} s, CPU {r.cpu_percent:.0f} %, peak RSS {r.max_rss_mb:.0f} MB, "
                  f"kernel {r.system_s:.2f} s, {r.minor_faults} minor faults", file=sys.stderr, flush=True)
    return out


def median_spread(xs: list[float], fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(statistics.median(xs))} ({fmt.format(min(xs))}–{fmt.format(max(xs))})"
