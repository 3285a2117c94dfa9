"""The shape of the package: one planning source, complete sidecars, config read when used, layers."""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

import vidext
from vidext.errors import ParameterError
from vidext.media.probe import probe
from vidext.jobs.result import Result
from helpers import video_times

ROOT = Path(__file__).resolve().parent.parent


# --- one planning source -----------------------------------------------------------------------

def test_slowmo_segment_plan_is_what_the_run_writes(clip, tmp_path):
    """slowmo 2.5× on 0.51–1.03 s of a 2 s 25 fps clip: the app once predicted 70 frames / 2.78 s
    while the engine wrote 69 / 2.76 (segment snapped to 0.52–1.04, 32 slowed frames)."""
    src = clip("c25.mp4", frames=50, fps=25, width=96, height=64)
    settings = {"slowmo": 2.5, "start": 0.51, "end": 1.03}
    plan = vidext.plan_interpolate(src, **settings)
    assert (plan.frames_out, plan.duration_s, plan.rate) == (69, pytest.approx(2.76), Fraction(25))
    assert plan.segment == pytest.approx((0.52, 1.04))
    assert "69 frames" in plan.summary and "2.76 s" in plan.summary
    assert vidext.plan_interpolate(probe(src), **settings) == plan     # a probe does as well as a path
    result = vidext.interpolate(src, str(tmp_path / "out.mp4"), **settings)
    assert result.frames_out == plan.frames_out
    assert result.duration_s == pytest.approx(plan.duration_s)
    assert len(list(_frame_times(result.output))) == plan.frames_out


@pytest.mark.parametrize("settings", [{"factor": 2}, {"fps": "60000/1001"}, {"slowmo": 3},
                                      {"slowmo": 2, "start": 0.3, "end": 0.9, "factor": 2}])
def test_interpolate_plan_matches_output(clip, tmp_path, settings):
    src = clip("c.mp4", frames=30, fps=25, width=64, height=48, tone_hz=None)
    plan = vidext.plan_interpolate(src, model="blend", **settings)
    result = vidext.interpolate(src, str(tmp_path / "o.mp4"), model="blend", **settings)
    assert (result.frames_out, result.fps) == (plan.frames_out, plan.fps)
    assert result.duration_s == pytest.approx(plan.duration_s, abs=1e-6)


@pytest.mark.parametrize("direction", ["forward", "backward", "both"])
def test_extend_plan_matches_output(clip, tmp_path, direction):
    src = clip("c.mp4", frames=20, fps=25, width=64, height=48)
    plan = vidext.plan_extend(src, seconds=0.52, direction=direction, method="freeze")
    result = vidext.extend(src, str(tmp_path / "o.mp4"), seconds=0.52, direction=direction, method="freeze")
    assert result.frames_out == plan.frames_out == 20 + 13 * (2 if direction == "both" else 1)
    assert result.duration_s == pytest.approx(plan.duration_s, abs=1e-6)


@pytest.mark.parametrize("method,direction", [("ramp", "forward"), ("ramp", "both"), ("freeze", "forward"),
                                              ("auto", "forward")])
def test_extend_plan_matches_output_when_the_last_frame_comes_late(tmp_path, method, direction):
    """A phone clip whose last frame comes one interval late (2.10 s, 62 frames at 29.97 fps, a gap
    before the last): the plan said 2.10 s → 4.10 s, the run wrote 4.07 s when a side retimed the
    last real frames (ramp, auto's eased freeze) and closed the gap.  The output lasts what the clip
    lasts plus the new frames: plan, result and the written frame times agree."""
    from corpus import write_video

    times = [Fraction(k, 25) for k in range(39)] + [Fraction(40, 25)]     # 40 frames over 41 slots
    src = str(write_video(tmp_path / "late.mp4", frames=40, fps=25, width=64, height=48, times=times))
    plan = vidext.plan_extend(src, seconds=0.52, direction=direction, method=method)
    result = vidext.extend(src, str(tmp_path / "o.mp4"), seconds=0.52, direction=direction, method=method)
    added = 13 * (2 if direction == "both" else 1)
    assert result.frames_out == plan.frames_out == 40 + added
    assert plan.duration_s == pytest.approx(1.64 + added / 25)
    assert result.duration_s == pytest.approx(plan.duration_s, abs=1e-6)
    assert float(max(video_times(result.output)) + Fraction(1, 25)) == pytest.approx(plan.duration_s, abs=1e-3)


