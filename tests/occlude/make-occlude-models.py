#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Small ONNX networks for the occlusion tests, and PyTorch's own occlusion
results on them (the independent reference).

    make-occlude-models.py OUTDIR [--stamp FILE]
    make-occlude-models.py --check

Every case is written as

    OUTDIR/CASE/model.onnx        exported by torch.onnx.export (seeded weights)
    OUTDIR/CASE/input.npy         the seeded input, float32 [1,3,H,W]
    OUTDIR/CASE/image.png         an 8-bit RGB image of the same size (CLI tests)

and, for the cases in REFERENCE_CASES,

    OUTDIR/CASE/ref-meta.npy      [size, fill0, fill1, fill2, target, channel]
    OUTDIR/CASE/ref-pos.npy       [n, 2] top-left corners (x, y) of the squares
    OUTDIR/CASE/ref-prob.npy      [n, classes] softmax of the occluded images
    OUTDIR/CASE/ref-feature.npy   [n] total activation of the tracked map

computed by PyTorch in float64 from the occluded input tensors it builds
itself (a square clipped to the image, filled per channel), with no code
from ConvLens involved.  The tracked map follows the documented defaults:
the output of the last Conv (or of the ReLU/Clip right after it), channel
with the largest single activation on the unoccluded image; the target is
the unoccluded top class.

