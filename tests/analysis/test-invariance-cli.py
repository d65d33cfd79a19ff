#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""convlens-cli invariance against hand calculations, numpy and PyTorch.

    test-invariance-cli.py CLI

Builds two models with onnx.helper in a temporary folder (inputs 1x16x16,
so the guessed profile is scale 1, mean 0, std 1 and the mean fill is 0):

  hand.onnx  one Conv 1->1 with a 1x1 kernel of weight 2 and bias 0.5.  On
             an all-white image every output is 2.5; translating by t rows
             fills t rows with 0, whose outputs are 0.5, so the distance is
             sqrt(16 t) * 2 = 8 sqrt(t) and the original's norm 2.5 * 16 =
             40: the relative distance is sqrt(t) / 5.
  small.onnx conv1 (1->3, 3x3, pad 1, seeded random) relu1 flatten fc
             (768->5) prob (Softmax).  Oracles: numpy (integer translations,
             exact quarter turns with numpy.rot90) and PyTorch (affine_grid +
             grid_sample for scaling and arbitrary rotations, conv2d, softmax).

Prints TAP.
"""

import csv
import json
import math
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
                       stderr=subprocess.PIPE, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def close(a, b, rtol, atol):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def save_model(onnx, nodes, inits, out_shape, path):
    from onnx import helper, numpy_helper, TensorProto
    graph = helper.make_graph(
        nodes, os.path.basename(path),
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 16, 16])],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(a, n) for n, a in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def conv3x3(img, w, b):
    """Cross-correlation with zero padding 1: img [16,16], w [K,1,3,3] -> [K,16,16]."""
    p = np.pad(img, 1)
    out = np.zeros((w.shape[0],) + img.shape)
    for k in range(w.shape[0]):
        for dy in range(3):
            for dx in range(3):
                out[k] += w[k, 0, dy, dx] * p[dy:dy + 16, dx:dx + 16]
        out[k] += b[k]
    return out


def shift_rows(img, t):
    out = np.zeros_like(img)
    if t >= 0:
        out[t:] = img[:img.shape[0] - t]
    else:
        out[:t] = img[-t:]
    return out


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def rank_of(p, c):
    return 1 + sum(1 for i in range(len(p)) if p[i] > p[c] or (p[i] == p[c] and i < c))


def main():
    import onnx
    from onnx import helper
    from PIL import Image
    import torch

    cli = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="invariance-test-")
    rng = np.random.default_rng(7)

    # -- hand.onnx --------------------------------------------------------
    hand = os.path.join(tmp, "hand.onnx")
    save_model(onnx, [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv",
                                       kernel_shape=[1, 1])],
               {"w": np.full((1, 1, 1, 1), 2.0, np.float32), "b": np.array([0.5], np.float32)},
               [1, 1, 16, 16], hand)
    white = os.path.join(tmp, "white.png")
    Image.fromarray(np.full((16, 16), 255, np.uint8)).save(white)
    rc, out, err = run(cli, "invariance", hand, white, "--transform", "translate",
                       "--range", "0:4:1", "--layers", "conv", "--json", "-q")
    if check(rc == 0, "invariance on the 1x1 conv exits 0 (%s)" % err.strip()[-200:]):
        j = json.loads(out)
        lay = j["images"][0]["layers"]["conv"]
        check(close(lay["norm"], 40.0, 1e-5, 0), "norm of the original is 2.5 * 16 = 40")
        check(close(lay["distance"], [8 * math.sqrt(t) for t in range(5)], 1e-5, 1e-5),
              "distance after t rows is 8 sqrt(t) (by hand)")
        check(close(lay["relative_distance"], [math.sqrt(t) / 5 for t in range(5)], 1e-5, 1e-6),
              "relative distance is sqrt(t) / 5 (by hand)")
        check(j["values"] == [0, 1, 2, 3, 4] and j["fill"] == [0, 0, 0],
              "range 0:4:1 gives 0..4; the mean fill of a mean-0 profile is black")
    # upward translation and a gray fill: rows at the bottom become 0.5 -> 1.5
    rc, out, err = run(cli, "invariance", hand, white, "--transform", "translate",
                       "--range", "-2", "--layers", "conv", "--fill", "0.5", "--json", "-q")
    if check(rc == 0, "a single negative value and --fill 0.5 work (%s)" % err.strip()[-200:]):
        lay = json.loads(out)["images"][0]["layers"]["conv"]
        check(close(lay["distance"], [math.sqrt(32) * 1.0], 1e-5, 1e-6),
              "translating up 2 rows with fill 0.5: 32 outputs change by 1 (by hand)")

    # -- small.onnx -------------------------------------------------------
    small = os.path.join(tmp, "small.onnx")
    w1 = rng.normal(0, 0.5, (3, 1, 3, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, (3,)).astype(np.float32)
    wf = rng.normal(0, 0.1, (5, 768)).astype(np.float32)
    bf = rng.normal(0, 0.1, (5,)).astype(np.float32)
    save_model(onnx, [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Flatten", ["r1"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["z"], name="fc", transB=1),
        helper.make_node("Softmax", ["z"], ["p"], name="prob", axis=1),
    ], {"w1": w1, "b1": b1, "wf": wf, "bf": bf}, [1, 5], small)

    imgs, paths = [], []
    for i in range(2):
        a = rng.integers(0, 256, (16, 16)).astype(np.uint8)
        a[:, :3] = 0  # some structure
        p = os.path.join(tmp, "img,%d.png" % i)  # a comma in the name must not break the CSV
        Image.fromarray(a).save(p)
        imgs.append(a.astype(np.float64) / 255.0)
        paths.append(p)

    def forward_np(img):
        c1 = conv3x3(img, w1.astype(np.float64), b1.astype(np.float64))
        r1 = np.maximum(c1, 0)
        return c1, r1, softmax(wf.astype(np.float64) @ r1.reshape(-1) + bf)

    prefix = os.path.join(tmp, "trans")
    rc, out, err = run(cli, "invariance", small, *paths, "--transform", "translate",
                       "--range", "-3:3:1", "--layers", "conv1,relu1", "--labels", "1,4",
                       "--output", prefix, "--json", "--batch", "3", "-q")
    if check(rc == 0, "translate on the random conv exits 0 (%s)" % err.strip()[-200:]):
        j = json.loads(out)
        ok_d = ok_p = ok_r = True
        for i, img in enumerate(imgs):
            c0, r0, _ = forward_np(img)
            cls = [1, 4][i]
            ji = j["images"][i]
            ok_p &= ji["true_class"] == cls
            for v, t in enumerate(range(-3, 4)):
                c, r, p = forward_np(shift_rows(img, t))
                for name, a, b in [("conv1", c, c0), ("relu1", r, r0)]:
                    d = np.linalg.norm(a - b)
                    ok_d &= close(ji["layers"][name]["distance"][v], d, 1e-4, 1e-5)
                    ok_d &= close(ji["layers"][name]["relative_distance"][v],
                                  d / np.linalg.norm(b), 1e-4, 1e-6)
                ok_p &= close(ji["probability"][v], p[cls], 1e-4, 1e-6)
                ok_r &= ji["rank"][v] == rank_of(p, cls)
        check(ok_d, "distances under integer vertical translation equal numpy's")
        check(ok_p, "probabilities of the --labels classes equal numpy's softmax")
        check(ok_r, "ranks of the true classes equal numpy's")

        # the CSV
        rows = list(csv.DictReader(open(prefix + ".csv", newline="")))
        check(len(rows) == 2 * 2 * 7, "the CSV has one row per image, layer and value (%d)"
              % len(rows))
        r = [x for x in rows if x["image"] == "1" and x["layer"] == "relu1" and x["value"] == "2"]
        check(len(r) == 1 and close(float(r[0]["distance"]),
                                    j["images"][1]["layers"]["relu1"]["distance"][5], 1e-7, 0)
              and r[0]["transform"] == "translate" and r[0]["true_class"] == "4"
              and r[0]["file"] == "img_1.png",
              "a CSV row holds the same numbers as the JSON (file name made CSV-safe)")
        # the PNG
        im = Image.open(prefix + ".png")
        check(im.format == "PNG" and im.size[0] >= 600 and im.size[1] >= 3 * 250,
              "the PNG holds three panels (two layers and the probability): %s" % (im.size,))
        check(im.text.get("convlens:analysis") == "invariance" and
              im.text.get("convlens:transform") == "translate",
              "the PNG's text chunks name the analysis and the transform")
        px = np.asarray(im.convert("RGB")).reshape(-1, 3)
        check(len(np.unique(px, axis=0)) > 8, "the PNG is a drawing, not blank")

    # default true class: the original's top class
    rc, out, err = run(cli, "invariance", small, paths[0], "--transform", "rotate",
                       "--range", "0:270:90", "--layers", "conv1", "--json", "-q")
    if check(rc == 0, "quarter-turn rotations exit 0 (%s)" % err.strip()[-200:]):
        ji = json.loads(out)["images"][0]
        c0, _, p0 = forward_np(imgs[0])
        check(ji["true_class"] == int(np.argmax(p0)), "without --labels the true class is the "
              "original's most probable class")
        ok = True
        for v, k in enumerate(range(4)):
            c, _, _ = forward_np(np.rot90(imgs[0], k))
            ok &= close(ji["layers"]["conv1"]["distance"][v], np.linalg.norm(c - c0), 1e-4, 1e-5)
        check(ok, "a rotation by k * 90 degrees is numpy.rot90 (counter-clockwise)")

    def torch_warp(img, theta):
        x = torch.from_numpy(img[None, None])
        grid = torch.nn.functional.affine_grid(torch.tensor([theta], dtype=torch.float64),
                                               x.shape, align_corners=False)
        return torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="zeros",
                                               align_corners=False)[0, 0].numpy()

    for transform, rng_text, vals, theta in [
            ("scale", "0.5:2:0.25", [0.5 + 0.25 * k for k in range(7)],
             lambda s: [[1 / s, 0, 0], [0, 1 / s, 0]]),
            ("rotate", "-45:45:15", [-45 + 15 * k for k in range(7)],
             lambda a: [[math.cos(math.radians(a)), -math.sin(math.radians(a)), 0],
                        [math.sin(math.radians(a)), math.cos(math.radians(a)), 0]]),
            ("translate", "-1.5:1.5:0.75", [-1.5 + 0.75 * k for k in range(5)],
             lambda t: [[1, 0, 0], [0, 1, -2 * t / 16]])]:
        rc, out, err = run(cli, "invariance", small, paths[1], "--transform", transform,
                           "--range", rng_text, "--layers", "conv1", "--json", "-q")
        if check(rc == 0, "%s %s exits 0 (%s)" % (transform, rng_text, err.strip()[-200:])):
            ji = json.loads(out)["images"][0]
            c0, _, _ = forward_np(imgs[1])
            cls = ji["true_class"]
            ok_d = ok_p = True
            for v, a in enumerate(vals):
                c, _, p = forward_np(torch_warp(imgs[1], theta(a)))
                ok_d &= close(ji["layers"]["conv1"]["distance"][v], np.linalg.norm(c - c0),
                              1e-4, 1e-4)
                ok_p &= close(ji["probability"][v], p[cls], 1e-4, 1e-6)
            check(ok_d and ok_p, "%s: distances and probabilities equal PyTorch's grid_sample "
                  "(bilinear, zero fill)" % transform)

    # errors
    rc, _, err = run(cli, "invariance", small, paths[0], "--transform", "shear", "--range",
                     "0:1:1", "--layers", "conv1", "--json")
    check(rc == 2 and "shear" in err, "an unknown transform is a usage error naming it")
    rc, _, err = run(cli, "invariance", small, paths[0], "--transform", "rotate", "--range",
                     "5:1:1", "--layers", "conv1", "--json")
    check(rc == 2 and "5:1:1" in err, "a range with B < A is a usage error")
    rc, _, err = run(cli, "invariance", small, paths[0], "--transform", "rotate", "--range",
                     "0:1e9:1", "--layers", "conv1", "--json")
    check(rc == 2 and "more than" in err, "a range of a billion values is refused")
    rc, _, err = run(cli, "invariance", small, paths[0], "--transform", "scale", "--range",
                     "0:1:0.5", "--layers", "conv1", "--json")
    check(rc == 1 and "scale by 0" in err, "a scale factor of 0 is an error")
    rc, _, err = run(cli, "invariance", small, paths[0], "--transform", "rotate", "--range",
                     "0:1:1", "--layers", "conv9", "--json")
    check(rc == 2 and "conv9" in err, "an unknown layer is a usage error naming it")
    rc, _, err = run(cli, "invariance", small, paths[0], "--transform", "rotate", "--range",
                     "0:1:1", "--layers", "conv1", "--labels", "7", "--json")
    check(rc == 2 and "'7'" in err, "a class the model does not have is a usage error")
    missing = os.path.join(tmp, "missing.png")
    rc, _, err = run(cli, "invariance", small, missing, "--transform", "rotate", "--range",
                     "0:1:1", "--layers", "conv1", "--json")
    check(rc == 1 and "missing.png" in err, "a missing image is an error naming it")
    bad_prefix = os.path.join(tmp, "no-such-dir", "out")
    rc, _, err = run(cli, "invariance", small, paths[0], "--transform", "rotate", "--range",
                     "0:1:1", "--layers", "conv1", "--output", bad_prefix, "-q")
    check(rc == 1 and "no-such-dir" in err and not os.path.exists(os.path.dirname(bad_prefix)),
          "an unwritable --output is an error and leaves nothing behind")

    print("1..%d" % len(RESULTS))
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
