#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Training throughput of zf-mini: ConvLens next to PyTorch.

    bench/train-torch.py [--cli BUILD/src/cli/convlens-cli] [--threads 2]
                         [--batches 30] [--batch 128] [--runs 3] [--json]
                         [--widths 48,96,192] [--fc-units 512]

The PyTorch peer (Debian python3-torch, eager, torch.set_num_threads(N))
trains the same architecture as `convlens-cli train --arch zf-mini`
(conv 5x5/32 -> relu -> maxpool 3/2 -> LRN 5 -> conv 3x3/64 -> relu ->
maxpool -> LRN -> conv 3x3/128 -> relu -> maxpool -> fc 256 -> relu ->
dropout 0.5 -> fc 10, softmax cross-entropy, SGD momentum 0.9, weight
decay 5e-4), with the filter and unit counts of --widths and --fc-units
(default: the shipped model's, 48,96,192 and 512; `32,64,128` and `256`
are the architecture's defaults) on Fashion-MNIST batches with the same augmentation (random
crops with padding 2 and horizontal flips, done per batch in NumPy), and
reports images per second over --batches steps after two warm-up steps.
With --cli, ConvLens trains one epoch on --batches x --batch images
(`--val-size 0`, the same threads) and its images/s is read from its
progress line (its first, warm-up step is included).  The two alternate
--runs times; the report gives the median of each and the ratio
ConvLens / PyTorch (> 1: ConvLens is faster), in images per second of
wall time and in images per CPU-second (PyTorch: process time of the
timed steps; ConvLens: the whole child process, loading the data set and
writing the model included), which says more on a loaded machine where
the two may not get the same share of the cores.  Absolute numbers on a
shared machine drift; compare the two within one run.
"""


import argparse
import gzip
import json
import os
import re
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

# set before torch starts its OpenMP pool: idle threads must not spin while
# convlens-cli runs
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

SRC = "/usr/share/datasets/fashion-mnist"


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def zf_mini(torch, widths, fc):
    nn = torch.nn
    a, b, c = widths
    return nn.Sequential(
        nn.Conv2d(1, a, 5), nn.ReLU(), nn.MaxPool2d(3, 2, 1), nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0),
        nn.Conv2d(a, b, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
        nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0),
        nn.Conv2d(b, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
        nn.Flatten(), nn.Linear(c * 3 * 3, fc), nn.ReLU(), nn.Dropout(0.5), nn.Linear(fc, 10))


def augment(rng, x):
    """x [B,28,28] uint8 -> random shift by up to 2 pixels and flips."""
    b = x.shape[0]
    padded = np.zeros((b, 32, 32), dtype=np.uint8)
    padded[:, 2:30, 2:30] = x
    out = np.empty_like(x)
    for i in range(b):
        dy, dx = rng.integers(0, 5, size=2)
        img = padded[i, dy:dy + 28, dx:dx + 28]
        out[i] = img[:, ::-1] if rng.integers(0, 2) else img
    return out


def torch_trainer(threads, batch, widths, fc):
    """Sets up the PyTorch peer; returns time(batches) -> images/s."""
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    images = load_idx(SRC + "/train-images-idx3-ubyte.gz")
    labels = load_idx(SRC + "/train-labels-idx1-ubyte.gz").astype(np.int64)
    model = zf_mini(torch, widths, fc)
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=5e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(1)
    model.train()

    def step():
        idx = rng.integers(0, len(images), size=batch)
        x = (augment(rng, images[idx]).astype(np.float32) / 255.0 - 0.2860) / 0.3530
        xt = torch.from_numpy(x).unsqueeze(1)
        yt = torch.from_numpy(labels[idx])
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
        return loss.item()

    def timed(batches):
        """-> (images per second, images per CPU-second of the process)"""
        for _ in range(2):
            step()
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(batches):
            step()
        return (batches * batch / (time.perf_counter() - start),
                batches * batch / (time.process_time() - cpu))

    return timed


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def bench_ours(cli, threads, batches, batch, widths, fc):
    """-> (images per second from the progress line, images per CPU-second of
    the whole process, loading the data set and writing the model included),
    or None."""
    with tempfile.TemporaryDirectory(prefix="convlens-train-bench-") as out:
        cpu = children_cpu()
        proc = subprocess.run([cli, "train", "--dataset", "fashion-mnist", "--epochs", "1",
                               "--limit", str(batches * batch), "--val-size", "0",
                               "--batch", str(batch), "--threads", str(threads),
                               "--widths", ",".join(str(w) for w in widths),
                               "--fc-units", str(fc), "--output", out], capture_output=True, text=True)
        cpu = children_cpu() - cpu
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            return None
        rates = re.findall(r"([0-9.]+) img/s", proc.stderr)
        return (float(rates[-1]), batches * batch / cpu) if rates else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", help="convlens-cli to time next to PyTorch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", type=int, default=30)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--runs", type=int, default=3, help="alternating timed runs of each")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument("--widths", default="48,96,192", help="conv1,conv2,conv3 filters")
    ap.add_argument("--fc-units", type=int, default=512, help="fc6 units")
    args = ap.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    if len(widths) != 3:
        sys.exit("--widths takes three numbers")
    if not os.path.exists(SRC + "/train-images-idx3-ubyte.gz"):
        sys.exit("Fashion-MNIST is missing: install dataset-fashion-mnist")

    result = {"threads": args.threads, "batch": args.batch, "batches": args.batches,
              "widths": widths, "fc_units": args.fc_units,
              "runs": args.runs, "load_before": os.getloadavg(), "pytorch_all": [],
              "convlens_all": []}
    timed = torch_trainer(args.threads, args.batch, widths, args.fc_units)
    result["pytorch_all_cpu"], result["convlens_all_cpu"] = [], []
    for _ in range(max(1, args.runs)):
        rate, per_cpu = timed(args.batches)
        result["pytorch_all"].append(rate)
        result["pytorch_all_cpu"].append(per_cpu)
        if args.cli:
            r = bench_ours(args.cli, args.threads, args.batches, args.batch, widths,
                           args.fc_units)
            if r is None:
                sys.exit("convlens-cli train failed")
            result["convlens_all"].append(r[0])
            result["convlens_all_cpu"].append(r[1])
    result["load_after"] = os.getloadavg()
    torch_rate = statistics.median(result["pytorch_all"])
    result["pytorch_images_per_s"] = torch_rate
    result["pytorch_images_per_cpu_s"] = statistics.median(result["pytorch_all_cpu"])
    if result["convlens_all"]:
        ours = statistics.median(result["convlens_all"])
        result["convlens_images_per_s"] = ours
        result["convlens_over_pytorch"] = ours / torch_rate
        result["convlens_images_per_cpu_s"] = statistics.median(result["convlens_all_cpu"])
        result["convlens_over_pytorch_cpu"] = (result["convlens_images_per_cpu_s"] /
                                               result["pytorch_images_per_cpu_s"])
    if args.json:
        print(json.dumps(result))
    else:
        print("zf-mini %s/%d training, batch %d, %d threads, %d batches, median of %d runs "
              "(load %.2f -> %.2f)" % (args.widths, args.fc_units, args.batch, args.threads,
                                       args.batches, args.runs,
                                       result["load_before"][0], result["load_after"][0]))
        print("  pytorch:  %8.1f images/s  %s; %.1f images per CPU-second" % (
            torch_rate, " ".join("%.0f" % r for r in result["pytorch_all"]),
            result["pytorch_images_per_cpu_s"]))
        if result["convlens_all"]:
            print("  convlens: %8.1f images/s  %s  (%.2fx PyTorch); %.1f images per "
                  "CPU-second (%.2fx)" % (
                      result["convlens_images_per_s"],
                      " ".join("%.0f" % r for r in result["convlens_all"]),
                      result["convlens_over_pytorch"], result["convlens_images_per_cpu_s"],
                      result["convlens_over_pytorch_cpu"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