The cases cover what incremental occlusion has to get right: padding,
stride, dilation, groups, MaxPool with ceil_mode (with and without
padding), LRN, BatchNormalization, residual Add, a Concat block,
AveragePool with and without padding (and with ceil_mode), ReLU6 (Clip),
global pooling, a non-square input.
"""

import argparse
import os
import sys
import warnings

warnings.filterwarnings("ignore")


class _Missing(Exception):
    pass


def _imports():
    try:
        import numpy  # noqa: F401
        import onnx  # noqa: F401
        import torch  # noqa: F401
    except ImportError as e:
        raise _Missing(str(e))


def build_cases():
    import torch
    import torch.nn as nn

    class LRNFunction(torch.autograd.Function):
        """torch's local_response_norm, exported as one ONNX LRN node (the
        exporter would otherwise spell it out with Pad/AveragePool).  Both
        compute x / (bias + alpha/size * sum of squares over `size`
        channels)^beta with the same centred window for odd sizes."""

        @staticmethod
        def forward(ctx, x, size, alpha, beta, bias):
            return torch.nn.functional.local_response_norm(x, size, alpha, beta, bias)

        @staticmethod
        def symbolic(g, x, size, alpha, beta, bias):
            return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=bias)

    class LRN(nn.Module):
        def __init__(self, size=5, alpha=0.05, beta=0.75, bias=2.0):
            super().__init__()
            self.args = (size, alpha, beta, bias)

        def forward(self, x):
            return LRNFunction.apply(x, *self.args)

    class Stack(nn.Module):
        """conv/pool stack on a non-square input: 3x45x53."""

        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 8, 5, stride=2, padding=2),            # 23x27
                nn.ReLU(),
                nn.MaxPool2d(3, stride=2, ceil_mode=True),          # 11x13
                LRN(),
                nn.Conv2d(8, 12, 3, padding=1),
                nn.BatchNorm2d(12),
                nn.ReLU(),
                nn.AvgPool2d(2, stride=2),                          # 5x6, no padding
                nn.Conv2d(12, 16, 3, padding=1),
                nn.ReLU6(),
                nn.AvgPool2d(3, stride=1, padding=1),               # padded
            )
            self.classifier = nn.Linear(16 * 5 * 6, 10)

        def forward(self, x):
            return self.classifier(torch.flatten(self.features(x), 1))

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.a = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                                   nn.BatchNorm2d(cout), nn.ReLU(),
                                   nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
                                   nn.BatchNorm2d(cout))
            self.skip = None
            if stride != 1 or cin != cout:
                self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

        def forward(self, x):
            s = x if self.skip is None else self.skip(x)
            return torch.relu(self.a(x) + s)

    class Mixed(nn.Module):
        def __init__(self, cin):
            super().__init__()
            self.b1 = nn.Sequential(nn.Conv2d(cin, 8, 1), nn.ReLU())
            self.b2 = nn.Sequential(nn.Conv2d(cin, 8, 1), nn.ReLU(),
                                    nn.Conv2d(8, 12, 3, padding=1), nn.ReLU())
            self.b3 = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(cin, 6, 1), nn.ReLU())
            self.b4 = nn.Sequential(nn.AvgPool2d(3, 1, 1, count_include_pad=False),
                                    nn.Conv2d(cin, 6, 1), nn.ReLU())

        def forward(self, x):
            return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)

    class ResConcat(nn.Module):
        """residual blocks (identity and projected) and an inception block: 3x48x48."""

        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1), nn.BatchNorm2d(16),
                                      nn.ReLU(), nn.MaxPool2d(2, 2))       # 24x24
            self.res1 = Block(16, 16, 1)
            self.res2 = Block(16, 24, 2)                                # 12x12
            self.mixed = Mixed(24)                                      # 32 channels
            self.head = nn.Sequential(nn.Conv2d(32, 32, 3, 1, 1), nn.ReLU())
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(32, 10)

        def forward(self, x):
            x = self.mixed(self.res2(self.res1(self.stem(x))))
            return self.fc(torch.flatten(self.pool(self.head(x)), 1))

    class Mobile(nn.Module):
        """depthwise and dilated convolutions, ReLU6, an inverted residual,
        MaxPool with padding and ceil_mode, AveragePool with ceil_mode: 3x40x40."""

        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16),
                                      nn.ReLU6())                       # 20x20
            self.inv = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False),
                                     nn.BatchNorm2d(16), nn.ReLU6(),
                                     nn.Conv2d(16, 16, 1, bias=False), nn.BatchNorm2d(16))
            self.tail = nn.Sequential(nn.Conv2d(16, 24, 3, padding=2, dilation=2), nn.ReLU(),
                                      nn.MaxPool2d(3, 2, 1, ceil_mode=True),   # 11x11
                                      nn.AvgPool2d(2, 2, ceil_mode=True),      # 6x6
                                      nn.Conv2d(24, 32, 3, padding=1), nn.ReLU())
            self.fc = nn.Linear(32 * 6 * 6, 10)

        def forward(self, x):
            x = self.stem(x)
            x = x + self.inv(x)
            return self.fc(torch.flatten(self.tail(x), 1))

    class Dense(nn.Module):
        """two conv blocks, Flatten, two Linear layers (the first one is
        updated incrementally): 3x30x26 -> 12x7x6 -> 20 -> 10."""

        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
                                          nn.MaxPool2d(2),                  # 15x13
                                          nn.Conv2d(8, 12, 3, padding=1), nn.ReLU(),
                                          nn.MaxPool2d(2))                  # 7x6
            self.fc1 = nn.Linear(12 * 7 * 6, 20)
            self.fc2 = nn.Linear(20, 10)

        def forward(self, x):
            x = torch.flatten(self.features(x), 1)
            return self.fc2(torch.relu(self.fc1(x)))

    return [
        # name, module, (H, W), seed
        ("stack", Stack, (45, 53), 4101),
        ("resconcat", ResConcat, (48, 48), 4102),
        ("mobile", Mobile, (40, 40), 4103),
        ("dense", Dense, (30, 26), 4104),
    ]


# Cases with a PyTorch occlusion reference: size, fill (normalised space) and
# top-left corners, some of them partly outside the image.
REFERENCE_CASES = {
    "stack": dict(size=11, fill=(0.4, -0.7, 0.15),
                  pos=[(0, 0), (20, 13), (42, 0), (0, 34), (48, 40), (23, 37)]),
    "mobile": dict(size=9, fill=(0.0, 0.0, 0.0),
                   pos=[(0, 0), (16, 16), (35, 4), (8, 36), (38, 38)]),
    "dense": dict(size=6, fill=(0.3, -0.2, 0.1),
                  pos=[(0, 0), (10, 12), (20, 24), (-3, 5), (23, 1), (12, 0)]),
}

# Copies of "dense" whose first dense layer is written differently in the
# graph (same function, so the same PyTorch reference): Gemm with transB=0
# and the weights stored [K,N]; MatMul + Add; Reshape to [1,-1] instead of
# Flatten.
DENSE_VARIANTS = ("dense_t0", "dense_mm", "dense_reshape")


def dense_variant(outdir, name):
    import shutil
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    src, dst = os.path.join(outdir, "dense"), os.path.join(outdir, name)
    if os.path.isdir(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    path = os.path.join(dst, "model.onnx")
    model = onnx.load(path)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    nodes = list(g.node)
    first_gemm = next(i for i, n in enumerate(nodes) if n.op_type == "Gemm")
    gemm = nodes[first_gemm]
    trans_b = next((a.i for a in gemm.attribute if a.name == "transB"), 0)
    assert trans_b == 1, "torch exports Linear as Gemm transB=1"
    w = numpy_helper.to_array(inits[gemm.input[1]])
    wt = numpy_helper.from_array(np.ascontiguousarray(w.T), gemm.input[1] + "_kn")
    g.initializer.append(wt)
    if name == "dense_t0":
        new = helper.make_node("Gemm", [gemm.input[0], wt.name, gemm.input[2]],
                               list(gemm.output), name=gemm.name + "_t0", transB=0)
        nodes[first_gemm:first_gemm + 1] = [new]
    elif name == "dense_mm":
        mid = gemm.output[0] + "_mm"
        nodes[first_gemm:first_gemm + 1] = [
            helper.make_node("MatMul", [gemm.input[0], wt.name], [mid], name=gemm.name + "_mm"),
            helper.make_node("Add", [mid, gemm.input[2]], list(gemm.output),
                             name=gemm.name + "_add")]
    elif name == "dense_reshape":
        fi = next(i for i, n in enumerate(nodes) if n.op_type == "Flatten")
        fl = nodes[fi]
        shape = numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "flat_shape")
        g.initializer.append(shape)
        nodes[fi:fi + 1] = [helper.make_node("Reshape", [fl.input[0], shape.name],
                                             list(fl.output), name=fl.name + "_reshape")]
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return "%-10s like dense, first dense layer: %s" % (
        name, {"dense_t0": "Gemm transB=0", "dense_mm": "MatMul + Add",
               "dense_reshape": "Reshape [1,-1] + Gemm"}[name])


def randomise_batchnorm(model, gen):
    import torch
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(0.3 * torch.randn(n, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(n, generator=gen))
                m.weight.copy_(0.5 + torch.rand(n, generator=gen))
                m.bias.copy_(0.2 * torch.randn(n, generator=gen))


def spread_logits(model, x):
    """Scale the last Linear layer so that the logits have a standard
    deviation of about 1.5 on x: then the probabilities differ enough between
    occluder positions for the comparisons to mean something."""
    import torch
    fc = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        y = model(x)
        s = float(y.std())
        if s > 0:
            fc.weight.mul_(1.5 / s)
            fc.bias.mul_(1.5 / s)


def write_png(path, rgb):
    """8-bit RGB PNG of an HxWx3 uint8 array (zlib + struct, no imaging library)."""
    import struct
    import zlib
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[r].tobytes() for r in range(h))

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def fold_pads(path):
    """torch.onnx.export writes AvgPool2d(count_include_pad=True) as a zero
    Pad followed by an unpadded AveragePool.  Put the padding back into the
    AveragePool (count_include_pad=1, the same numbers), so that the tests
    see AveragePool with and without pads rather than a Pad node."""
    import onnx
    import onnx.numpy_helper
    model = onnx.load(path)
    g = model.graph
    consts = {n.output[0]: n for n in g.node if n.op_type == "Constant"}
    users = {}
    for n in g.node:
        for i in n.input:
            users.setdefault(i, []).append(n)
    drop = []
    for pad in [n for n in g.node if n.op_type == "Pad"]:
        after = users.get(pad.output[0], [])
        mode = [a.s for a in pad.attribute if a.name == "mode"]
        if (len(after) != 1 or after[0].op_type != "AveragePool" or len(pad.input) != 2
                or pad.input[1] not in consts or (mode and mode[0] != b"constant")):
            continue
        pads = onnx.numpy_helper.to_array(consts[pad.input[1]].attribute[0].t).tolist()
        if len(pads) != 8 or pads[0] or pads[1] or pads[4] or pads[5]:
            continue
        pool = after[0]
        if any(pads):
            if any(a.name == "ceil_mode" and a.i for a in pool.attribute):
                continue
            set_pads(pool, pads)
        pool.input[0] = pad.input[0]
        drop += [pad, consts[pad.input[1]]]
    for n in drop:
        g.node.remove(n)
    onnx.save(model, path)


def set_pads(pool, pads):
    import onnx
    for a in list(pool.attribute):
        if a.name in ("pads", "count_include_pad"):
            pool.attribute.remove(a)
    pool.attribute.append(onnx.helper.make_attribute("pads", [pads[2], pads[3],
                                                              pads[6], pads[7]]))
    pool.attribute.append(onnx.helper.make_attribute("count_include_pad", 1))


def tracked_value(model, x):
    """Output of the last Conv2d, or of the ReLU/ReLU6 module right after it."""
    import torch
    mods = list(model.modules())
    leaves = [m for m in mods if len(list(m.children())) == 0]
    last = max(i for i, m in enumerate(leaves) if isinstance(m, torch.nn.Conv2d))
    target = leaves[last]
    if last + 1 < len(leaves) and isinstance(leaves[last + 1], (torch.nn.ReLU, torch.nn.ReLU6)):
        target = leaves[last + 1]
    store = {}
    handle = target.register_forward_hook(lambda m, i, o: store.__setitem__("v", o))
    y = model(x)
    handle.remove()
    return y, store["v"]


def reference(model, x, spec):
    import numpy as np
    import torch
    size = spec["size"]
    fill = spec["fill"]
    m64 = model.double()
    x64 = x.double()
    H, W = x.shape[2], x.shape[3]
    with torch.no_grad():
        y, v = tracked_value(m64, x64)
        target = int(torch.argmax(y[0]))
        # channel holding the largest single activation
        channel = int(torch.argmax(v[0].reshape(v.shape[1], -1).max(1).values))
        probs, feats = [], []
        for (px, py) in spec["pos"]:
            xo = x64.clone()
            y0, y1 = max(py, 0), min(py + size, H)
            x0, x1 = max(px, 0), min(px + size, W)
            for c in range(3):
                xo[0, c, y0:y1, x0:x1] = fill[c]
            yo, vo = tracked_value(m64, xo)
            probs.append(torch.softmax(yo[0], 0).numpy())
            feats.append(float(vo[0, channel].sum()))
    model.float()
    meta = np.array([size, fill[0], fill[1], fill[2], target, channel], dtype=np.float64)
    return (meta, np.array(spec["pos"], dtype=np.float32),
            np.array(probs, dtype=np.float32), np.array(feats, dtype=np.float32))


def export(name, cls, hw, seed, outdir):
    import numpy as np
    import onnx
    import torch

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    model = cls()
    randomise_batchnorm(model, gen)
    model.eval()
    x = torch.randn(1, 3, hw[0], hw[1], generator=gen)
    spread_logits(model, x)

    casedir = os.path.join(outdir, name)
    os.makedirs(casedir, exist_ok=True)
    path = os.path.join(casedir, "model.onnx")
    # PRESERVE keeps BatchNormalization nodes (eval mode would fuse them
    # into the convolutions); the model itself is in eval mode.
    torch.onnx.export(model, x, path, opset_version=13, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE,
                      input_names=["input"], output_names=["logits"])
    fold_pads(path)
    onnx.checker.check_model(path)
    np.save(os.path.join(casedir, "input.npy"), x.numpy().astype(np.float32))
    img = np.clip(x[0].permute(1, 2, 0).numpy() * 60 + 128, 0, 255).astype(np.uint8)
    write_png(os.path.join(casedir, "image.png"), np.ascontiguousarray(img))

    ops = {}
    for node in onnx.load(path).graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    line = "%-10s %dx%d  %s" % (name, hw[0], hw[1],
                                " ".join("%s:%d" % kv for kv in sorted(ops.items())))
    if name in REFERENCE_CASES:
        meta, pos, prob, feat = reference(model, x, REFERENCE_CASES[name])
        np.save(os.path.join(casedir, "ref-meta.npy"), meta)
        np.save(os.path.join(casedir, "ref-pos.npy"), pos)
        np.save(os.path.join(casedir, "ref-prob.npy"), prob)
        np.save(os.path.join(casedir, "ref-feature.npy"), feat)
        clean = prob[:, int(meta[4])]
        line += "  reference: %d positions, target %d, p %.3f..%.3f" % (
            len(pos), int(meta[4]), clean.min(), clean.max())
    return line


def export_flat(outdir):
    """A model whose input is not an image ([1,12] -> 5), for the error test."""
    import onnx
    import torch
    torch.manual_seed(4199)
    model = torch.nn.Sequential(torch.nn.Linear(12, 5), torch.nn.ReLU()).eval()
    casedir = os.path.join(outdir, "flat")
    os.makedirs(casedir, exist_ok=True)
    path = os.path.join(casedir, "model.onnx")
    torch.onnx.export(model, torch.zeros(1, 12), path, opset_version=13,
                      input_names=["input"], output_names=["logits"])
    onnx.checker.check_model(path)
    return "flat       [1,12] -> [1,5]"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--check", action="store_true", help="only check the imports")
    ap.add_argument("--stamp", metavar="FILE", help="touch FILE when everything is written")
    args = ap.parse_args(argv)
    try:
        _imports()
    except _Missing as e:
        print("unavailable: %s" % e, file=sys.stderr)
        return 1
    if args.check:
        return 0
    if not args.outdir:
        ap.error("the output folder is missing")
    import torch
    torch.set_num_threads(1)
    for name, cls, hw, seed in build_cases():
        print(export(name, cls, hw, seed, args.outdir), flush=True)
    for name in DENSE_VARIANTS:
        print(dense_variant(args.outdir, name), flush=True)
    print(export_flat(args.outdir), flush=True)
    if args.stamp:
        with open(args.stamp, "w") as f:
            f.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
