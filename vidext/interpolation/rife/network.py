"""IFNet of RIFE 4.25, written from the paper and the checkpoint's parameter names.

Huang et al., "Real-Time Intermediate Flow Estimation for Video Frame
Interpolation" (ECCV 2022): a coarse-to-fine stack of IFBlocks estimates the
two intermediate flows F_t→0, F_t→1 and a fusion mask directly from the
frames, without a separate bidirectional flow.  Each block sees the inputs at
its own scale, predicts a residual flow and a mask, and the frames (and
their features) are backward-warped with the current flow before the next,
finer block.  The 4.x line adds what the checkpoint's shapes show:

- ``encode``: a small per-frame head (3 → 16 channels at half resolution → 4
  channels at full resolution) whose features are warped along with the frames;
- five blocks at 1/16, 1/8, 1/4, 1/2 and 1/1 of the frame (widths 192, 128, 96,
  64, 32); each reduces by 4 with two strided convolutions, runs eight residual
  3×3 convolutions with a learned per-channel gain ``beta``, and returns to its
  input scale with a 4×4 transposed convolution and a 2× pixel shuffle;
- each block outputs 13 channels: 4 flow, 1 mask logit, 8 feature channels
  handed to the next block;
- the timestep t is an input plane, so any t in (0, 1) costs one pass.

Block 0 reads (I0, I1, f0, f1, t) = 15 channels; blocks 1–4 read (warped I0,
warped I1, warped f0, warped f1, t, mask, feature, flow) = 28 channels.  The
coarsest block works at 1/64 of the frame after its two strided
convolutions, so frames are padded to a multiple of 64 / ``scale``.

``teacher.*`` (the privileged distillation block) and ``caltime.*`` in the
checkpoint are training-time parts and are not built here.
"""
from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger(__name__)

BLOCK_WIDTHS = (192, 128, 96, 64, 32)
BLOCK_SCALES = (16, 8, 4, 2, 1)
FEATURE_CHANNELS = 4        # per-frame features from the head
BLOCK_FEATURE = 8           # feature channels passed from block to block
BLOCK_OUT = 4 + 1 + BLOCK_FEATURE
FIRST_IN = 3 + 3 + 2 * FEATURE_CHANNELS + 1
NEXT_IN = FIRST_IN + 1 + BLOCK_FEATURE + 4
TRAINING_ONLY = ("teacher.", "caltime.")
SLOPE = 0.2                 # LeakyReLU negative slope
LAST_KEEP = 5               # what flows() reads of the last block: flow (4) and mask (1)
MULTIPLE = 64               # padding multiple at scale 1 (1/16 block, then two stride-2 convs)
# oneDNN's fused convolutions (PyTorch's CPU compiler emits them; absent from builds without oneDNN)
_POINTWISE = getattr(torch.ops.mkldnn, "_convolution_pointwise", None) if torch.backends.mkldnn.is_available() \
    else None
FINE_MULTIPLE = 8           # what the blocks at 1/2 and 1/1 need (1/2, then two stride-2 convs)


def _act() -> nn.Module:
    return nn.LeakyReLU(SLOPE, inplace=True)


def _fusable(x: torch.Tensor, conv: nn.Conv2d) -> bool:
    """Whether oneDNN can run ``conv`` with what follows it as one kernel: CPU, fp32 or bf16, inference.

    PyTorch's ``mkldnn._convolution_pointwise`` (the kernel its compiler fuses into
    on the CPU) applies the LeakyReLU, or adds the residual, as the convolution
    writes its output: one pass over the activations instead of two
    (bf16 on AMX, 1 thread: 17–27 % off each convolution with its activation).
    """
    return (x.device.type == "cpu" and _POINTWISE is not None and x.dtype == conv.weight.dtype
            and x.dtype in (torch.float32, torch.bfloat16) and not torch.is_grad_enabled())


def _unfused(exc: RuntimeError) -> None:
    """A build whose oneDNN refuses the fused kernel (a private operator): plain modules from now on."""
    global _POINTWISE
    if _POINTWISE is not None:
        log.warning("fused oneDNN convolutions unavailable (%s); using plain ones", str(exc).splitlines()[0])
    _POINTWISE = None


