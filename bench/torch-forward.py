#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Peer timing: PyTorch (eager, CPU) forward pass of a torchvision network.

    torch-forward.py ARCH [--threads N] [--runs N] [--input FILE.npy]
    torch-forward.py zf-mini --onnx models/zf-mini.onnx [...]

ARCH is built by tests/models/make-torchvision.py with the same seeded
weights as its ONNX export, so this times the same network on the same input
(--input, float32 .npy; default: that script's seeded input, batch 1).
zf-mini is the embedded default model: the same layers in PyTorch
(bench/train-torch.py's), with the weights of the given ONNX file.
Prints one JSON line: median/min/max milliseconds per forward pass, after
three warm-up passes.  Set OMP_WAIT_POLICY=PASSIVE in the environment on a
small machine (see bench/README.md); run-bench does.
"""

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
import warnings

warnings.filterwarnings("ignore")


def load_builder():
    root = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    path = os.path.join(root, "tests", "models", "make-torchvision.py")
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    spec = importlib.util.spec_from_file_location("make_torchvision", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def zf_mini_from_onnx(torch, path):
    """bench/train-torch.py's zf-mini (plus the softmax the ONNX file ends
    with), its widths and weights read from the ONNX file."""
    import onnx
    import onnx.numpy_helper

    root = os.path.dirname(os.path.realpath(__file__))
    sys.dont_write_bytecode = True
    spec = importlib.util.spec_from_file_location("train_torch",
                                                  os.path.join(root, "train-torch.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    graph = onnx.load(path).graph
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
    params = []   # (weight, bias) of each Conv and Gemm, in graph order
    for node in graph.node:
        if node.op_type in ("Conv", "Gemm"):
            params.append([inits[n] for n in node.input[1:]])
    convs = [p for p in params if p[0].ndim == 4]
    widths = [p[0].shape[0] for p in convs]
    fc = params[len(convs)][0].shape[0]
    model = torch.nn.Sequential(module.zf_mini(torch, widths, fc), torch.nn.Softmax(dim=1))
    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    if len(layers) != len(params):
        raise SystemExit("%s: %d weighted layers, the PyTorch zf-mini has %d"
                         % (path, len(params), len(layers)))
    with torch.no_grad():
        for layer, (w, b) in zip(layers, params):
            layer.weight.copy_(torch.from_numpy(w.reshape(layer.weight.shape)))
            layer.bias.copy_(torch.from_numpy(b))
    model.eval()
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("arch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--input", help="float32 .npy input (N x 3 x H x W)")
    ap.add_argument("--onnx", help="zf-mini only: the model whose weights to use")
    args = ap.parse_args()
    if args.threads < 1 or args.runs < 1:
        ap.error("--threads and --runs must be positive")

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    if args.arch == "zf-mini":
        if not args.onnx or not args.input:
            ap.error("zf-mini needs --onnx and --input")
        model = zf_mini_from_onnx(torch, args.onnx)
    else:
        builder = load_builder()
        model = builder.build_model(args.arch)
    if args.input:
        x = torch.from_numpy(np.load(args.input).astype(np.float32, copy=False))
    else:
        x = builder.make_input(args.arch)

    times = []
    with torch.inference_mode():
        for _ in range(3):
            model(x)
        for _ in range(args.runs):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)

    print(json.dumps({
        "peer": "pytorch", "version": torch.__version__, "model": args.arch,
        "threads": args.threads, "runs": args.runs,
        "median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
