#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reference projections for the projection tests, computed by PyTorch.

Small networks with seeded random weights (and two torchvision ones) are
exported to ONNX; for each, PyTorch's autograd computes the projections
that lens-project.c must reproduce:

  gradient  plain autograd of the start signal down to the input;
  guided    the same, with ReLU's backward replaced by g * (x > 0) * (g > 0)
            (Clip / ReLU6: the input test is lo < x < hi);
  deconv    ReLU's (and ReLU6's) backward replaced by relu(g), i.e. the
            signal is rectified whatever the forward input was.

Max pooling always uses torch's own backward, which routes each signal to
the argmax of its window (the first maximum in row-major order), i.e. the
max-pool switch.  LRN uses torch's own backward (its true Jacobian) in the
gradient-based modes and passes the signal unchanged in deconv mode; a
case's "lrn" field ("skip" / "jacobian") overrides that.

The start signal is injected at a layer output with
torch.autograd.grad(act, input, signal):

  map     the chosen channel's activations, every other channel zero;
  max     only the channel's first strongest activation (row-major), with
          its value;
  point   only the activation at (x, y), with its value.

Class projections start from a one-hot signal at the logits (the input of
a final softmax); Grad-CAM at a conv layer A for class k is
relu(sum_c alpha_c A_c) with alpha_c the spatial mean of d logit_k / d A_c,
upsampled bilinearly (align_corners=False) to the input size.

References are computed in float64 from the float32 weights and input.
The same projection is also computed in float32, and in float64 with every
weight and input value moved by about 2e-6 of itself; a case where these
differ by more than 1e-5 of the range depends on a near-tie (a ReLU input
or a max-pool window decided by rounding) and is replaced by another
channel (or class), so every case has a well-defined answer for a float32
engine.  The torchvision inputs are picked (from a few seeds) to have no
max-pool window whose two best values are closer than 1e-6 of the layer's
range, since a class signal crosses every window.

Each torch module output is matched to the ONNX value that holds it: the
k-th call of a module kind (ReLU, MaxPool2d, ...) is the output of the k-th
node of the matching op type (Relu, MaxPool, ...) in the exported graph,
checked against ONNX shape inference.

Output, one folder per network:

  OUTDIR/index.txt           the network folders, one a line
  OUTDIR/NET/model.onnx
  OUTDIR/NET/input.npy       float32 [1, 3, H, W] ([2, 3, H, W] for the
                             *-batch2 exports, whose batch is dynamic: the
                             references are those of item 0)
  OUTDIR/NET/cases.json      {"network", "input", "cases": [...]}
  OUTDIR/NET/ref-NNN.npy     float32 reference per case

A case is one of
  {"kind": "channel", "value", "channel", "mode", "start", "x", "y", "lrn",
   "file", ["argmax": [x, y]] for start "max"}
  {"kind": "class", "class", "mode", "lrn", "file"}
  {"kind": "gradcam", "value", "class", "file"}
with "value" the ONNX value name, "lrn" one of default / skip / jacobian.

Use:
  make-oracle.py OUTDIR [--stamp FILE] [--quick] [--only TAG,...]
                              (ORACLE_VERBOSE=1: time per plan item)
  make-oracle.py --check      exit 0 when torch, torchvision and onnx import
"""

import argparse
import copy
import json
import os
import sys
import time
import warnings

warnings.filterwarnings("ignore")

try:
    import numpy as np
    import onnx
    import onnx.shape_inference
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
except ImportError as e:
    if "--check" in sys.argv:
        print("unavailable: %s" % e)
        sys.exit(1)
    sys.stderr.write("make-oracle.py needs Debian's python3-torch, "
                     "python3-torchvision and python3-onnx (%s)\n" % e)
    sys.exit(77)


class State:
    """How the replaced non-linearities behave on the way back."""
    mode = "gradient"   # deconv | guided | gradient
    lrn = "jacobian"    # skip | jacobian


def _effective_lrn(mode, lrn):
    if lrn == "default":
        return "skip" if mode == "deconv" else "jacobian"
    return lrn


class _RectFn(torch.autograd.Function):
    """clamp(x, lo, hi) whose backward follows State.mode."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return x.clamp(min=lo) if hi is None else x.clamp(lo, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        inside = x > ctx.lo
        if ctx.hi is not None:
            inside = inside & (x < ctx.hi)
        if State.mode == "deconv":
            gx = g.clamp(min=0)
        elif State.mode == "guided":
            gx = g * inside * (g > 0)
        else:
            gx = g * inside
        return gx, None, None