def test_audio_plan_matches_output(clip, tmp_path):
    from vidext.media.synth import make_clip

    video = clip("v.mp4", frames=25, fps=25, width=64, height=48, tone_hz=None)
    sound = make_clip(str(tmp_path / "s.mkv"), frames=10, fps=25, width=64, height=48, codec="ffv1")
    wav = str(tmp_path / "s.wav")
    import av

    with av.open(sound) as src, av.open(wav, "w") as dst:   # the sound alone
        out = dst.add_stream("pcm_s16le", rate=48000, layout="mono")
        for frame in src.decode(audio=0):
            frame.pts = None
            for p in out.encode(frame):
                dst.mux(p)
        for p in out.encode():
            dst.mux(p)
    plan = vidext.plan_audio(wav, stretch=2)
    result = vidext.audio(wav, str(tmp_path / "o.wav"), stretch=2)
    assert result.duration_s == pytest.approx(plan.duration_s, abs=0.01)
    plan = vidext.plan_audio(video, audio_file=wav)
    result = vidext.audio(video, str(tmp_path / "o.mp4"), audio_file=wav)
    assert plan.frames_out == 25 and result.picture_s == pytest.approx(plan.duration_s)
    with pytest.raises(ParameterError, match="direction must be"):
        vidext.plan_audio(wav, extend=1, direction="sideways")


def test_every_job_returns_a_result(clip, tmp_path):
    src = clip("c.mp4", frames=12, fps=25, width=64, height=48, tone_hz=None)
    result = vidext.extend(src, str(tmp_path / "o.mp4"), seconds=0.2, method="freeze")
    assert isinstance(result, Result) and result.as_dict()["frames_out"] == result.frames_out


def _frame_times(path):
    import av

    with av.open(path) as c:
        for packet in c.demux(video=0):
            if packet.pts is not None:
                yield packet.pts


# --- the sidecar is complete when the output appears ---------------------------------------------

def test_sidecar_is_complete_before_the_output_is_renamed(clip, tmp_path, monkeypatch):
    """The stats and the extension details are in the sidecar on disk at the moment of the rename."""
    import vidext.media.atomic as atomic

    seen = {}
    real_replace = os.replace

    def spying_replace(src, dst):
        if not dst.endswith(".json") and os.path.exists(dst + ".json"):
            seen[os.path.basename(dst)] = json.loads(Path(dst + ".json").read_text())
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", spying_replace)
    src = clip("c.mp4", frames=12, fps=25, width=64, height=48)
    vidext.interpolate(src, str(tmp_path / "i.mp4"), slowmo=16, model="blend")
    vidext.extend(src, str(tmp_path / "e.mp4"), seconds=0.2, method="freeze")
    assert "stats" in seen["i.mp4"] and "audio_note" in seen["i.mp4"]
    assert {"extension", "audio_extension"} <= set(seen["e.mp4"])
    assert seen["e.mp4"] == json.loads((tmp_path / "e.mp4.json").read_text())


# --- configuration read when used ---------------------------------------------------------------

def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-c", "import sys; from vidext._cli import main; sys.exit(main())", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=120)


@pytest.mark.parametrize("variable", ["VIDEXT_APP_QUEUE_SIZE", "VIDEXT_APP_CPU_JOBS", "VIDEXT_APP_SWEEP_S",
                                      "VIDEXT_MODEL_CACHE_SIZE", "VIDEXT_STALE_PART_AGE_S",
                                      "VIDEXT_MAX_PIXELS"])
def test_a_malformed_variable_does_not_break_import(variable):
    code = "import vidext, vidext.webapp.jobs, vidext.models, vidext._cli; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), variable: "abc"})
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_a_malformed_limit_is_a_clear_error(clip):
    src = clip("c.mp4", frames=5, width=64, height=48, tone_hz=None)
    done = _cli("probe", src, env={"VIDEXT_MAX_PIXELS": "abc"})
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: VIDEXT_MAX_PIXELS") and "'abc'" in done.stderr
    assert "a number" in done.stderr


