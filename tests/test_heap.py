"""vidext.media.heap: freed buffers reused within a job instead of faulted in again."""
import subprocess
import sys
import textwrap

import pytest

from vidext import config
from vidext.errors import ParameterError
from vidext.media import heap

GLIBC = heap._glibc() is not None

# 64 MB buffers allocated, written and freed ten times, as a job does per frame (malloc itself:
# numpy asks for huge pages, which hides the faults)
FAULTS = textwrap.dedent("""
    import ctypes, resource
    from vidext.media.heap import _glibc, reuse_freed_memory
    took = reuse_freed_memory()
    libc = _glibc()
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, (ctypes.c_size_t,)
    libc.free.argtypes = (ctypes.c_void_p,)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        a = libc.malloc(64 << 20)
        ctypes.memset(a, 1, 64 << 20)
        libc.free(a)
    print(took, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


def _faults(mode: str, tunables: str | None = None) -> tuple[str, int]:
    import os
    env = dict(os.environ, VIDEXT_HEAP=mode)
    if tunables:
        env["GLIBC_TUNABLES"] = tunables
    out = subprocess.run([sys.executable, "-c", FAULTS], env=env, capture_output=True, text=True, check=True)
    took, faults = out.stdout.split()
    return took, int(faults)


@pytest.mark.skipif(not GLIBC, reason="the heap settings are glibc's (mallopt)")
def test_reused_heap_does_not_fault_freed_buffers_in_again():
    took_sys, system = _faults("system")
    took_reuse, reused = _faults("reuse")
    assert (took_sys, took_reuse) == ("False", "True")
    pages = (64 << 20) // 4096
    assert system > 5 * pages           # glibc's defaults: every buffer faulted in again
    assert reused < 2 * pages < system / 3   # reused: the first buffer's pages, then none
    # the same settings handed to another process at its start (the bench's anchor) act alike
    assert _faults("system", heap.TUNABLES)[1] < 2 * pages


def test_heap_mode_from_environment(monkeypatch):
    monkeypatch.setenv("VIDEXT_HEAP", "System")
    assert config.heap_mode() == "system"
    monkeypatch.delenv("VIDEXT_HEAP")
    assert config.heap_mode() == "reuse"
    monkeypatch.setenv("VIDEXT_HEAP", "jemalloc")
    with pytest.raises(ParameterError, match="VIDEXT_HEAP='jemalloc'.*reuse, system"):
        config.heap_mode()


def test_job_heap_gives_memory_back_when_the_last_job_ends(monkeypatch):
    trims = []
    monkeypatch.setattr(heap, "give_back_freed_memory", lambda: trims.append(heap._state["jobs"]))
    with heap.job_heap():
        with heap.job_heap():       # two jobs at once (a server): nothing given back while one runs
            pass
        assert trims == []
    assert trims == [0]
    with pytest.raises(RuntimeError):
        with heap.job_heap():
            raise RuntimeError("a failed job")
    assert trims == [0, 0] and heap._state["jobs"] == 0


def test_cli_names_a_bad_heap_mode(tmp_path):
    import os
    env = dict(os.environ, VIDEXT_HEAP="jemalloc")
    p = subprocess.run([sys.executable, "-m", "vidext", "probe", str(tmp_path / "none.mp4")], env=env,
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.strip() == "error: VIDEXT_HEAP='jemalloc' is not a heap mode; accepted: reuse, system"


def test_a_library_call_leaves_the_processs_heap_settings_alone(clip, tmp_path, monkeypatch):
    """vidext.extend / vidext.interpolate in someone else's process change no allocator setting:
    only the entry points (CLI, server, a Ray worker, the Docker image) choose the heap."""
    import vidext

    applied = []
    monkeypatch.setattr(heap, "_state", {"set": None, "jobs": 0})
    monkeypatch.setattr(heap, "_apply", lambda: applied.append(1) or True)
    src = clip("c.mp4", frames=6, fps=25, width=64, height=48, tone_hz=None)
    vidext.extend(src, str(tmp_path / "o.mp4"), seconds=0.2, method="freeze")
    vidext.interpolate(src, str(tmp_path / "i.mp4"), factor=2, model="blend")
    assert applied == [] and heap._state == {"set": None, "jobs": 0}