class Rect(nn.Module):
    """Stands in for nn.ReLU / nn.ReLU6 when computing references."""

    def __init__(self, kind, lo, hi):
        super().__init__()
        self.lens_kind = kind
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return _RectFn.apply(x, self.lo, self.hi)


class _LrnSkipFn(torch.autograd.Function):
    """LRN forward, identity backward (the deconvnet's reconstruction path)."""

    @staticmethod
    def forward(ctx, x, lrn):
        return lrn(x)

    @staticmethod
    def backward(ctx, g):
        return g, None


class ProjLRN(nn.Module):
    def __init__(self, lrn):
        super().__init__()
        self.lens_kind = "LocalResponseNorm"
        # not registered as a child: this module is the leaf the hooks see
        self.__dict__["lrn"] = lrn

    def forward(self, x):
        if State.lrn == "skip":
            return _LrnSkipFn.apply(x, self.lrn)
        return self.lrn(x)


class _LrnExportFn(torch.autograd.Function):
    """torch's LRN, exported as one ONNX LRN node (torch itself writes the
    composite Mul/Pad/AveragePool/Pow/Div graph)."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class ExportLRN(nn.Module):
    def __init__(self, lrn):
        super().__init__()
        self.p = (lrn.size, lrn.alpha, lrn.beta, lrn.k)

    def forward(self, x):
        return _LrnExportFn.apply(x, *self.p)


class AddMod(nn.Module):
    def forward(self, a, b):
        return a + b


class CatMod(nn.Module):
    def forward(self, *xs):
        return torch.cat(xs, 1)


# torch module kind -> ONNX op type of the node that computes its output
KIND_TO_OP = {
    "Conv2d": "Conv",
    "ReLU": "Relu",
    "ReLU6": "Clip",
    "MaxPool2d": "MaxPool",
    "LocalResponseNorm": "LRN",
    "Linear": "Gemm",
    "BatchNorm2d": "BatchNormalization",
    "AddMod": "Add",
    "CatMod": "Concat",
    "AvgPool2d": "AveragePool",
    "Softmax": "Softmax",
}


# ---------------------------------------------------------------- networks

class SmallAlex(nn.Module):
    """conv(7, s2, p1) relu maxpool(3, s2, ceil) LRN conv(3, p1) relu
    maxpool(3, s2, ceil) flatten linear relu dropout linear; input 67x67:
    67 -> 32 -> 16 (floor would give 15) -> 16 -> 8 (floor: 7)."""

    input_size = 67

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 7, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.LocalResponseNorm(5, alpha=1.0, beta=0.75, k=2.0),
            nn.Conv2d(8, 12, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, ceil_mode=True),
        )
        self.classifier = nn.Sequential(
            nn.Linear(12 * 8 * 8, 32),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(32, 10),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class SmallInception(nn.Module):
    """conv/BN/relu/maxpool stem, a residual block (Add), an inception block
    (Concat of 1x1, 1x1->3x3 and maxpool(3, s1, p1)->1x1 branches), a
    strided conv, global average pooling and a linear layer; input 32x32."""

    input_size = 32

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8),
                                  nn.ReLU(), nn.MaxPool2d(2, 2))
        self.r_conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.r_bn1 = nn.BatchNorm2d(8)
        self.r_relu1 = nn.ReLU()
        self.r_conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.r_bn2 = nn.BatchNorm2d(8)
        self.r_add = AddMod()
        self.r_relu2 = nn.ReLU()
        self.b1 = nn.Sequential(nn.Conv2d(8, 4, 1), nn.ReLU())
        self.b2 = nn.Sequential(nn.Conv2d(8, 4, 1), nn.ReLU(),
                                nn.Conv2d(4, 6, 3, padding=1), nn.ReLU())
        self.b3 = nn.Sequential(nn.MaxPool2d(3, 1, padding=1), nn.Conv2d(8, 4, 1), nn.ReLU())
        self.cat = CatMod()
        self.head = nn.Sequential(nn.Conv2d(14, 16, 3, stride=2, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.stem(x)
        r = self.r_bn2(self.r_conv2(self.r_relu1(self.r_bn1(self.r_conv1(x)))))
        x = self.r_relu2(self.r_add(r, x))
        x = self.cat(self.b1(x), self.b2(x), self.b3(x))
        x = self.pool(self.head(x))
        return self.fc(torch.flatten(x, 1))


class SmallRelu6(nn.Module):
    """conv ReLU6, asymmetric zero padding (Pad), strided conv ReLU6,
    depthwise dilated conv ReLU6, avgpool(3, s2, p1) (exported as Pad +
    AveragePool), 1x1 conv ReLU6, avgpool(3, s2, p1, ceil, padding not
    counted), global average pooling, x.view (Reshape), linear, softmax;
    input 33x33: 33 -> 34 -> 16 -> 16 -> 8 -> 8 -> 5 (floor: 4) -> 1."""

    input_size = 33
    ends_in_softmax = True

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU6(),
            nn.ZeroPad2d((0, 1, 0, 1)),
            nn.Conv2d(8, 16, 3, stride=2), nn.ReLU6(),
            nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=16), nn.ReLU6(),
            nn.AvgPool2d(3, stride=2, padding=1),
            nn.Conv2d(16, 12, 1), nn.ReLU6(),
            nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(12, 10)
        self.softmax = nn.Softmax(dim=1)
        # larger weights, so that ReLU6's upper bound is reached
        with torch.no_grad():
            for m in self.body:
                if isinstance(m, nn.Conv2d):
                    m.weight.mul_(4.0)

    def forward(self, x):
        x = self.pool(self.body(x))
        return self.softmax(self.fc(x.view(x.size(0), -1)))


class OneConv(nn.Module):
    """A single conv (stride 2, pad 2), for the analytic check."""

    input_size = 15

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 5, stride=2, padding=2)

    def forward(self, x):
        return self.conv(x)


def _randomise_bn(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(0.2 * torch.randn(n, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(n, generator=gen))
                m.weight.copy_(0.5 + torch.rand(n, generator=gen))
                m.bias.copy_(0.2 * torch.randn(n, generator=gen))


# ---------------------------------------------------------------- helpers

def _kind(m):
    return getattr(m, "lens_kind", type(m).__name__)


def _swap_modules(model):
    """ReLU/ReLU6/LRN -> their State-driven stand-ins (in place)."""
    for m in list(model.modules()):
        for cname, child in list(m.named_children()):
            if isinstance(child, nn.ReLU6):
                setattr(m, cname, Rect("ReLU6", 0.0, 6.0))
            elif isinstance(child, nn.ReLU):
                setattr(m, cname, Rect("ReLU", 0.0, None))
            elif isinstance(child, nn.LocalResponseNorm):
                setattr(m, cname, ProjLRN(child))
    return model


def _forward_record(model, x):
    """Runs model; returns (output, [(kind, tensor)] in call order)."""
    calls = []
    hooks = []
    for m in model.modules():
        if _kind(m) in KIND_TO_OP and len(list(m.children())) == 0:
            hooks.append(m.register_forward_hook(
                lambda mod, inp, out: calls.append((_kind(mod), out))))
    try:
        y = model(x)
    finally:
        for h in hooks:
            h.remove()
    return y, calls


def _nth(calls, kind, k):
    seen = [t for (kd, t) in calls if kd == kind]
    return seen[k]


def _onnx_names(proto, calls):
    """(kind, k) -> ONNX value name, checked against inferred shapes."""
    inferred = onnx.shape_inference.infer_shapes(proto)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        dims = [d.dim_value if d.HasField("dim_value") else -1
                for d in vi.type.tensor_type.shape.dim]
        shapes[vi.name] = dims
    by_op = {}
    for node in proto.graph.node:
        by_op.setdefault(node.op_type, []).append(node.output[0])
    names = {}
    counts = {}
    for kind, t in calls:
        op = KIND_TO_OP[kind]
        k = counts.get(kind, 0)
        counts[kind] = k + 1
        outs = by_op.get(op, [])
        if k >= len(outs):
            continue   # folded away (BatchNorm into Conv)
        name = outs[k]
        known = shapes.get(name, [])
        if known and (len(known) != t.dim()
                      or any(d >= 0 and d != e for d, e in zip(known, t.shape))):
            raise RuntimeError("%s #%d: torch shape %s, ONNX value %s has %s"
                               % (kind, k, list(t.shape), name, shapes[name]))
        names[(kind, k)] = name
    return names


def _export(model, x, path, opset, keep_bn, dynamic_batch=False):
    model = copy.deepcopy(model)
    for m in list(model.modules()):
        for cname, child in list(m.named_children()):
            if isinstance(child, nn.LocalResponseNorm):
                setattr(m, cname, ExportLRN(child))
    training = torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL
    model.eval()
    axes = {"input": {0: "batch"}, "logits": {0: "batch"}} if dynamic_batch else None
    torch.onnx.export(model, x, path, opset_version=opset, do_constant_folding=True,
                      training=training, input_names=["input"], output_names=["logits"],
                      dynamic_axes=axes)
    onnx.checker.check_model(path)
    return onnx.load(path)


# ---------------------------------------------------------------- references

def _start_signal(a, channel, start, xy):
    """The start signal for a (detached) activation [1, C(, H, W)]."""
    sig = torch.zeros_like(a)
    info = {}
    if a.dim() == 2:
        sig[0, channel] = a[0, channel]
        return sig, info
    plane = a[0, channel]
    if start == "map":
        sig[0, channel] = plane
    elif start == "max":
        flat = plane.flatten().numpy()
        i = int(np.flatnonzero(flat == flat.max())[0])
        y, x = divmod(i, plane.shape[1])
        sig[0, channel, y, x] = plane[y, x]
        info["argmax"] = [x, y]
    else:
        x, y = xy
        sig[0, channel, y, x] = plane[y, x]
    return sig, info


def _channel_ref(model, x, kind, k, channel, start, xy, mode, lrn):
    State.mode, State.lrn = mode, _effective_lrn(mode, lrn)
    xi = x.clone().requires_grad_(True)
    _, calls = _forward_record(model, xi)
    a = _nth(calls, kind, k)
    sig, info = _start_signal(a.detach(), channel, start, xy)
    (g,) = torch.autograd.grad(a, xi, sig)
    return g, info


def _logits(model, y, calls):
    """The class scores: the output, or the input of a final softmax (the
    last Linear's output)."""
    if getattr(model, "ends_in_softmax", False):
        return [t for kd, t in calls if kd == "Linear"][-1]
    return y


def _class_ref(model, x, klass, mode, lrn):
    State.mode, State.lrn = mode, _effective_lrn(mode, lrn)
    xi = x.clone().requires_grad_(True)
    y, calls = _forward_record(model, xi)
    z = _logits(model, y, calls)
    sig = torch.zeros_like(z)
    sig[0, klass] = 1.0
    (g,) = torch.autograd.grad(z, xi, sig)
    return g


def _gradcam_ref(model, x, kind, k, klass):
    State.mode, State.lrn = "gradient", "jacobian"
    y, calls = _forward_record(model, x)
    a = _nth(calls, kind, k)
    (g,) = torch.autograd.grad(_logits(model, y, calls)[0, klass], a)
    alpha = g.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((alpha * a).sum(dim=1, keepdim=True))
    return F.interpolate(cam, size=tuple(x.shape[2:]), mode="bilinear",
                         align_corners=False).detach()


class Oracle:
    """One network: the float32 and float64 stand-in models and its input."""

    def __init__(self, model, x, rng):
        self.m32 = _swap_modules(copy.deepcopy(model)).eval()
        self.m64 = _swap_modules(copy.deepcopy(model)).double().eval()
        self.x32 = x
        self.x64 = x.double()
        self.rng = rng
        # The same in float64 with every weight and input value moved by
        # about 2e-6 of itself: more than a float32 engine's rounding, so a
        # decision that flips here could flip in the engine too.
        gen = torch.Generator().manual_seed(int(rng.integers(1 << 30)))
        self.mp = copy.deepcopy(self.m64)
        with torch.no_grad():
            for t in list(self.mp.parameters()) + list(self.mp.buffers()):
                if t.is_floating_point():
                    t.mul_(1 + PERTURB * torch.randn(t.shape, generator=gen, dtype=t.dtype))
        self.xp = self.x64 * (1 + PERTURB * torch.randn(x.shape, generator=gen,
                                                        dtype=torch.float64))
        with torch.no_grad():
            self.logits, self.calls = _forward_record(self.m64, self.x64)

    def act(self, kind, k):
        return _nth(self.calls, kind, k)

    def stable(self, fn):
        """fn(model, x) in float64, rounded to float32 (with an info dict
        when fn returns a tuple); None when float32 or the perturbed model
        disagree by more than 1e-5 of the range, or the result is zero."""
        results = [fn(m, x) for m, x in ((self.m64, self.x64), (self.m32, self.x32),
                                         (self.mp, self.xp))]
        info = {}
        if isinstance(results[0], tuple):
            info = results[0][1]
            if any(r[1] != info for r in results[1:]):
                return None, info
            results = [r[0] for r in results]
        ref = results[0].detach().float().numpy()
        span = float(ref.max() - ref.min())
        if span <= 0 or not np.all(np.isfinite(ref)):
            return None, info
        for other in results[1:]:
            if float(np.abs(other.detach().numpy() - ref).max()) > 1e-5 * span:
                return None, info
        return ref, info

    def channels(self, kind, k, start):
        """Channels in a seeded random order whose max is clearly positive;
        for a 'max' start also clearly above the next smaller value (exact
        copies, as overlapping max pooling makes, are not near-ties)."""
        a = self.act(kind, k)[0].detach().numpy()
        order = self.rng.permutation(a.shape[0])
        good = []
        for c in order:
            flat = np.unique(a[c].ravel())
            top = flat[-1]
            second = flat[-2] if flat.size > 1 else -np.inf
            if kind == "ReLU6" and start == "max" and top > 6.0 * (1 - 1e-3):
                continue   # saturated: no gradient flows through the maximum
            if top > 0 and (start != "max" or top - second > 1e-3 * top):
                good.append(int(c))
        return good

    def point(self, kind, k, channel):
        """A position whose activation is clearly non-zero."""
        plane = self.act(kind, k)[0, channel].detach().numpy()
        big = np.argwhere(np.abs(plane) > 0.2 * np.abs(plane).max())
        y, x = big[self.rng.integers(len(big))]
        return int(x), int(y)


def build_cases(oracle, plan):
    """plan: a list of items, each one of
      {"kind", "k", "modes", "starts"[, "lrns"]}  channel projections from
          the k-th output of a module kind, one case per mode x start x lrn;
      {"class": candidates, "modes"[, "n", "lrn"]}  class projections;
      {"gradcam": (kind, k), "classes": candidates[, "n"]}.
    Returns [(case, reference)]."""
    out = []
    for item in plan:
        t0 = time.monotonic()
        n0 = len(out)
        build_item(oracle, item, out)
        if os.environ.get("ORACLE_VERBOSE"):
            sys.stderr.write("  %-70s %d cases %.1f s\n" % (
                str(item)[:70], len(out) - n0, time.monotonic() - t0))
    return out


def build_item(oracle, item, out):
    """Appends the (case, reference) pairs of one plan item to out."""
    if "class" in item:
        # per mode, the first n stable classes (all of them without n)
        lrn = item.get("lrn", "default")
        for mode in item["modes"]:
            want = item.get("n", len(item["class"]))
            found = 0
            for klass in item["class"]:
                ref, _ = oracle.stable(lambda m, x: _class_ref(m, x, klass, mode, lrn))
                if ref is None:
                    continue
                out.append((dict(kind="class", klass=klass, mode=mode, lrn=lrn), ref))
                found += 1
                if found == want:
                    break
            if found < want:
                raise RuntimeError("class %s: too few stable references" % mode)
        return
    if "gradcam" in item:
        # the first n classes whose map is not all zero (relu of a
        # negative weighted sum) and is stable
        kind, k = item["gradcam"]
        found = 0
        for klass in item["classes"]:
            ref, _ = oracle.stable(lambda m, x: _gradcam_ref(m, x, kind, k, klass))
            if ref is None:
                continue
            out.append((dict(kind="gradcam", key=(kind, k), klass=klass), ref))
            found += 1
            if found == item.get("n", 1):
                break
        if found < item.get("n", 1):
            raise RuntimeError("gradcam %s #%d: too few classes with a non-zero, stable "
                               "map" % (kind, k))
        return
    kind, k = item["kind"], item["k"]
    for mode in item["modes"]:
        for start in item["starts"]:
            candidates = oracle.channels(kind, k, start)
            # each case of a layer starts at another channel
            shift = len(out) % max(1, len(candidates))
            candidates = candidates[shift:] + candidates[:shift]
            for lrn in item.get("lrns", ["default"]):
                ref = None
                for channel in candidates[:MAX_TRIES]:
                    xy = oracle.point(kind, k, channel) if start == "point" else (0, 0)
                    ref, info = oracle.stable(
                        lambda m, x: _channel_ref(m, x, kind, k, channel, start, xy,
                                                  mode, lrn))
                    if ref is not None:
                        break
                if ref is None:
                    raise RuntimeError("%s #%d %s %s: no channel with a stable "
                                       "reference" % (kind, k, mode, start))
                case = dict(kind="channel", key=(kind, k), channel=channel, mode=mode,
                            start=start, x=xy[0], y=xy[1], lrn=lrn)
                case.update(info)
                out.append((case, ref))


def write_net(outdir, name, model, x, opset, keep_bn, cases, calls, batch2=False):
    """Exports model and writes its cases.  batch2: the batch dimension is
    dynamic and input.npy holds two items, x then another random one; the
    references are those of x (projections use batch item 0)."""
    netdir = os.path.join(outdir, name)
    os.makedirs(netdir, exist_ok=True)
    for f in os.listdir(netdir):
        if f.startswith("ref-") and f.endswith(".npy"):
            os.unlink(os.path.join(netdir, f))
    if batch2:
        other = _seeded_input(len(name), x.shape[2])
        x = torch.cat([x, other], 0)
    proto = _export(model, x, os.path.join(netdir, "model.onnx"), opset, keep_bn, batch2)
    names = _onnx_names(proto, calls)
    np.save(os.path.join(netdir, "input.npy"), x.numpy().astype(np.float32))
    listed = []
    for i, (case, ref) in enumerate(cases):
        c = dict(case)
        c["file"] = "ref-%03d.npy" % i
        if "key" in c:
            key = c.pop("key")
            if key not in names:
                raise RuntimeError("%s: no ONNX value for %s #%d" % (name, key[0], key[1]))
            c["value"] = names[key]
        if "klass" in c:
            c["class"] = c.pop("klass")
        np.save(os.path.join(netdir, c["file"]), ref.astype(np.float32))
        listed.append(c)
    ops = {}
    for node in proto.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    with open(os.path.join(netdir, "cases.json"), "w") as f:
        json.dump(dict(network=name, opset=opset, input="input.npy", cases=listed), f,
                  indent=1)
    return "%-24s opset %d  %3d cases  %s" % (
        name, opset, len(listed), " ".join("%s:%d" % kv for kv in sorted(ops.items())))


MODES = ["deconv", "guided", "gradient"]
PERTURB = 2e-6
MAX_TRIES = 8        # channels tried per case before giving up
STARTS = ["map", "max", "point"]


def small_alex_plan():
    return [
        dict(kind="Conv2d", k=0, modes=MODES, starts=STARTS),
        dict(kind="ReLU", k=0, modes=MODES, starts=STARTS),
        dict(kind="MaxPool2d", k=0, modes=MODES, starts=STARTS),
        dict(kind="LocalResponseNorm", k=0, modes=MODES, starts=STARTS,
             lrns=["default", "skip", "jacobian"]),
        dict(kind="Conv2d", k=1, modes=MODES, starts=["max", "point"],
             lrns=["default", "skip", "jacobian"]),
        dict(kind="ReLU", k=1, modes=MODES, starts=STARTS),
        dict(kind="MaxPool2d", k=1, modes=MODES, starts=STARTS),
        dict(kind="ReLU", k=2, modes=MODES, starts=["map"]),
        {"class": [0, 7], "modes": MODES},
        {"class": [3], "modes": ["gradient"], "lrn": "skip"},
        {"gradcam": ("ReLU", 1), "classes": list(range(10)), "n": 2},
        {"gradcam": ("Conv2d", 1), "classes": list(range(2, 10))},
    ]


def small_inception_plan():
    # (no Conv2d starts: where BatchNorm is folded into the convolution at
    # export, the ONNX Conv output is the BatchNorm output)
    return [
        dict(kind="ReLU", k=0, modes=MODES, starts=STARTS),       # stem
        dict(kind="MaxPool2d", k=0, modes=MODES, starts=STARTS),  # stem pool
        dict(kind="AddMod", k=0, modes=MODES, starts=STARTS),     # residual sum
        dict(kind="ReLU", k=2, modes=MODES, starts=STARTS),       # after the Add
        dict(kind="ReLU", k=5, modes=MODES, starts=["max"]),      # 1x1 -> 3x3 branch
        dict(kind="MaxPool2d", k=1, modes=MODES, starts=["map", "point"]),  # padded pool
        dict(kind="CatMod", k=0, modes=MODES, starts=STARTS),
        dict(kind="ReLU", k=7, modes=MODES, starts=STARTS),       # head
        {"class": [1, 6], "modes": MODES},
        {"gradcam": ("ReLU", 7), "classes": list(range(10)), "n": 2},
        {"gradcam": ("CatMod", 0), "classes": list(range(3, 10))},
    ]


def small_relu6_plan():
    return [
        dict(kind="ReLU6", k=0, modes=MODES, starts=["map", "point"]),  # every max saturates
        dict(kind="Conv2d", k=1, modes=MODES, starts=STARTS),     # after the Pad
        dict(kind="ReLU6", k=2, modes=MODES, starts=STARTS),      # depthwise
        dict(kind="AvgPool2d", k=0, modes=MODES, starts=["map", "point"]),
        dict(kind="ReLU6", k=3, modes=MODES, starts=STARTS),
        dict(kind="AvgPool2d", k=1, modes=MODES, starts=STARTS),      # ceil, pads
        dict(kind="Softmax", k=0, modes=MODES, starts=["map"]),       # its Jacobian
        {"class": [2, 8], "modes": MODES},
        {"gradcam": ("ReLU6", 3), "classes": list(range(10))},
    ]


def alexnet_plan():
    # (the candidate lists start at classes known to give a stable, non-zero
    # reference for these seeds, so that no time is spent searching)
    return [
        dict(kind="ReLU", k=0, modes=["deconv"], starts=["max"]),
        dict(kind="ReLU", k=1, modes=["gradient"], starts=["point"]),
        dict(kind="MaxPool2d", k=1, modes=["guided"], starts=["point"]),
        dict(kind="ReLU", k=4, modes=["deconv"], starts=["max"]),
        dict(kind="MaxPool2d", k=2, modes=["deconv"], starts=["map"]),
        # (in the gradient-based modes a class signal crosses every ReLU, and
        # some of the 650k ReLU inputs of a 224x224 AlexNet lie within
        # rounding of zero: only deconv gives a well-defined reference)
        {"class": list(range(22, 60)), "modes": ["deconv"], "n": 1},
        {"gradcam": ("ReLU", 4), "classes": list(range(20, 60))},
    ]


def resnet18_plan():
    return [
        dict(kind="MaxPool2d", k=0, modes=["deconv"], starts=["max"]),
        dict(kind="ReLU", k=3, modes=["gradient"], starts=["point"]),
        dict(kind="ReLU", k=6, modes=["guided"], starts=["point"]),
        dict(kind="ReLU", k=16, modes=["deconv"], starts=["max"]),
        {"class": list(range(42, 80)), "modes": ["deconv"], "n": 1},
        {"gradcam": ("ReLU", 16), "classes": list(range(42, 80))},
    ]


def _seeded_input(seed, size, scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    return scale * torch.randn(1, 3, size, size, generator=gen)


def _pool_near_ties(model, x, rel=1e-6):
    """Max-pool windows of model(x) whose two largest different values are
    closer than rel times the largest |value| of the layer.  Such a window's
    switch is decided by rounding; a class projection crosses every window,
    so the input is chosen to have none."""
    count = [0]

    def hook(m, inp, out):
        v = inp[0].detach()
        k, st, p = (_pair(m.kernel_size), _pair(m.stride), _pair(m.padding))
        extra = [k[0] if m.ceil_mode else 0, k[1] if m.ceil_mode else 0]
        vp = F.pad(v, (p[1], p[1] + extra[1], p[0], p[0] + extra[0]), value=-float("inf"))
        win = F.unfold(vp.flatten(0, 1).unsqueeze(1), k, stride=st)
        win = win[:, :, :out.shape[2] * out.shape[3]] if not m.ceil_mode else win
        top2 = win.topk(2, dim=1).values
        gap = top2[:, 0] - top2[:, 1]
        count[0] += int(((gap > 0) & (gap < rel * v.abs().max())).sum())

    hooks = [m.register_forward_hook(hook) for m in model.modules()
             if isinstance(m, nn.MaxPool2d)]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return count[0]


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


# tag, constructor, seed, plan, exports, input scale, input seeds.
# exports: [(opset, keep BatchNormalization nodes[, "batch2"])], "batch2"
# meaning a dynamic batch dimension and two input items.  Input seeds are
# offsets from seed to try: the first whose input has no max-pool near-tie
# is used (the one listed first works today).
NETWORKS = [
    ("alex", SmallAlex, 2101, small_alex_plan,
     [(11, False), (13, False), (13, False, "batch2")], 1.0, [2]),
    ("inception", SmallInception, 2102, small_inception_plan, [(11, True), (13, False)], 1.0,
     [2]),
    ("relu6", SmallRelu6, 2103, small_relu6_plan,
     [(11, False), (13, False), (11, False, "batch2")], 2.5, [2]),
    ("oneconv", OneConv, 2104, lambda: [], [(13, False)], 1.0, [2]),
    ("tv-alexnet", lambda: torchvision.models.alexnet(weights=None), 2201, alexnet_plan,
     [(11, False)], 1.0, [4002] + [2 + 1000 * i for i in range(1, 12)]),
    ("tv-resnet18", lambda: torchvision.models.resnet18(weights=None), 2202, resnet18_plan,
     [(13, False)], 1.0, [12002] + [2 + 1000 * i for i in range(12)]),
]


def run(outdir, only, log):
    os.makedirs(outdir, exist_ok=True)
    index = []
    for tag, ctor, seed, plan, exports, scale, input_seeds in NETWORKS:
        if only and tag not in only:
            continue
        torch.manual_seed(seed)
        model = ctor()
        _randomise_bn(model, torch.Generator().manual_seed(seed + 1))
        model.eval()
        size = getattr(ctor, "input_size", 224)
        m64 = copy.deepcopy(model).double()
        for offset in input_seeds:
            x = _seeded_input(seed + offset, size, scale)
            if _pool_near_ties(m64, x.double()) == 0:
                break
        else:
            raise RuntimeError("%s: every input has max-pool near-ties" % tag)
        del m64
        oracle = Oracle(model, x, np.random.default_rng(seed + 3))
        cases = build_cases(oracle, plan())
        for opset, keep_bn, *flags in exports:
            batch2 = "batch2" in flags
            name = "%s-op%d%s%s" % (tag, opset, "-bn" if keep_bn else "",
                                    "-batch2" if batch2 else "")
            log(write_net(outdir, name, model, x, opset, keep_bn, cases, oracle.calls, batch2))
            index.append(name)
    with open(os.path.join(outdir, "index.txt"), "w") as f:
        f.write("".join(n + "\n" for n in index))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--check", action="store_true",
                    help="only check that torch, torchvision and onnx import")
    ap.add_argument("--stamp", metavar="FILE", help="write FILE when everything is written")
    ap.add_argument("--quick", action="store_true", help="leave out the torchvision networks")
    ap.add_argument("--only", metavar="TAG,...", help="only these networks (%s)"
                    % ", ".join(n[0] for n in NETWORKS))
    args = ap.parse_args(argv)
    if args.check:
        print("torch %s torchvision %s onnx %s" % (torch.__version__, torchvision.__version__,
                                                  onnx.__version__))
        return 0
    if not args.outdir:
        ap.error("the output folder is missing")
    # tiny tensors: threads only add overhead
    torch.set_num_threads(1)
    t0 = time.monotonic()
    only = set(args.only.split(",")) if args.only else None
    if args.quick:
        only = only or set(n[0] for n in NETWORKS)
        only = set(t for t in only if not t.startswith("tv-"))
    run(args.outdir, only,
        lambda line: print(line + "  (%.1f s)" % (time.monotonic() - t0), flush=True))
    print("oracle written in %.1f s -> %s" % (time.monotonic() - t0, args.outdir))
    if args.stamp:
        with open(args.stamp, "w") as f:
            f.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