def _conv_act(conv: nn.Conv2d, act: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """LeakyReLU(conv(x)), fused where :func:`_fusable`."""
    if _fusable(x, conv):
        try:
            return _POINTWISE.default(x, conv.weight, conv.bias, conv.padding, conv.stride, conv.dilation,
                                      conv.groups, "leaky_relu", [SLOPE], None)
        except RuntimeError as exc:
            _unfused(exc)
    return act(conv(x))


class ConvAct(nn.Sequential):
    """Conv2d then LeakyReLU (a Sequential: the checkpoint's names ``….0.weight``)."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__(nn.Conv2d(cin, cout, 3, stride, 1), _act())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _conv_act(self[0], self[1], x)


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return ConvAct(cin, cout, stride)


class ResConv(nn.Module):
    """x + beta · conv(x), then LeakyReLU."""

    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)
        self.beta = nn.Parameter(torch.ones(1, c, 1, 1))
        self.act = _act()
        self.folded = False

    def fold(self) -> None:
        """Fold ``beta`` into the convolution (exact up to rounding; inference only)."""
        if self.folded:
            return
        with torch.no_grad():
            b = self.beta.view(-1)
            self.conv.weight.mul_(b.view(-1, 1, 1, 1))
            self.conv.bias.mul_(b)
        self.folded = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.folded and _fusable(x, self.conv):    # the residual added as the convolution writes
            c = self.conv
            try:
                return self.act(_POINTWISE.binary(x, x, c.weight, c.bias, c.padding, c.stride, c.dilation,
                                                  c.groups, "add", None, None, [], None))
            except RuntimeError as exc:
                _unfused(exc)
        y = self.conv(x)
        if not self.folded:
            y = y * self.beta
        return self.act(y + x)


class Head(nn.Module):
    """Per-frame features: 3 → 16 at half resolution → 4 at full resolution."""

    def __init__(self):
        super().__init__()
        self.cnn0 = nn.Conv2d(3, 16, 3, 2, 1)
        self.cnn1 = nn.Conv2d(16, 16, 3, 1, 1)
        self.cnn2 = nn.Conv2d(16, 16, 3, 1, 1)
        self.cnn3 = nn.ConvTranspose2d(16, FEATURE_CHANNELS, 4, 2, 1)
        self.act = _act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _conv_act(self.cnn0, self.act, x)
        x = _conv_act(self.cnn1, self.act, x)
        x = _conv_act(self.cnn2, self.act, x)
        return self.cnn3(x)


class IFBlock(nn.Module):
    """One scale: inputs (and the current flow) at 1/s → residual flow, mask, feature."""

    def __init__(self, cin: int, c: int, depth: int = 8):
        super().__init__()
        self.conv0 = nn.Sequential(_conv(cin, c // 2, 2), _conv(c // 2, c, 2))
        self.convblock = nn.Sequential(*(ResConv(c) for _ in range(depth)))
        self.lastconv = nn.Sequential(nn.ConvTranspose2d(c, 4 * BLOCK_OUT, 4, 2, 1), nn.PixelShuffle(2))
        self.grouped = False      # input channels in the checkpoint's order (see group_frames)

    def trim(self, keep: int) -> None:
        """Compute only the first ``keep`` output channels (inference: the last block's features
        are never read, so its widest layer need not make them).  Exact: the kept channels'
        weights are unchanged; the pixel shuffle groups 4 channels per output channel."""
        up = self.lastconv[0]
        if up.out_channels == 4 * keep:
            return
        trimmed = nn.ConvTranspose2d(up.in_channels, 4 * keep, 4, 2, 1).to(up.weight.device, up.weight.dtype)
        with torch.no_grad():
            trimmed.weight.copy_(up.weight[:, :4 * keep])
            trimmed.bias.copy_(up.bias[:4 * keep])
        self.lastconv[0] = trimmed

    def group_frames(self) -> None:
        """Reorder the first convolution's input channels from the checkpoint's (I0, I1, f0, f1, …)
        to (I0, f0, I1, f1, …): each frame's 7 channels side by side, so a warped frame is written
        into the input as one run of 7 channels, not 3 and 4 (a third of the copying time).
        Exact: the same weights meet the same inputs."""
        if self.grouped:
            return
        first = self.conv0[0][0]
        order = [0, 1, 2, 6, 7, 8, 9, 3, 4, 5, 10, 11, 12, 13] + list(range(14, first.in_channels))
        with torch.no_grad():
            first.weight.copy_(first.weight[:, order].clone())
        self.grouped = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Inputs at this block's resolution → 13 channels at the same resolution.

        Resizing to and from the block's scale is done by :meth:`IFNet.flows`.
        """
        return self.lastconv(self.convblock(self.conv0(x)))


def pixel_grid(h: int, w: int, device, *, centres: bool) -> torch.Tensor:
    """Normalised (x, y) sampling coordinates of every pixel of an h×w image, shape (1, h, w, 2).

    ``centres=False``: -1/+1 are the centres of the corner pixels (``align_corners=True``,
    the warp's convention); ``centres=True``: -1/+1 are the image's outer edges
    (``align_corners=False``, the resize convention).
    """
    if centres:
        ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) * (2.0 / h) - 1.0
        xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) * (2.0 / w) - 1.0
    else:
        ys = torch.linspace(-1.0, 1.0, h, device=device)
        xs = torch.linspace(-1.0, 1.0, w, device=device)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((gx, gy), -1).unsqueeze(0)


