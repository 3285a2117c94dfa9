"""RIFE 4.25 as a vidext interpolator: native planes in, native planes out.

The network sees the frames in RGB (``to_rgb``, padded to its multiple) and
returns the two intermediate flows and the fusion mask.  The output is then
built the way the network builds its own (two backward warps blended by the
mask), but on the clip's own planes: Y at full size, chroma at its own size
with the flow resized, so 4:2:0 needs no RGB round trip and 10-bit stays
10-bit.  Warping and blending are linear, so on luma this is the network's
result without the colour conversions.

Per frame, the RGB tensor, the head's features, their downscale for the
first flow block and the uploaded planes are computed once (a frame is the second of one pair and the first of the next);
each timestep then costs one pass of the flow blocks.
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass


from ... import config
from ...errors import ModelError, ParameterError
from ...media.frame import Frame, to_rgb
from ..base import Between, Interpolator, Planes

RIFE_SCALES = (1.0, 0.5, 0.25)            # flow resolution choices (1 = the network's native scales)
RIFE_HALF_SCALE_ABOVE_PIXELS = 2560 * 1440  # larger frames (4K) estimate flow at scale 0.5
RIFE_GPU_BATCH = 8                        # timesteps per forward pass on CUDA


def load_network(path, device, dtype, channels_last: bool):
    """An :class:`IFNet` with the checkpoint at ``path``, ready for inference (cached per process)."""
    from ...models import cached

    key = ("rife-ifnet", str(os.path.realpath(path)), str(device), str(dtype), channels_last)
    return cached(key, lambda: _load(path, device, dtype, channels_last))


def _load(path, device, dtype, channels_last):
    import pickle

    import torch

    from .network import IFNet

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise ModelError(f"cannot read RIFE weights {path}: {type(exc).__name__}: {exc}") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{path} is not a RIFE state dict (a mapping of tensor names to tensors)")
    with torch.device("meta"):      # no random initialisation: the checkpoint's tensors are the weights
        net = IFNet()
    try:
        net.load_checkpoint(state, assign=True)
    except RuntimeError as exc:
        first = " ".join(str(exc).split())[:200]
        raise ModelError(f"{path} is not a RIFE 4.25 checkpoint ({first})") from exc
    return net.prepare(device, dtype, channels_last)


def _dtype(precision: str):
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16}[precision]


@dataclass
class _Prepared:
    """One frame, made ready once: padded features on the device and its planes as tensors."""

    features: object          # (1, 7, Hp, Wp) fp32
    first: object             # features at the first block's scale (IFNet.first_input)
    planes: list              # (1, 1, h, w) fp32 per plane


class _Frames:
    """Prepared frames shared by the pairs in flight, each prepared once.

    A frame is the second of one pair and the first of the next; when pairs
    are rendered at once on several threads, the first to ask for a frame
    prepares it and the others wait for that result instead of repeating it.
    The last ``keep`` frames are kept.
    """

    def __init__(self, keep: int = 2):
        self.keep = keep
        self._lock = threading.Lock()
        self._items: OrderedDict = OrderedDict()

    def get(self, key, make) -> _Prepared:
        with self._lock:
            future = self._items.get(key)
            mine = future is None
            if mine:
                future = self._items[key] = Future()
                while len(self._items) > self.keep:
                    self._items.popitem(last=False)
        if mine:
            try:
                future.set_result(make())
            except BaseException as exc:
                future.set_exception(exc)
                with self._lock:
                    if self._items.get(key) is future:
                        del self._items[key]
                raise
        return future.result()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class RIFEInterpolator(Interpolator):
    """RIFE 4.25 (Huang et al., ECCV 2022), any timestep, CPU or CUDA.

    ``weights``: a checkpoint file or folder (else ``$VIDEXT_MODEL_DIR``, the
    Hugging Face cache, a download; see :mod:`vidext.models`).  ``device``:
    ``auto`` (CUDA when present), ``cpu``, ``cuda[:N]``.  ``scale``: flow
    resolution, 1 (default below 2560×1440), 0.5 (default above: 4K) or
    0.25.  ``precision``: ``auto`` = fp16 on CUDA; on the CPU, precision,
    memory format and threads are chosen per CPU and frame-size class (a cached
    calibration, the table of CPUs already measured, or a screen of about a
    second: :mod:`.calibration`), when the frame size
    is known (:meth:`setup`); ``fp32``/``bf16`` force the precision.
    """

    name = "rife"
    arbitrary_t = True

    def __init__(self, weights=None, device=None, scale: float | None = None,
                 precision: str | None = None, quality: str | None = None):
        from ...models import locate, select_device, select_dtype

        if scale is not None and float(scale) not in RIFE_SCALES:
            raise ParameterError(f"RIFE scale must be one of {', '.join(map(str, RIFE_SCALES))}, "
                                 f"got {scale}")
        from .calibration import cores, forced

        self.device = select_device(device)
        self.scale = None if scale is None else float(scale)
        self.calibration = None
        self._calibrated_for: tuple[int, int] | None = None
        self.threads = None
        self.workers = 1
        if self.device.type == "cuda":
            self.dtype = select_dtype(self.device, precision)
        else:
            if precision not in (None, "auto", "fp32", "bf16"):
                raise ParameterError(f"precision {precision} is for CUDA; on the CPU use fp32 or bf16")
            self._precision = precision
            fixed = forced(precision)      # checked now, applied by setup()
            self.dtype = _dtype(fixed.get("precision", "fp32"))
            self.threads = fixed.get("threads", cores())
            self.workers = fixed.get("workers", 1)
        self.found = locate(config.RIFE_MODEL, weights)
        self._net = None
        if self.device.type == "cuda":       # on the CPU, once setup() knows the setting
            self._net = load_network(self.found.path, self.device, self.dtype, channels_last=True)
        self._frames = _Frames()
        self._grids: dict = {}
        self._grid_lock = threading.Lock()
        self.flips = False      # whether mirrored passes will be asked for (render_float): more frames kept

    def setup(self, width: int, height: int) -> None:
        """Choose how to run for ``width``×``height`` frames: on the CPU, the calibrated (or cached) setting."""
        if self.device.type != "cpu":
            return
        from .calibration import calibrate, size_class
        from .network import MULTIPLE

        multiple = int(MULTIPLE / self.scale_for(width, height))
        padded = (-(-width // multiple) * multiple, -(-height // multiple) * multiple)
        if self._calibrated_for is not None and size_class(*self._calibrated_for) == size_class(*padded):
            return
        self.calibration = calibrate(
            lambda s: load_network(self.found.path, self.device, _dtype(s.precision), s.channels_last),
            *padded, precision=self._precision, multiple=multiple)
        chosen = self.calibration.chosen
        self.dtype, self.threads, self.workers = _dtype(chosen.precision), chosen.threads, chosen.workers
        self._net = load_network(self.found.path, self.device, self.dtype, chosen.channels_last)
        self._frames = _Frames(keep=2 * (self.workers + 1) * (2 if self.flips else 1))
        self._calibrated_for = padded

    @property
    def net(self):
        """The prepared network. On the CPU it is loaded once the setting is known (:meth:`setup`),
        so a run loads it once, in the calibrated precision; asked for before that, it is the
        fp32 channels-last network."""
        if self._net is None:
            self._net = load_network(self.found.path, self.device, self.dtype, channels_last=True)
        return self._net

    @property
    def compute_threads(self) -> int | None:
        return self.threads * self.workers if self.device.type == "cpu" else None

    @property
    def concurrency(self) -> int:
        """Pairs rendered at once: the calibrated number of workers on the CPU (each with
        :attr:`threads` intra-op threads), one on CUDA (which batches timesteps instead)."""
        return self.workers if self.device.type == "cpu" else 1

    def forget(self) -> None:
        """Drop the prepared frames (the next pair prepares its frames again; benchmarks)."""
        self._frames.clear()

    def describe(self) -> dict:
        import torch

        precision = {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}[self.dtype]
        out = {"model": self.name, "checkpoint": config.RIFE_MODEL, "weights": str(self.found.path),
               "weights_source": self.found.source, "revision": self.found.revision,
               "device": str(self.device), "precision": precision,
               "scale": self.scale if self.scale is not None else "auto"}
        if self.device.type == "cpu":
            out["threads"] = self.threads
            out["workers"] = self.workers
            out["channels_last"] = self._net.channels_last if self._net is not None else None
            out["calibration"] = self.calibration.source if self.calibration else "not yet (frame size unknown)"
            if self.calibration and self.calibration.source not in ("off", "forced"):
                out["calibration_status"] = self.calibration.status
                if self.calibration.note:
                    out["calibration_note"] = self.calibration.note
        return out

    def scale_for(self, width: int, height: int) -> float:
        if self.scale is not None:
            return self.scale
        return 0.5 if width * height > RIFE_HALF_SCALE_ABOVE_PIXELS else 1.0

    def between(self, a: Frame, b: Frame) -> Between:
        if (a.width, a.height, a.layout) != (b.width, b.height, b.layout):
            raise ParameterError("RIFE interpolates between frames of one size and pixel format")
        self.setup(a.width, a.height)
        return _RIFEPair(self, a, b)

    # --- work --------------------------------------------------------------------------------
    def _section(self):
        import torch

        from ...models import gpu_section

        stack = contextlib.ExitStack()
        stack.enter_context(gpu_section(self.device))
        stack.enter_context(torch.inference_mode())
        if self.threads and torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)    # the calibrated intra-op threads (of this thread's calls)
        return stack

    def _prepare(self, frame: Frame, flip: bool = False) -> _Prepared:
        key = (frame.time, id(frame.planes[0]), flip)
        return self._frames.get(key, lambda: self._make(frame, flip))

    def _make(self, frame: Frame, flip: bool = False) -> _Prepared:
        """The frame made ready; ``flip``: mirrored left to right (a test-time augmentation pass)."""
        import cv2
        import numpy as np
        import torch

        from .network import MULTIPLE

        scale = self.scale_for(frame.width, frame.height)
        multiple = int(MULTIPLE / scale)
        rgb = to_rgb(frame)
        planes_in = frame.planes
        if flip:
            rgb = np.ascontiguousarray(rgb[:, ::-1])
            planes_in = tuple(np.ascontiguousarray(p[:, ::-1]) for p in frame.planes)
        ph, pw = -frame.height % multiple, -frame.width % multiple
        if ph or pw:    # edges repeated, on the (height, width, 3) picture: a channels-last tensor below
            rgb = cv2.copyMakeBorder(rgb, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
        rgb = torch.from_numpy(rgb).to(self.device).permute(2, 0, 1).unsqueeze(0)
        features = self.net.features(rgb)
        planes = [torch.from_numpy(p).to(self.device).to(torch.float32)[None, None] for p in planes_in]
        return _Prepared(features, self.net.first_input(features, scale), planes)

    def _grid(self, h: int, w: int):
        from .network import pixel_grid

        with self._grid_lock:
            if (h, w) not in self._grids:
                self._grids[(h, w)] = pixel_grid(h, w, self.device, centres=False)
            return self._grids[(h, w)]

    def render(self, a: Frame, b: Frame, ts: list[float]) -> list[Planes]:
        """Planes of the frames at each t in ``ts`` between ``a`` and ``b``."""
        out: list[Planes] = []
        step = RIFE_GPU_BATCH if self.device.type == "cuda" else 1
        with self._section():
            # the second frame first: it is the one new to this pair (the first was the
            # previous pair's second), so pairs rendered at once do not wait on each other
            pb = self._prepare(b)
            pa = self._prepare(a)
            for i in range(0, len(ts), step):
                out += self._render(a, pa, pb, ts[i:i + step])
        return out

    def render_float(self, a: Frame, b: Frame, ts: list[float], *, flip: bool = False,
                     reverse: bool = False) -> list[list]:
        """The pictures at each t as float32 planes (not rounded), for passes that are averaged:
        ``flip``, the network run on the mirrored frames and its pictures mirrored back;
        ``reverse``, run from ``b`` to ``a`` at 1 − t (test-time augmentation: the network is
        neither mirror- nor time-symmetric, so each pass errs differently)."""
        import numpy as np

        out: list[list] = []
        step = RIFE_GPU_BATCH if self.device.type == "cuda" else 1
        with self._section():
            pb, pa = self._prepare(b, flip), self._prepare(a, flip)
            first, second, times = (pb, pa, [1 - t for t in ts]) if reverse else (pa, pb, list(ts))
            for i in range(0, len(times), step):
                for planes in self._merged(a, first, second, times[i:i + step]):
                    out.append([np.ascontiguousarray(p[:, ::-1]) if flip else p for p in planes])
        return out

    def _merged(self, like: Frame, pa: _Prepared, pb: _Prepared, ts: list[float]) -> list[list]:
        """Float planes (one list per t) of the network's two warps blended by its mask."""
        merged = self._blend(like, pa, pb, ts)
        return [[m[i, 0].cpu().numpy() for m in merged] for i in range(len(ts))]

    def _render(self, like: Frame, pa: _Prepared, pb: _Prepared, ts: list[float]) -> list[Planes]:
        import torch

        peak = like.layout.peak
        planes_out = []
        for plane, mixed in zip(like.planes, self._blend(like, pa, pb, ts)):
            mixed = mixed.add_(0.5).clamp_(0, peak)
            planes_out.append(mixed.to(torch.int32).cpu().numpy().astype(plane.dtype)[:, 0])
        return [tuple(p[i] for p in planes_out) for i in range(len(ts))]

    def _blend(self, like: Frame, pa: _Prepared, pb: _Prepared, ts: list[float]) -> list:
        """Per plane, (N, 1, h, w) float32: the two warps blended by the mask, before rounding."""
        import torch
        import torch.nn.functional as F

        from .network import warp

        t = torch.tensor(ts, dtype=torch.float32, device=self.device)
        flow, mask = self.net.flows(pa.features, pb.features, t, self.scale_for(like.width, like.height),
                                    first=(pa.first, pb.first), size=(like.height, like.width))
        h0, w0 = like.height, like.width
        flow = flow[..., :h0, :w0]
        mask = torch.sigmoid(mask[..., :h0, :w0])
        blended = []
        for plane, qa, qb in zip(like.planes, pa.planes, pb.planes):
            h, w = plane.shape
            if (h, w) == (h0, w0):
                f, m = flow, mask
            else:
                f = F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False)
                f = f * f.new_tensor((w / w0, h / h0, w / w0, h / h0)).view(1, 4, 1, 1)
                m = F.interpolate(mask, size=(h, w), mode="bilinear", align_corners=False)
            grid = self._grid(h, w)
            wa = warp(qa, f[:, :2], grid)
            wb = warp(qb, f[:, 2:4], grid)
            blended.append(torch.lerp(wb, wa, m))
        return blended


class _RIFEPair(Between):
    def __init__(self, owner: RIFEInterpolator, a: Frame, b: Frame):
        self.owner, self.a, self.b = owner, a, b

    def at(self, t: float) -> Planes:
        return self.owner.render(self.a, self.b, [t])[0]

    def at_many(self, ts: list[float]) -> list[Planes]:
        """Several timesteps at once (one batched pass per ``RIFE_GPU_BATCH`` on CUDA)."""
        return self.owner.render(self.a, self.b, list(ts))
