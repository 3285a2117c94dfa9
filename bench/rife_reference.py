"""The speed anchor for bench/rife.py: RIFE 4.25's IFNet written plainly.

Same network and weights as :mod:`vidext.interpolation.rife.network`, in the
most direct form: fp32, eager, channels-first, ``torch.no_grad``, both frames
encoded for every output frame, the learned ``beta`` gains applied as a
separate multiply, the output merged in RGB and converted back.  It is kept
separate from the product code so that no optimisation there can leak into
the anchor it is measured against.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ResConv(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)
        self.beta = nn.Parameter(torch.ones(1, c, 1, 1))
        self.relu = nn.LeakyReLU(0.2)

    def forward(self, x):
        return self.relu(self.conv(x) * self.beta + x)


def conv(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.2))


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.cnn0 = nn.Conv2d(3, 16, 3, 2, 1)
        self.cnn1 = nn.Conv2d(16, 16, 3, 1, 1)
        self.cnn2 = nn.Conv2d(16, 16, 3, 1, 1)
        self.cnn3 = nn.ConvTranspose2d(16, 4, 4, 2, 1)
        self.relu = nn.LeakyReLU(0.2)

    def forward(self, x):
        x = self.relu(self.cnn0(x))
        x = self.relu(self.cnn1(x))
        x = self.relu(self.cnn2(x))
        return self.cnn3(x)


class IFBlock(nn.Module):
    def __init__(self, cin, c):
        super().__init__()
        self.conv0 = nn.Sequential(conv(cin, c // 2, 2), conv(c // 2, c, 2))
        self.convblock = nn.Sequential(*[ResConv(c) for _ in range(8)])
        self.lastconv = nn.Sequential(nn.ConvTranspose2d(c, 52, 4, 2, 1), nn.PixelShuffle(2))

    def forward(self, x, flow, scale):
        x = F.interpolate(x, scale_factor=1.0 / scale, mode="bilinear", align_corners=False)
        if flow is not None:
            flow = F.interpolate(flow, scale_factor=1.0 / scale, mode="bilinear", align_corners=False) / scale
            x = torch.cat((x, flow), 1)
        feat = self.conv0(x)
        feat = self.convblock(feat)
        tmp = self.lastconv(feat)
        tmp = F.interpolate(tmp, scale_factor=scale, mode="bilinear", align_corners=False)
        return tmp[:, :4] * scale, tmp[:, 4:5], tmp[:, 5:]


def warp(img, flow):
    n, _, h, w = img.shape
    ys = torch.linspace(-1.0, 1.0, h).view(1, h, 1).expand(n, h, w)
    xs = torch.linspace(-1.0, 1.0, w).view(1, 1, w).expand(n, h, w)
    gx = xs + flow[:, 0] / ((w - 1) / 2)
    gy = ys + flow[:, 1] / ((h - 1) / 2)
    return F.grid_sample(img, torch.stack((gx, gy), 3), mode="bilinear", padding_mode="border",
                         align_corners=True)


class IFNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.block0 = IFBlock(15, 192)
        self.block1 = IFBlock(28, 128)
        self.block2 = IFBlock(28, 96)
        self.block3 = IFBlock(28, 64)
        self.block4 = IFBlock(28, 32)
        self.encode = Head()

    def forward(self, img0, img1, timestep, scale=1.0):
        n, _, h, w = img0.shape
        t = torch.full((n, 1, h, w), float(timestep))
        f0 = self.encode(img0)
        f1 = self.encode(img1)
        blocks = [self.block0, self.block1, self.block2, self.block3, self.block4]
        scales = [16 / scale, 8 / scale, 4 / scale, 2 / scale, 1 / scale]
        flow = mask = feat = None
        for i in range(5):
            if flow is None:
                flow, mask, feat = blocks[i](torch.cat((img0, img1, f0, f1, t), 1), None, scales[i])
            else:
                wf0 = warp(f0, flow[:, :2])
                wf1 = warp(f1, flow[:, 2:4])
                fd, mask, feat = blocks[i](torch.cat((w0, w1, wf0, wf1, t, mask, feat), 1), flow, scales[i])
                flow = flow + fd
            w0 = warp(img0, flow[:, :2])
            w1 = warp(img1, flow[:, 2:4])
        mask = torch.sigmoid(mask)
        return w0 * mask + w1 * (1 - mask)


def load(path: str) -> IFNet:
    net = IFNet()
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict({k: v for k, v in state.items() if not k.startswith(("teacher.", "caltime."))})
    return net.eval()


def interpolate(net: IFNet, rgb0, rgb1, t: float):
    """Float RGB (H, W, 3) numpy frames in [0, 1] → the frame at t, same shape."""
    import numpy as np

    h, w = rgb0.shape[:2]
    ph, pw = (64 - h % 64) % 64, (64 - w % 64) % 64
    a = torch.from_numpy(np.ascontiguousarray(rgb0)).permute(2, 0, 1)[None]
    b = torch.from_numpy(np.ascontiguousarray(rgb1)).permute(2, 0, 1)[None]
    a = F.pad(a, (0, pw, 0, ph), mode="replicate")
    b = F.pad(b, (0, pw, 0, ph), mode="replicate")
    with torch.no_grad():
        out = net(a, b, t)
    return out[0, :, :h, :w].permute(1, 2, 0).clamp(0, 1).numpy()


def main(argv=None) -> int:
    """The anchor as a whole script: ``python bench/rife_reference.py IN OUT --weights W``.

    Plainly: PyAV decodes RGB, the fp32 network makes each midpoint (2×),
    PyAV encodes FFV1 yuv420p; the last frame is held once, as vidext does.
    """
    import argparse

    import av
    import numpy as np

    ap = argparse.ArgumentParser(description="plain fp32 RIFE 4.25, 2x, as a whole script")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--weights", required=True)
    args = ap.parse_args(argv)
    net = load(args.weights)
    with av.open(args.input) as src, av.open(args.output, "w") as dst:
        vin = src.streams.video[0]
        rate = vin.average_rate * 2
        out = dst.add_stream("ffv1", rate=rate)
        out.width, out.height, out.pix_fmt = vin.width, vin.height, "yuv420p"
        out.codec_context.time_base = 1 / rate
        pts = 0

        def put(rgb):
            nonlocal pts
            frame = av.VideoFrame.from_ndarray(np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8), "rgb24")
            frame = frame.reformat(format="yuv420p")
            frame.pts = pts
            pts += 1
            for p in out.encode(frame):
                dst.mux(p)

        prev = None
        for f in src.decode(vin):
            cur = f.to_ndarray(format="rgb24").astype(np.float32) / 255
            if prev is not None:
                put(prev)
                put(interpolate(net, prev, cur, 0.5))
            prev = cur
        if prev is not None:
            put(prev)
            put(prev)
        for p in out.encode():
            dst.mux(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
