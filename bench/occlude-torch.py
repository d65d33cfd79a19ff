#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PyTorch peer of the occlusion benchmark: a hand-batched occlusion
sweep (what Captum's Occlusion does, without Captum), eager PyTorch.

    occlude-torch.py ARCH --input input.npy [--size 32] [--stride 8]
                     [--batch 32] [--threads 2] [--runs 3] [--save prob.npy]

The network is torchvision's ARCH with the seeded random weights of
tests/models/make-torchvision.py (the same numbers as the ONNX export that
convlens-cli runs).  Every position of a size x size square, stride
`stride`, fully inside the image, is filled with 0 (the dataset mean after
normalisation) in its own copy of the input; `batch` copies go through the
model at once; the softmax probability of the unoccluded top class is kept.
Prints one JSON line: median_ms, min_ms, max_ms of whole sweeps (after one
warm-up batch), positions, threads; --save writes the [n_y, n_x] map.

Run it with OMP_WAIT_POLICY=PASSIVE (run-bench does): otherwise PyTorch's
OpenMP workers spin between batches.
"""

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
MAKE_TORCHVISION = os.path.join(ROOT, "tests", "models", "make-torchvision.py")


def load_fixtures():
    spec = importlib.util.spec_from_file_location("make_torchvision", MAKE_TORCHVISION)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def sweep(model, x, size, stride, batch, target):
    H, W = x.shape[2], x.shape[3]
    ys = list(range(0, H - size + 1, stride))
    xs = list(range(0, W - size + 1, stride))
    pos = [(py, px) for py in ys for px in xs]
    out = np.empty(len(pos), dtype=np.float32)
    with torch.no_grad():
        for i in range(0, len(pos), batch):
            chunk = pos[i:i + batch]
            xb = x.repeat(len(chunk), 1, 1, 1)
            for j, (py, px) in enumerate(chunk):
                xb[j, :, py:py + size, px:px + size] = 0.0
            p = torch.softmax(model(xb), dim=1)[:, target]
            out[i:i + len(chunk)] = p.numpy()
    return out.reshape(len(ys), len(xs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("arch")
    ap.add_argument("--input", required=True, help="float32 [1,3,H,W] .npy")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--stride", type=int, default=8)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--save", help="write the probability map here (.npy)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    mt = load_fixtures()
    model = mt.build_model(args.arch)
    model.eval()
    x = torch.from_numpy(np.load(args.input).astype(np.float32))
    with torch.no_grad():
        target = int(torch.argmax(model(x)[0]))
        # warm-up: one batch
        model(x.repeat(args.batch, 1, 1, 1))

    times, cpus = [], []
    prob = None
    for _ in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        prob = sweep(model, x, args.size, args.stride, args.batch, target)
        times.append((time.perf_counter() - t0) * 1e3)
        cpus.append((time.process_time() - c0) * 1e3)
    if args.save:
        np.save(args.save, prob)
    print(json.dumps({"median_ms": statistics.median(times), "min_ms": min(times),
                      "max_ms": max(times), "cpu_median_ms": statistics.median(cpus),
                      "runs": args.runs, "positions": int(prob.size),
                      "target": target, "threads": args.threads, "batch": args.batch,
                      "torch": torch.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
