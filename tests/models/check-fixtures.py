#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the torchvision fixtures without ConvLens.

    check-fixtures.py FIXTURE_DIR [--ort-dir DIR]

For every case: onnx.checker (full, with external data) and a look at the
test data.  With --ort-dir (a folder holding ort-forward.js and its
node_modules, see bench/README.md) each model also runs in ONNX Runtime on
input_0.pb, and its output must be within the case's tolerance of PyTorch's
output_0.pb: this shows that the exported graphs compute what PyTorch
computed, independently of our engine.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.numpy_helper


def read_tensor(path):
    proto = onnx.TensorProto()
    with open(path, "rb") as f:
        proto.ParseFromString(f.read())
    return onnx.numpy_helper.to_array(proto)


def read_tolerance(casedir):
    with open(os.path.join(casedir, "tolerance.txt")) as f:
        kind, value = f.read().split()
    if kind != "range-rel":
        raise ValueError("unknown tolerance kind %r" % kind)
    return float(value)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fixtures")
    ap.add_argument("--ort-dir", help="folder with ort-forward.js and node_modules")
    args = ap.parse_args()

    failures = 0
    cases = sorted(d for d in os.listdir(args.fixtures)
                   if os.path.isfile(os.path.join(args.fixtures, d, "model.onnx")))
    if not cases:
        print("no cases in %s" % args.fixtures)
        return 1
    for case in cases:
        casedir = os.path.join(args.fixtures, case)
        model_path = os.path.join(casedir, "model.onnx")
        onnx.checker.check_model(model_path)
        model = onnx.load(model_path, load_external_data=False)
        x = read_tensor(os.path.join(casedir, "test_data_set_0", "input_0.pb"))
        ref_path = os.path.join(casedir, "test_data_set_0", "output_0.pb")
        msg = "%-42s checker ok  input %s" % (case, "x".join(map(str, x.shape)))
        if x.dtype != np.float32 or x.ndim != 4:
            msg += "  BAD INPUT"
            failures += 1
        if model.graph.input[0].name != "input":
            msg += "  BAD INPUT NAME"
            failures += 1
        if args.ort_dir and os.path.exists(ref_path):
            ref = read_tensor(ref_path)
            tol = read_tolerance(casedir)
            with tempfile.TemporaryDirectory() as tmp:
                xin = os.path.join(tmp, "x.npy")
                yout = os.path.join(tmp, "y.npy")
                np.save(xin, x)
                subprocess.run(["node", os.path.join(args.ort_dir, "ort-forward.js"),
                                model_path, "--threads", "2", "--runs", "1",
                                "--input", xin, "--dump", yout],
                               check=True, stdout=subprocess.DEVNULL)
                y = np.load(yout)
            span = float(ref.max() - ref.min())
            dev = float(np.abs(y.reshape(ref.shape) - ref).max()) / span
            ok = y.size == ref.size and dev <= tol
            msg += "  ORT vs PyTorch %.1e x range (tol %g) %s" % (dev, tol,
                                                                 "ok" if ok else "FAIL")
            failures += not ok
        print(msg, flush=True)
    print("%d cases, %d failures" % (len(cases), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