def test_config_values_read_when_used(monkeypatch):
    from vidext import config

    monkeypatch.setenv("VIDEXT_APP_QUEUE_SIZE", "3")
    assert config.app_queue_max_size() == 3
    monkeypatch.setenv("VIDEXT_APP_QUEUE_SIZE", "three")
    with pytest.raises(ParameterError, match="VIDEXT_APP_QUEUE_SIZE.*'three'.*whole number"):
        config.app_queue_max_size()
    monkeypatch.setenv("VIDEXT_MAX_FPS", "-5")
    with pytest.raises(ParameterError, match="VIDEXT_MAX_FPS"):
        config.Limits.from_env()


# --- layers -------------------------------------------------------------------------------------

def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield ("." * node.level) + (node.module or "") + ("" if node.module else
                                                              ":" + ",".join(a.name for a in node.names))


def test_only_media_touches_pyav():
    allowed = {"media"}
    offenders = []
    for path in (ROOT / "vidext").rglob("*.py"):
        rel = path.relative_to(ROOT / "vidext")
        if rel.parts[0] in allowed:
            continue
        if any(name == "av" or name.startswith("av.") for name in _imports(path)):
            offenders.append(rel.as_posix())
    assert offenders == []


#: The layers, lowest first: a module may import its own unit and the units of lower layers,
#: never a unit above it nor another unit of its own layer (docs/architecture.md draws this map).
LAYERS = (
    ("vidext.errors", "vidext._version"),
    ("vidext.config", "vidext.registry", "vidext.timemap", "vidext.security"),
    ("vidext.media", "vidext.models"),
    ("vidext.plan", "vidext.limits"),
    ("vidext.sound", "vidext.interpolation"),                         # capabilities
    ("vidext.extension", "vidext.evaluation", "vidext.batch"),        # capabilities built on those
    ("vidext.jobs",),                                                 # check → plan → run → result
    ("vidext.api",),
    ("vidext.webapp",),
    ("vidext._cli",),
    ("vidext", "vidext.__main__"),                                    # the package's face
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _vidext_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in (ROOT / "vidext").rglob("*.py")}


def _targets(module: str, path: Path, known) -> set[str]:
    """Every vidext module ``module`` imports: at the top or inside a function, relative or absolute,
    or by name through ``importlib.import_module("vidext....")``."""
    found = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names = [node.args[0].value]
        for name in names:
            while name and name not in known and "." in name:
                name = name.rpartition(".")[0]
            if name in known and name != module:
                found.add(name)
    return found


def _layer_of(module: str) -> tuple[int, str]:
    """(layer index, unit) of ``module``: the longest unit it belongs to."""
    best = None
    for i, units in enumerate(LAYERS):
        for unit in units:
            if (module == unit or module.startswith(unit + ".")) and (best is None or len(unit) > len(best[1])):
                best = (i, unit)
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best


def import_graph() -> dict[str, set[str]]:
    modules = _vidext_modules()
    return {m: _targets(m, p, modules) for m, p in modules.items()}


def upward_imports(graph) -> list[str]:
    out = []
    for module, targets in sorted(graph.items()):
        layer, unit = _layer_of(module)
        for t in sorted(targets):
            t_layer, t_unit = _layer_of(t)
            if t_unit != unit and t_layer >= layer:
                out.append(f"{module} -> {t} ({'up' if t_layer > layer else 'sideways'})")
    return out


