#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reference fixtures for the golden tests: torchvision CNNs exported to ONNX.

Every case is written in the layout of the ONNX backend tests:

    OUTDIR/CASE/model.onnx
    OUTDIR/CASE/test_data_set_0/input_0.pb    (TensorProto, the input)
    OUTDIR/CASE/test_data_set_0/output_0.pb   (TensorProto, PyTorch's logits)
    OUTDIR/CASE/tolerance.txt                 ("range-rel 1e-4")

"range-rel T" means: |ours - ref| <= T * (max(ref) - min(ref)) elementwise.

The networks are torchvision's architectures with seeded random weights
(nothing pretrained is downloaded).  BatchNorm layers get statistics
measured on a random batch and then perturbed, plus random affine weights,
so that they are neither identities nor blow the activations up.  The same
seeds give the same numbers on every run.

Use:
    make-torchvision.py OUTDIR                    the golden-test cases
    make-torchvision.py OUTDIR --only alexnet,vgg16 --opset 13 --no-reference
                                                  plain exports (static batch 1,
                                                  constant folding) for bench/
"""

import argparse
import copy
import os
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torchvision

# One seed per architecture, so a case does not depend on which other cases
# ran before it.
SEEDS = {
    "alexnet": 1101,
    "resnet18": 1102,
    "squeezenet1_1": 1103,
    "googlenet": 1104,
    "googlenet_ti": 1105,
    "mobilenet_v2": 1106,
    "vgg16": 1107,
}

ARCHS = sorted(SEEDS)

TOLERANCE = "range-rel 1e-4"

# The golden-test cases.  Keys: model, opset; optional: dynbatch (input dim 0
# is the symbolic 'batch' and the test input has batch 2), fold (constant
# folding in the exporter, default True), bn (export with
# TrainingMode.PRESERVE so BatchNormalization nodes stay in the graph instead
# of being fused into the convolutions), view (flatten the logits with
# x.view(x.size(0), -1), which the exporter turns into a
# Shape/Gather/Unsqueeze/Concat/Reshape chain), external (weights in
# weights.bin beside model.onnx).
CASES = [
    dict(name="alexnet_op11", model="alexnet", opset=11),
    dict(name="alexnet_op13_dynbatch", model="alexnet", opset=13, dynbatch=True),

    dict(name="resnet18_op11", model="resnet18", opset=11),
    dict(name="resnet18_op13_dynbatch", model="resnet18", opset=13, dynbatch=True),
    dict(name="resnet18_op13_bn", model="resnet18", opset=13, bn=True),
    dict(name="resnet18_op13_external", model="resnet18", opset=13, external=True),

    dict(name="squeezenet1_1_op11_nofold", model="squeezenet1_1", opset=11, fold=False),
    dict(name="squeezenet1_1_op13_dynbatch", model="squeezenet1_1", opset=13, dynbatch=True),
    dict(name="squeezenet1_1_view_op11_nofold", model="squeezenet1_1", opset=11,
         fold=False, view=True),
    dict(name="squeezenet1_1_view_op13_nofold_dynbatch", model="squeezenet1_1", opset=13,
         fold=False, view=True, dynbatch=True),

    dict(name="googlenet_op11", model="googlenet", opset=11),
    dict(name="googlenet_op13_dynbatch", model="googlenet", opset=13, dynbatch=True),
    dict(name="googlenet_ti_op11", model="googlenet_ti", opset=11),
    dict(name="googlenet_ti_op13_dynbatch_nofold", model="googlenet_ti", opset=13,
         dynbatch=True, fold=False),

    dict(name="mobilenet_v2_op11", model="mobilenet_v2", opset=11),
    dict(name="mobilenet_v2_op13_dynbatch", model="mobilenet_v2", opset=13, dynbatch=True),
    dict(name="mobilenet_v2_op11_bn", model="mobilenet_v2", opset=11, bn=True),
]


def _constructor(arch):
    models = torchvision.models
    if arch == "googlenet":
        return lambda: models.googlenet(weights=None, aux_logits=False,
                                        init_weights=True, transform_input=False)
    if arch == "googlenet_ti":
        return lambda: models.googlenet(weights=None, aux_logits=False,
                                        init_weights=True, transform_input=True)
    return lambda: getattr(models, arch)(weights=None)


def _randomise_batchnorm(model, seed):
    """Give every BatchNorm layer non-trivial but sane statistics."""
    bns = [m for m in model.modules()
           if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    gen = torch.Generator().manual_seed(seed + 500)
    # Measure the statistics on one random batch (cumulative average over a
    # single batch = that batch's mean and variance) ...
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    # (In float64, so that the result does not depend on how many threads
    # summed the float32 products.)
    model.double()
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 3, 224, 224, generator=gen).double())
    model.float()
    # ... then move them off so BN is not a plain normalisation either.
    with torch.no_grad():
        for bn in bns:
            n = bn.num_features
            std = bn.running_var.sqrt()
            bn.running_mean += 0.2 * std * torch.randn(n, generator=gen)
            bn.running_var *= 0.5 + 1.5 * torch.rand(n, generator=gen)
            bn.weight.copy_(0.5 + torch.rand(n, generator=gen))
            bn.bias.copy_(0.2 * torch.randn(n, generator=gen))
    model.eval()


def build_model(arch):
    """The torchvision architecture with its seeded random weights, in eval mode."""
    if arch not in SEEDS:
        raise ValueError("unknown architecture %r (known: %s)" % (arch, ", ".join(ARCHS)))
    torch.manual_seed(SEEDS[arch])
    model = _constructor(arch)()
    _randomise_batchnorm(model, SEEDS[arch])
    model.eval()
    return model


def make_input(arch, batch=1):
    """The seeded random input for an architecture, batch x 3 x 224 x 224."""
    gen = torch.Generator().manual_seed(SEEDS[arch] + 1000)
    return torch.randn(batch, 3, 224, 224, generator=gen)


class _ViewFlatten(torch.nn.Module):
    """squeezenet1_1 whose final flatten is x.view(x.size(0), -1) (same numbers)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        y = self.net.classifier(self.net.features(x))
        return y.view(y.size(0), -1)


def _op_summary(model_proto):
    counts = {}
    for node in model_proto.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return " ".join("%s:%d" % kv for kv in sorted(counts.items()))


def _write_tensor(path, array, name):
    proto = onnx.numpy_helper.from_array(np.ascontiguousarray(array), name=name)
    with open(path, "wb") as f:
        f.write(proto.SerializeToString())


def export_case(case, outdir, reference=True, cache=None):
    """Export one case; returns a one-line description."""
    t0 = time.monotonic()
    arch = case["model"]
    if cache is not None and arch in cache:
        model = cache[arch]
    else:
        model = build_model(arch)
        if cache is not None:
            cache.clear()
            cache[arch] = model
    net = _ViewFlatten(model) if case.get("view") else model
    # (torch.onnx.export restores the training flag it found, recursively:
    # a wrapper left in training mode would switch Dropout on in the model.)
    net.eval()
    batch = 2 if case.get("dynbatch") else 1
    x = make_input(arch, batch)

    casedir = os.path.join(outdir, case["name"])
    datadir = os.path.join(casedir, "test_data_set_0")
    os.makedirs(datadir, exist_ok=True)
    for stale in ("model.onnx", "weights.bin"):
        if os.path.exists(os.path.join(casedir, stale)):
            os.unlink(os.path.join(casedir, stale))
    model_path = os.path.join(casedir, "model.onnx")

    training = (torch.onnx.TrainingMode.PRESERVE if case.get("bn")
                else torch.onnx.TrainingMode.EVAL)
    dynamic_axes = None
    if case.get("dynbatch"):
        dynamic_axes = {"input": {0: "batch"}, "logits": {0: "batch"}}
    kwargs = dict(opset_version=case["opset"],
                  do_constant_folding=case.get("fold", True),
                  training=training,
                  input_names=["input"], output_names=["logits"],
                  dynamic_axes=dynamic_axes)
    if case.get("external"):
        tmp = model_path + ".tmp"
        torch.onnx.export(net, x, tmp, **kwargs)
        proto = onnx.load(tmp)
        os.unlink(tmp)
        onnx.save_model(proto, model_path, save_as_external_data=True,
                        all_tensors_to_one_file=True, location="weights.bin",
                        size_threshold=1024)
    else:
        torch.onnx.export(net, x, model_path, **kwargs)
    onnx.checker.check_model(model_path)
    proto = onnx.load(model_path, load_external_data=False)

    _write_tensor(os.path.join(datadir, "input_0.pb"), x.numpy(), "input")
    line = "%-42s opset %d  batch %d  %s" % (case["name"], case["opset"], batch,
                                            _op_summary(proto))
    stale_out = os.path.join(datadir, "output_0.pb")
    if reference:
        # The reference is PyTorch's forward pass in float64, rounded to
        # float32: independent of the thread count, and closer to the exact
        # result than any float32 engine.  The float32 pass is only there to
        # show that the tolerance is within a float32 engine's reach.
        net.eval()
        with torch.no_grad():
            y = copy.deepcopy(net).double()(x.double()).float().numpy()
            y32 = net(x).numpy()
        if not np.all(np.isfinite(y)):
            raise RuntimeError("%s: non-finite reference output" % case["name"])
        span = float(y.max() - y.min())
        dev32 = float(np.abs(y32 - y).max()) / span
        if dev32 > 1e-5:
            raise RuntimeError("%s: PyTorch float32 is %.3g x range off its float64 "
                               "result" % (case["name"], dev32))
        _write_tensor(stale_out, y, "logits")
        with open(os.path.join(casedir, "tolerance.txt"), "w") as f:
            f.write(TOLERANCE + "\n")
        line += "  logits %s range [%.4g, %.4g] f32 dev %.1e" % (
            "x".join(map(str, y.shape)), y.min(), y.max(), dev32)
    elif os.path.exists(stale_out):
        os.unlink(stale_out)
    return line + "  (%.1f s)" % (time.monotonic() - t0)


def plain_cases(archs, opsets):
    return [dict(name="%s_op%d" % (a, o), model=a, opset=o) for a in archs for o in opsets]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", nargs="?", help="folder to write the cases into")
    ap.add_argument("--check", action="store_true",
                    help="only check that torch, torchvision and onnx import; print versions")
    ap.add_argument("--only", metavar="ARCH,...",
                    help="export only these architectures, plain (static batch 1, "
                         "folded), as ARCH_opN; known: " + ", ".join(ARCHS))
    ap.add_argument("--opset", metavar="N,...",
                    help="opsets for --only (default 11,13); without --only, keep "
                         "only the golden cases of these opsets")
    ap.add_argument("--with-vgg16", action="store_true",
                    help="add a plain vgg16 export (528 MB) to the golden cases")
    ap.add_argument("--no-reference", action="store_true",
                    help="skip the PyTorch forward pass (no output_0.pb)")
    ap.add_argument("--stamp", metavar="FILE", help="touch FILE when everything is written")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads (default: torch's choice)")
    args = ap.parse_args(argv)
    if args.check:
        print("torch %s torchvision %s onnx %s" % (torch.__version__,
                                                  torchvision.__version__,
                                                  onnx.__version__))
        return 0
    if not args.outdir:
        ap.error("the output folder is missing")

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    opsets = None
    if args.opset:
        opsets = [int(o) for o in args.opset.split(",") if o]
    if args.only:
        archs = [a for a in args.only.split(",") if a]
        for a in archs:
            if a not in SEEDS:
                ap.error("unknown architecture %r (known: %s)" % (a, ", ".join(ARCHS)))
        cases = plain_cases(archs, opsets or [11, 13])
    else:
        cases = list(CASES)
        if args.with_vgg16:
            cases += plain_cases(["vgg16"], [13])
        if opsets:
            cases = [c for c in cases if c["opset"] in opsets]

    os.makedirs(args.outdir, exist_ok=True)
    t0 = time.monotonic()
    cache = {}
    for case in cases:
        print(export_case(case, args.outdir, reference=not args.no_reference,
                          cache=cache), flush=True)
    print("%d cases in %.1f s -> %s" % (len(cases), time.monotonic() - t0, args.outdir))
    if args.stamp:
        with open(args.stamp, "w") as f:
            f.write("%d cases\n" % len(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
