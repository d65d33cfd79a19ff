#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""convlens-cli probe on synthetic folders with known answers and on the
default model.

    test-probe-cli.py CLI SOURCE_DIR

  ident.onnx (onnx.helper): one Conv 1->1, 1x1 kernel of weight 1: the
  layer is the 8x8 image itself.
  - halves/: class "top" has its upper half bright, class "bottom" its lower
    half (plus noise): linearly separable pixels, so with --pool none the
    probe must be (nearly) 100% right on held-out images; with --pool mean
    both classes have the same mean brightness and the probe is near chance.
  - noise/: pure noise images put into 4 classes at random: the test
    accuracy must be near chance (0.25).
  models/zf-mini.onnx on the first 2000 training / 500 test images of
  Fashion-MNIST: the probe on the last hidden layer (relu6) must be within 4
  percentage points of the model's own accuracy, which must itself be within
  5 points of its documented full-test-set accuracy (92.28%, docs/training.md).

Prints TAP.
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

RESULTS = []


def check(ok, what):
    RESULTS.append(bool(ok))
    print("%s %d - %s" % ("ok" if ok else "not ok", len(RESULTS), what), flush=True)
    return ok


def run(cli, *args):
    p = subprocess.run([cli] + [str(a) for a in args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=900)
    return p.returncode, p.stdout, p.stderr


def main():
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    from PIL import Image

    cli, src = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="probe-test-")
    rng = np.random.default_rng(5)

    ident = os.path.join(tmp, "ident.onnx")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", kernel_shape=[1, 1])],
        "ident", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 8, 8])],
        [numpy_helper.from_array(np.ones((1, 1, 1, 1), np.float32), "w"),
         numpy_helper.from_array(np.zeros(1, np.float32), "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, ident)

    halves = os.path.join(tmp, "halves")
    for cls in ["top", "bottom"]:
        os.makedirs(os.path.join(halves, cls))
        for i in range(60):
            a = rng.integers(0, 100, (8, 8))
            if cls == "top":
                a[:4] += 150
            else:
                a[4:] += 150
            Image.fromarray(a.astype(np.uint8)).save(os.path.join(halves, cls, "%02d.png" % i))
    noise = os.path.join(tmp, "noise")
    for c in range(4):
        os.makedirs(os.path.join(noise, "c%d" % c))
    for i in range(400):
        Image.fromarray(rng.integers(0, 256, (8, 8)).astype(np.uint8)).save(
            os.path.join(noise, "c%d" % rng.integers(0, 4), "%03d.png" % i))

    rc, out, err = run(cli, "probe", ident, halves, "--layers", "conv", "--pool", "none",
                       "--json", "-q")
    if check(rc == 0, "probe on the separable halves exits 0 (%s)" % err.strip()[-200:]):
        j = json.loads(out)
        lay = j["layers"][0]
        check(j["classes"] == 2 and j["train_images"] == 96 and j["test_images"] == 24 and
              lay["features"] == 64,
              "a 0.2 split per class: 96 training and 24 test images, 64 features unpooled")
        check(lay["train_accuracy"] == 1.0 and lay["test_accuracy"] >= 23 / 24,
              "separable pixels: 100%% on training, >= 23/24 on test (%.3f, %.3f)"
              % (lay["train_accuracy"], lay["test_accuracy"]))
        check(j["model_accuracy"] is None, "no model accuracy when the output is not 2 classes")
    rc, out, err = run(cli, "probe", ident, halves, "--layers", "conv", "--json", "-q")
    if check(rc == 0, "the same with mean pooling exits 0"):
        lay = json.loads(out)["layers"][0]
        check(lay["features"] == 1 and lay["test_accuracy"] <= 0.8,
              "mean pooling keeps one feature, equal for both classes: near chance (%.3f)"
              % lay["test_accuracy"])

    png = os.path.join(tmp, "noise.png")
    rc, out, err = run(cli, "probe", ident, noise, "--layers", "conv", "--pool", "none",
                       "--test-fraction", "0.5", "--json", "-q", "--output", png)
    if check(rc == 0, "probe on random labels exits 0 (%s)" % err.strip()[-200:]):
        j = json.loads(out)
        lay = j["layers"][0]
        check(j["classes"] == 4 and abs(j["test_images"] - 200) <= 4, "half of each class tested")
        check(abs(lay["test_accuracy"] - 0.25) <= 0.12,
              "random labels: the test accuracy is near chance 0.25 (%.3f)"
              % lay["test_accuracy"])
        check(lay["train_accuracy"] > lay["test_accuracy"] + 0.1,
              "... while the training accuracy is higher (memorised: %.3f)"
              % lay["train_accuracy"])
        im = Image.open(png)
        check(im.format == "PNG" and im.text.get("convlens:analysis") == "probe" and
              len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0)) > 8,
              "the PNG plot is written with the analysis in its text chunks")

    # the default model
    zf = os.path.join(src, "models", "zf-mini.onnx")
    if os.path.exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") or \
            os.environ.get("CONVLENS_FASHION_MNIST_DIR"):
        rc, out, err = run(cli, "probe", zf, "fashion-mnist", "--layers", "conv1,relu6",
                           "--train-limit", "2000", "--test-limit", "500", "--json", "-q")
        if check(rc == 0, "probe on zf-mini and Fashion-MNIST exits 0 (%s)" % err.strip()[-200:]):
            j = json.loads(out)
            acc = j["model_accuracy"]
            relu6 = j["layers"][1]["test_accuracy"]
            check(abs(acc - 0.9228) <= 0.05, "the model's own accuracy on 500 test images "
                  "(%.3f) is near its documented 92.28%%" % acc)
            check(abs(relu6 - acc) <= 0.04, "the probe on relu6 (%.3f) is within 4 points of "
                  "the model's accuracy (%.3f)" % (relu6, acc))
            check(j["layers"][0]["test_accuracy"] < relu6 - 0.1,
                  "conv1's pooled features are much less separable (%.3f)"
                  % j["layers"][0]["test_accuracy"])
    else:
        check(False, "Fashion-MNIST (Debian's dataset-fashion-mnist) is installed")

    rc, _, err = run(cli, "probe", ident, halves, "--layers", "conv9")
    check(rc == 2 and "conv9" in err, "an unknown layer is a usage error naming it")
    rc, _, err = run(cli, "probe", ident, halves, "--layers", "conv", "--pool", "median")
    check(rc == 2 and "median" in err, "an unknown pooling is a usage error")
    rc, _, err = run(cli, "probe", ident, os.path.join(tmp, "none"), "--layers", "conv")
    check(rc == 1 and "none" in err, "a missing data set is an error naming it")

    print("1..%d" % len(RESULTS))
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