def circles(graph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_imports_only_point_down_the_layers():
    assert upward_imports(import_graph()) == []


def test_no_import_circles():
    assert circles(import_graph()) == []


def test_the_layer_check_finds_what_it_must(tmp_path):
    """The checker itself: an upward import, a lazy one and a circle are all caught."""
    graph = {"vidext.media.probe": {"vidext.jobs.interpolate"}, "vidext.jobs.interpolate": {"vidext.media.probe"},
             "vidext.config": set(), "vidext.sound.feeds": {"vidext.interpolation.flow"},
             "vidext.interpolation.flow": set()}
    assert upward_imports(graph) == ["vidext.media.probe -> vidext.jobs.interpolate (up)",
                                     "vidext.sound.feeds -> vidext.interpolation.flow (sideways)"]
    assert circles(graph) == [["vidext.jobs.interpolate", "vidext.media.probe"]]
    lazy = tmp_path / "vidext" / "media" / "x.py"
    lazy.parent.mkdir(parents=True)
    lazy.write_text("def f():\n    from ..jobs import audio\n    import importlib\n"
                    "    importlib.import_module('vidext.webapp.ui')\n")
    known = {"vidext.media.x", "vidext.jobs", "vidext.jobs.audio", "vidext.webapp.ui"}
    assert _targets("vidext.media.x", lazy, known) == {"vidext.jobs.audio", "vidext.webapp.ui"}


def test_importing_the_engine_pulls_neither_the_api_nor_the_front_ends():
    code = ("import sys, importlib; importlib.import_module('vidext.jobs.preview'); "
            "print(sorted(m for m in sys.modules if m.startswith('vidext.webapp') or m.startswith('vidext._cli')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip() == "[]", done.stderr


# --- one registry idiom ------------------------------------------------------------------------

def _entries():
    from vidext.webapp.capabilities import registries

    return [pytest.param(reg, name, id=f"{kind}:{name}") for kind, reg in registries().items() for name in reg]


def _minimal_args(kind: str):
    import numpy as np

    return {"audio.method": ((np.zeros((1, 48000), np.float32), 48000), {}),
            "audio.stretcher": ((48000, 1), {})}.get(kind, ((), {}))


@pytest.mark.parametrize("registry,name", _entries())
def test_every_registered_backend_conforms(registry, name):
    from vidext.webapp.capabilities import registries

    kind = next(k for k, r in registries().items() if r is registry)
    entry = registry.entry(name)
    assert entry.summary, f"{kind} {name}: no summary"
    assert not entry.generative or entry.needs_gpu, "generative implies needs_gpu"
    factory = registry.get(name)                      # importable without torch or weights
    assert callable(factory)
    if entry.model:
        from vidext.models import get_spec

        assert get_spec(entry.model).name == entry.model   # the weights it names exist in vidext.models
    if hasattr(factory, "generative"):              # the class and the registry say the same
        assert bool(factory.generative) == entry.generative
    if not (entry.generative or entry.model):
        args, kwargs = _minimal_args(kind)
        assert registry.create(name, *args, **kwargs) is not None


def _catalogues():
    from vidext.models import MODELS
    from vidext.webapp.capabilities import registries

    return [pytest.param(reg, id=kind) for kind, reg in [*registries().items(), ("models", MODELS)]]


@pytest.mark.parametrize("catalogue", _catalogues())
def test_every_registry_looks_alike(catalogue):
    from vidext.registry import Catalogue

    assert isinstance(catalogue, Catalogue)
    names = catalogue.names()
    assert names and list(catalogue) == names and len(catalogue) == len(set(names))
    for entry, name in zip(catalogue.entries(), names):
        assert entry.name == name and name in catalogue and entry == catalogue.entry(name)
        assert catalogue.summary(name) == entry.summary != ""
    assert "no-such" not in catalogue
    with pytest.raises(ParameterError, match=f"unknown {catalogue.kind} 'no-such'; choose one of: {names[0]}, "):
        catalogue.entry("no-such")


def test_models_read_like_a_dict_and_answer_unknown_names_with_the_choices(monkeypatch):
    from vidext.models import MODELS, ModelSpec, get_spec

    spec = ModelSpec(name="tiny", kind="interpolation", library="torch", repo_id="a/b", revision=None,
                     files=("f.bin",), licence="MIT", card="c", summary="a test spec")
    monkeypatch.setitem(MODELS, "tiny", spec)
    assert MODELS["tiny"] is get_spec("tiny") is spec and MODELS.get("nope") is None
    assert spec in MODELS.values() and MODELS.names()[-1] == "tiny"
    with pytest.raises(ValueError, match="registered as 'other'"):
        MODELS["other"] = spec
    monkeypatch.delitem(MODELS, "tiny")
    with pytest.raises(ParameterError, match="unknown model 'tiny'; choose one of: rife-4.25"):
        get_spec("tiny")


def test_held_out_methods_are_a_registry_over_the_interpolators():
    from vidext.evaluation.heldout import METHODS, Duplicate, create_method, learned_names, parse_methods
    from vidext.interpolation import INTERPOLATORS
    from vidext.interpolation.base import Blend
    from vidext.webapp import capabilities, handlers

    assert METHODS.names() == ["duplicate", "blend", "fast", "balanced", "quality", *learned_names()]
    assert "dis" in INTERPOLATORS and "dis" not in METHODS                 # measured as its presets
    assert isinstance(create_method("duplicate"), Duplicate)
    assert create_method("quality").quality == "quality" and METHODS.entry("fast").options == (("quality", "fast"),)
    with pytest.raises(ParameterError, match="unknown method 'dis'; choose one of: duplicate, blend"):
        create_method("dis")
    assert parse_methods("all") == [n for n in METHODS.names() if n != "duplicate"]
    # a model added to the interpolators is a held-out method, in the app's list and on the GPU queue
    INTERPOLATORS.add("mine", "vidext.interpolation.base:Blend", "a stand-in", model="rife-4.25")
    try:
        assert "mine" in learned_names() and "mine" in parse_methods("all") and "mine" in parse_methods("mine")
        assert METHODS.entry("mine").model == "rife-4.25" and isinstance(create_method("mine"), Blend)
        assert capabilities.evaluate_learned()["mine"] == "rife-4.25" and handlers.evaluate_needs_gpu(methods=["mine"])
        assert [f.name for f in capabilities.evaluate_methods()][-1] == "mine"
    finally:
        INTERPOLATORS.remove("mine")
    assert "mine" not in METHODS and "mine" not in capabilities.evaluate_learned()
    with pytest.raises(ParameterError, match="unknown method 'mine'"):
        parse_methods("mine")
    with pytest.raises(ParameterError, match="no method 'rife' was added here"):   # the backends' own entry
        METHODS.remove("rife")
    assert capabilities.EVALUATE_CLASSICAL == ("blend", "fast", "balanced", "quality")


def test_unknown_names_list_the_choices():
    from vidext.extension import EXTENDERS

    with pytest.raises(ParameterError, match="unknown extend method 'magic'; choose one of: .*seamless"):
        EXTENDERS.entry("magic")
    assert not EXTENDERS.is_generative("magic")


def _cli_choices(capsys, *args: str) -> list[str]:
    """The choices the CLI lists when ``args`` end in an unknown name (its own error message, exit 2)."""
    from vidext._cli import build_parser

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(list(args))
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    listed = re.search(r"invalid choice: .*\(choose from (.*)\)", err)
    assert listed, err
    return [c.strip().strip("'") for c in listed.group(1).split(",")]


def test_front_ends_read_the_registries(capsys):
    from vidext import config
    from vidext.extension import EXTENDERS
    from vidext.sound.continuation import CONTINUATIONS
    from vidext.webapp import capabilities

    assert capabilities.generative_methods() == {"svd": "svd-xt", "ltx": "ltx-video", "musicgen": "musicgen-small"}
    assert capabilities.learned_methods() == {"rife": config.RIFE_MODEL, "best": config.RIFE_MODEL}
    assert set(capabilities.EXTEND_CLASSICAL) | set(capabilities.EXTEND_GENERATIVE) == set(EXTENDERS)
    assert set(capabilities.AUDIO_CLASSICAL) | set(capabilities.AUDIO_GENERATIVE) == set(CONTINUATIONS)
    from vidext._cli import build_parser
    from vidext.evaluation.heldout import METHODS

    extend = ["extend", "in.mp4", "--seconds", "1", "-o", "out.mp4", "--method"]
    assert _cli_choices(capsys, *extend, "magic") == EXTENDERS.names()
    for name in EXTENDERS.names():
        assert build_parser().parse_args([*extend, name]).method == name
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["evaluate", "--help"])
    assert exit_.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"from: {', '.join(METHODS.names())};" in help_text