def _pair_points(n: int, s: int) -> torch.Tensor:
    """Full-resolution rows (or columns) that a bilinear 1/s downscale reads: two per output."""
    r = torch.arange(n // s).repeat_interleave(2) * s + (s // 2 - 1)
    return r + torch.arange(2).repeat(n // s)


class _Bands:
    """A ``grid_sample`` result: (N, C, h, w), or row bands (k, C, h/k, w) of one image.

    PyTorch's CPU sampler parallelises over the batch only, so a single image
    is sampled as k row bands of its grid (one per thread) against the same,
    expanded (not copied) input.  Consumers that can read the bands in place
    (pooling, writing into a network input) skip joining them.
    """

    def __init__(self, out: torch.Tensor, k: int):
        self.out, self.k = out, k

    @property
    def channels(self) -> int:
        return self.out.shape[1]

    def join(self) -> torch.Tensor:
        if self.k == 1:
            return self.out
        k, c, hb, w = self.out.shape
        return self.out.permute(1, 0, 2, 3).reshape(1, c, k * hb, w)   # a view when c == 1

    def pool2(self) -> "_Bands":
        """2×2 average (a bilinear 1/2 downscale); bands have even heights."""
        return _Bands(_down(self.out, 2), self.k)

    def write(self, dst: torch.Tensor) -> None:
        """Copy into ``dst`` (N, C, h, w), any dtype or memory format.

        Cast to ``dst``'s dtype first: PyTorch copies a dtype change into a strided
        slice (a network input's channels) 3–4× slower than the conversion and the
        same-dtype copy done one after the other (640×272, 1 thread).
        """
        out = self.out.to(dst.dtype)
        if self.k == 1:
            dst.copy_(out)
        else:
            k, c, hb, w = out.shape
            dst[0].unflatten(1, (k, hb)).copy_(out.permute(1, 0, 2, 3))


def _sample(img: torch.Tensor, grid: torch.Tensor, align_corners: bool) -> _Bands:
    """Bilinear ``grid_sample`` with replicated borders (see :class:`_Bands`)."""
    n, hg, wg = grid.shape[:3]
    if img.shape[0] == 1 and n > 1:
        img = img.expand(n, -1, -1, -1)
    k = torch.get_num_threads() if img.device.type == "cpu" and n == 1 else 1
    if k < 2 or hg % (2 * k):       # bands of even heights (pool2 averages rows in pairs)
        return _Bands(F.grid_sample(img, grid, mode="bilinear", padding_mode="border",
                                    align_corners=align_corners), 1)
    out = F.grid_sample(img.expand(k, -1, -1, -1), grid.reshape(k, hg // k, wg, 2), mode="bilinear",
                        padding_mode="border", align_corners=align_corners)
    return _Bands(out, k)


def _warp(img: torch.Tensor, flow: torch.Tensor, grid: torch.Tensor) -> _Bands:
    hi, wi = img.shape[-2:]
    norm = flow.new_tensor((2.0 / (wi - 1), 2.0 / (hi - 1))).view(1, 2, 1, 1)
    return _sample(img, grid + (flow * norm).permute(0, 2, 3, 1), align_corners=True)


def warp(img: torch.Tensor, flow: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Backward warp: out(x) = img(x + flow(x)), bilinear, borders replicated.

    ``flow`` in pixels of ``img``, (N, 2, h, w); ``grid`` the normalised
    positions x (``pixel_grid(..., centres=False)``, or a subset of it), (1|N, h, w, 2).
    Sampling reads all channels of a pixel together: keep many-channel
    images channels-last on the CPU.
    """
    return _warp(img, flow, grid).join()


def _up(y: torch.Tensor, s: float) -> torch.Tensor:
    return y if s == 1 else F.interpolate(y, scale_factor=float(s), mode="bilinear", align_corners=False)


def _up_to(y: torch.Tensor, s: int, h: int, w: int) -> torch.Tensor:
    """``_up(y, s)`` cropped to its top-left h×w, resizing only the rows and columns that reach it.

    A bilinear ×s resize (half-pixel centres) reads, for output rows below h,
    source rows below ceil(h/s) + 1; so the crop is exact.
    """
    hy, wy = y.shape[-2:]
    if (h, w) == (hy * s, wy * s):
        return _up(y, s)
    rows, cols = min(hy, -(-h // s) + 1), min(wy, -(-w // s) + 1)
    return _up(y[..., :rows, :cols], s)[..., :h, :w]


def _down(c: torch.Tensor, s: int) -> torch.Tensor:
    """Bilinear 1/s downscale (s even: the mean of the 2×2 pixels around each output pixel).

    Also the 2×2 average pool (s = 2), where PyTorch's CPU resize kernel is 2.5–4× faster than
    ``avg_pool2d`` (640×320, 1 thread, NCHW and channels-last) with the same result.
    """
    return F.interpolate(c, scale_factor=1.0 / s, mode="bilinear", align_corners=False)


class _Grids:
    """Sampling positions for one padded frame size, built once."""

    def __init__(self, h: int, w: int, device):
        self.h, self.w, self.device = h, w, device
        self._cache: dict = {}

    def get(self, s: int):
        """(warp grid, resize grid) of the pixels a 1/s downscale reads (all pixels for s ≤ 2)."""
        if s not in self._cache:
            full_w = pixel_grid(self.h, self.w, self.device, centres=False)
            full_r = pixel_grid(self.h, self.w, self.device, centres=True)
            if s > 2:
                rows = _pair_points(self.h, s).to(self.device)
                cols = _pair_points(self.w, s).to(self.device)
                full_w = full_w[:, rows][:, :, cols].contiguous()
                full_r = full_r[:, rows][:, :, cols].contiguous()
            self._cache[s] = (full_w, full_r)
        return self._cache[s]


class IFNet(nn.Module):
    """RIFE 4.25's flow network: (I0, I1, t) → flows t→0, t→1 and a fusion mask."""

    def __init__(self):
        super().__init__()
        self.encode = Head()
        for i, c in enumerate(BLOCK_WIDTHS):
            setattr(self, f"block{i}", IFBlock(FIRST_IN if i == 0 else NEXT_IN, c))
        self._grids: dict = {}
        self.channels_last = False

    @property
    def blocks(self) -> list[IFBlock]:
        return [getattr(self, f"block{i}") for i in range(len(BLOCK_WIDTHS))]

    def load_checkpoint(self, state: dict, assign: bool = False) -> None:
        """Load a RIFE 4.25 state dict: every network key must match (training-only keys dropped).

        ``assign``: the state's tensors become the parameters (for a network built on the
        ``meta`` device, which skips the random initialisation)."""
        own = {k.removeprefix("module."): v for k, v in state.items()
               if not k.removeprefix("module.").startswith(TRAINING_ONLY)}
        self.load_state_dict(own, strict=True, assign=assign)

    def fold(self) -> "IFNet":
        """Fold every ``beta`` into its convolution (inference only)."""
        for m in self.modules():
            if isinstance(m, ResConv):
                m.fold()
        return self

    @property
    def compute_dtype(self) -> torch.dtype:
        return self.encode.cnn0.weight.dtype

    def prepare(self, device, dtype: torch.dtype = torch.float32, channels_last: bool = False) -> "IFNet":
        """Inference set-up: fold the gains, move, cast the convolutions, pick the memory format.

        Convolutions run in ``dtype`` (fp16 on CUDA, bf16 on CPUs with native
        bf16 dot products, else fp32); flows, warps and the final merge stay fp32.
        """
        self.fold()
        self.blocks[-1].trim(LAST_KEEP)
        for block in self.blocks:
            block.group_frames()
        self.to(device=device, dtype=dtype)
        self.channels_last = channels_last
        if channels_last:
            self.to(memory_format=torch.channels_last)
        return self.eval().requires_grad_(False)

    def _convs(self, module: nn.Module, *pieces, keep: int | None = None, cast: bool = True) -> torch.Tensor:
        """Run a convolution stack on the channel-concatenation of ``pieces``; fp32 NCHW out.

        The pieces (tensors or sampled bands) are written straight into one
        input buffer in the weights' dtype and memory format, with no
        concatenated fp32 copy first.  ``keep``: output channels wanted.
        ``cast=False``: the output as the stack gives it (weights' dtype and memory format).
        """
        first = next(p for p in pieces if isinstance(p, torch.Tensor))
        n = max(p.shape[0] for p in pieces if isinstance(p, torch.Tensor))
        c = sum(p.channels if isinstance(p, _Bands) else p.shape[1] for p in pieces)
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        x = torch.empty((n, c) + tuple(first.shape[-2:]), device=first.device, dtype=self.compute_dtype,
                        memory_format=fmt)
        o = 0
        for p in pieces:
            if isinstance(p, _Bands):
                p.write(x[:, o:o + p.channels])
                o += p.channels
            else:
                if p.dtype != x.dtype and p.is_contiguous():    # cast first (see _Bands.write)
                    p = p.to(x.dtype)
                x[:, o:o + p.shape[1]].copy_(p)
                o += p.shape[1]
        y = module(x)
        if keep is not None:
            y = y[:, :keep]
        return y.to(torch.float32, memory_format=torch.contiguous_format) if cast else y

    def features(self, img: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) frames → (N, 7, H, W): the frame and its 4 head features, fp32.

        Computed once per frame: a frame is the second of one pair and the
        first of the next, and every timestep of a pair shares them.  Kept
        channels-last on the CPU, where warping reads a pixel's channels together.
        """
        n, _, h, w = img.shape
        fmt = torch.channels_last if img.device.type == "cpu" else torch.contiguous_format
        c = torch.empty((n, 3 + FEATURE_CHANNELS, h, w), device=img.device, dtype=torch.float32, memory_format=fmt)
        c[:, 3:].copy_(self._convs(self.encode, img, cast=False).float())    # see _Bands.write
        c[:, :3].copy_(img)
        return c

    def grids(self, h: int, w: int, device) -> _Grids:
        key = (h, w, str(device))
        grids = self._grids.get(key)
        if grids is None:       # a clip's two sizes (padded, fine) at a time; replaced, not
            grids = _Grids(h, w, device)     # changed in place: other threads may read it
            kept = dict(list(self._grids.items())[-1:])
            kept[key] = grids
            self._grids = kept
        return grids

    def first_input(self, c: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """What the first (coarsest) block reads of one frame: ``c`` (from :meth:`features`) at 1/16·scale.

        It depends on the frame alone, so it can be computed once per frame and
        handed to :meth:`flows` for every pair and timestep the frame is in.
        """
        return _down(c, int(round(BLOCK_SCALES[0] / scale)))

    def flows(self, c0: torch.Tensor, c1: torch.Tensor, t: torch.Tensor, scale: float = 1.0,
              first: tuple[torch.Tensor, torch.Tensor] | None = None, size: tuple[int, int] | None = None):
        """Intermediate flows (N, 4, h, w) (t→0 in 0:2, t→1 in 2:4, pixels) and mask logits (N, 1, h, w).

        ``c0``/``c1`` come from :meth:`features` (batch 1 or N), padded to H×W; ``t`` is (N,);
        H and W are multiples of ``MULTIPLE / scale``; ``scale`` is 1, 0.5 or 0.25.
        ``first``: :meth:`first_input` of ``c0`` and ``c1`` at this ``scale``,
        when already computed (the result is the same without it).
        ``size``: the pictures' own height and width before padding.  Without it
        h×w = H×W.  With it, the blocks at 1/2 and finer (the costly ones: they
        work on full-resolution warps) see only the top-left h×w, the picture
        rounded up to a multiple of 8 (``FINE_MULTIPLE``), as the coarse ones
        need the whole padding: 640×272 is padded to 640×320 but refined at
        640×272.  Their borders then repeat the picture's last row or column
        where the padded network saw the padding's own (replicated) features.

        The result is the network's, computed without its full-resolution
        detours: a block at 1/s only reads, from each full-resolution input
        it resizes, the 2×2 pixels around each of its own pixels (bilinear 1/s
        downscaling, s even), so warps are evaluated at those pixels only; a
        block's output resized up by 2s and back down by s is a 2× resize; and
        the flow increments are upsampled straight to the pixels that need them, scaled to pixels
        before the resize (by a power of two: the same numbers, on fewer of them).
        """
        n = t.shape[0]
        h, w = c0.shape[-2:]
        grids = self.grids(h, w, c0.device)
        t = t.to(torch.float32).view(n, 1, 1, 1)
        scales = [int(round(b / scale)) for b in BLOCK_SCALES]
        outs: list[torch.Tensor] = []       # each block's 13 channels at its own resolution, fp32
        full_flow = None                    # the flow at full resolution, once needed there
        last = len(scales) - 1

        def summed(h: int, w: int) -> torch.Tensor:     # the blocks' flows so far, at h×w
            return sum(_up_to(o[:, :4] * scales[k], scales[k], h, w) for k, o in enumerate(outs))

        for i, block in enumerate(self.blocks):
            s = scales[i]
            if s <= 2 and full_flow is None:        # from here on: the fine size
                if size is not None:
                    h, w = (min(-(-v // FINE_MULTIPLE) * FINE_MULTIPLE, full) for v, full in zip(size, (h, w)))
                    c0, c1 = c0[..., :h, :w], c1[..., :h, :w]
                    grids = self.grids(h, w, c0.device)
                full_flow = summed(h, w)
            tmap = t.expand(n, 1, h // s, w // s)
            if i == 0:
                a, b = first if first is not None else (_down(c0, s), _down(c1, s))
                y = self._convs(block, a, b, tmap)      # (prepare() groups each frame's channels)
            else:
                gw, gr = grids.get(s)
                if full_flow is not None:
                    fq = full_flow
                else:   # the flow at just the pixels this block's downscale reads
                    fq = sum(_sample(o[:, :4], gr, align_corners=False).join() * scales[k]
                             for k, o in enumerate(outs))
                wa, wb = _warp(c0, fq[:, :2], gw), _warp(c1, fq[:, 2:4], gw)
                if s == 1:
                    flow_in = fq
                else:
                    wa, wb = wa.pool2(), wb.pool2()
                    flow_in = _down(fq, 2) / s
                # mask and feature: resized up by 2s, down by s (fp32: PyTorch's CPU bf16
                # bilinear resize is 2x slower than its fp32 one)
                prev = _up_to(outs[-1][:, 4:], 2, h // s, w // s)
                y = self._convs(block, wa, wb, tmap, prev, flow_in,
                                keep=LAST_KEEP if i == last else None)
            if full_flow is not None:     # in place: this block's inputs are already written
                full_flow.add_(_up(y[:, :4] * s, s))
            outs.append(y)
        if full_flow is None:   # every block coarser than 1/2 (scale 0.25): the padded size throughout
            full_flow = summed(h, w)
        mask = _up(outs[-1][:, 4:5], scales[-1])
        return full_flow, mask

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor, scale: float = 1.0,
                c0: torch.Tensor | None = None, c1: torch.Tensor | None = None,
                first: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """Frames (N, 3, H, W) in [0, 1] → the frame at ``t`` (N,), merged in RGB.

        ``c0``/``c1``/``first``: per-frame work already done (:meth:`features`, :meth:`first_input`).
        """
        c0 = self.features(img0) if c0 is None else c0
        c1 = self.features(img1) if c1 is None else c1
        flow, mask = self.flows(c0, c1, t, scale, first=first)
        n, _, h, w = flow.shape
        grid = self.grids(h, w, flow.device).get(1)[0]
        w0 = warp(c0[:, :3], flow[:, :2], grid)
        w1 = warp(c1[:, :3], flow[:, 2:4], grid)
        m = torch.sigmoid(mask)
        return w0 * m + w1 * (1 - m)
