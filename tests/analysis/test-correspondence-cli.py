#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""convlens-cli correspondence against hand calculations and numpy.

    test-correspondence-cli.py CLI

Models (onnx.helper, input 1x8x8, so the guessed profile is scale 1, mean
0, std 1 and the "mean" fill is 0):

  ident.onnx  conv: 1x1 kernel of weight 1, bias 0 (the layer is the image).
              With pixels > 0 and fill 0, eps = x - x~ is positive inside the
              masked boxes and 0 elsewhere, so the Hamming distance between
              two images' sign vectors is the size of the symmetric difference
              of their masked pixel sets: countable by hand.
  small.onnx  conv1 (1->2, 3x3, pad 1, seeded random) relu1; oracle: numpy.

Prints TAP.
"""

import itertools
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
                       stderr=subprocess.PIPE, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def close(a, b, rtol=1e-9, atol=1e-12):
    return abs(a - b) <= atol + rtol * abs(b)


def save_model(onnx, nodes, inits, path, out_shape):
    from onnx import helper, numpy_helper, TensorProto
    graph = helper.make_graph(
        nodes, os.path.basename(path),
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(a, n) for n, a in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def mask(img, boxes, fill):
    out = img.copy()
    for x, y, w, h in boxes:
        out[y:y + h, x:x + w] = fill
    return out


def stats(signs, size):
    """delta, mean, std over the unordered pairs of sign vectors."""
    h = [int(np.sum(a != b)) for a, b in itertools.combinations(signs, 2)]
    f = np.array(h, np.float64) / size
    return sum(h), f.mean(), f.std()


def main():
    import onnx
    from onnx import helper
    from PIL import Image

    cli = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="correspondence-test-")
    rng = np.random.default_rng(11)

    ident = os.path.join(tmp, "ident.onnx")
    save_model(onnx, [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv",
                                       kernel_shape=[1, 1])],
               {"w": np.ones((1, 1, 1, 1), np.float32), "b": np.zeros(1, np.float32)}, ident,
               [1, 1, 8, 8])
    w1 = rng.normal(0, 0.5, (2, 1, 3, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.2, (2,)).astype(np.float32)
    small = os.path.join(tmp, "small.onnx")
    save_model(onnx, [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1")], {"w1": w1, "b1": b1}, small,
        [1, 2, 8, 8])

    os.mkdir(os.path.join(tmp, "img"))
    imgs = []
    for i in range(3):
        a = rng.integers(1, 256, (8, 8)).astype(np.uint8)   # no zero pixel: eps > 0 when masked
        Image.fromarray(a).save(os.path.join(tmp, "img", "%d.png" % i))
        imgs.append(a.astype(np.float64) / 255)
    # "eye": one box per image; "mouth": two boxes in image 2
    parts = [
        {"eye": [1, 1, 3, 2], "mouth": [2, 5, 4, 2]},
        {"eye": [2, 1, 3, 2], "mouth": [[2, 5, 4, 2]]},
        {"eye": [1, 2, 2, 3], "mouth": [[0, 6, 2, 2], [5, 6, 2, 2]]},
    ]

    def boxes_of(p):
        return [p] if isinstance(p[0], int) else p

    def write_spec(name, **extra):
        doc = {"images": [{"file": "img/%d.png" % i, "parts": parts[i]} for i in range(3)]}
        doc.update(extra)
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    spec = write_spec("spec.json", trials=5, seed=3)
    rc, out, err = run(cli, "correspondence", ident, spec, "--layers", "conv", "--json", "-q")
    if check(rc == 0, "correspondence on the identity conv exits 0 (%s)" % err.strip()[-200:]):
        j = json.loads(out)
        check(j["images"] == 3 and j["pairs"] == 3 and j["trials"] == 5 and
              [p["name"] for p in j["parts"]] == ["eye", "mouth"] and
              j["layers"] == [{"name": "conv", "size": 64}],
              "reports 3 images, 3 pairs, the parts in spec order and the layer size")
        # by hand: the symmetric differences of the masked pixel sets
        sets = {}
        for part in ["eye", "mouth"]:
            sets[part] = []
            for i in range(3):
                s = set()
                for x, y, w, h in boxes_of(parts[i][part]):
                    s |= {(yy, xx) for yy in range(y, y + h) for xx in range(x, x + w)}
                sets[part].append(s)
        eye = j["parts"][0]["layers"]["conv"]
        # eye boxes (rows x columns): 1..2 x 1..3, 1..2 x 2..4, 2..4 x 1..2, 6 pixels each;
        # overlaps 4, 2, 1 pixels: pair distances 12 - 2 * overlap = 4, 8, 10
        hand = [len(a ^ b) for a, b in itertools.combinations(sets["eye"], 2)]
        check(hand == [4, 8, 10] and eye["delta"] == 22, "eye: delta = 4 + 8 + 10 = 22 (by hand)")
        f = np.array(hand) / 64
        check(close(eye["mean"], f.mean()) and close(eye["std"], f.std()),
              "eye: mean and std of H/64 over the pairs")
        mouth = j["parts"][1]["layers"]["conv"]
        hand = [len(a ^ b) for a, b in itertools.combinations(sets["mouth"], 2)]
        check(hand == [0, 14, 14] and mouth["delta"] == 28,
              "mouth (two boxes in one image): delta = 0 + 14 + 14 = 28 (by hand)")
        for name, area in [("eye", [6, 6, 6]), ("mouth", [8, 8, 8])]:
            r = j["parts"][0 if name == "eye" else 1]["layers"]["conv"]
            check(0 < r["random_mean"] <= 2 * max(area) / 64 and r["random_std"] >= 0 and
                  close(r["random_delta"], r["random_mean"] * 3 * 64, 1e-9, 1e-9),
                  "%s: the random control lies in (0, 2 * area / size]; its delta is the mean "
                  "over trials of the pair sum" % name)
        rc2, out2, _ = run(cli, "correspondence", ident, spec, "--layers", "conv", "--json", "-q")
        check(rc2 == 0 and out2 == out, "the same seed gives the same result")
        rc3, out3, _ = run(cli, "correspondence", ident, spec, "--layers", "conv", "--json",
                           "-q", "--seed", "4", "--trials", "20")
        j3 = json.loads(out3) if rc3 == 0 else None
        check(j3 is not None and j3["trials"] == 20 and j3["seed"] == 4 and
              j3["parts"][0]["layers"]["conv"]["random_mean"] != eye["random_mean"] and
              j3["parts"][0]["layers"]["conv"]["delta"] == 22,
              "--seed and --trials change only the control")

    # a gray fill: signs +1 / -1 / 0 from numpy
    spec = write_spec("gray.json", fill=0.5, trials=0)
    for model, layers in [(ident, ["conv"]), (small, ["conv1", "relu1"])]:
        rc, out, err = run(cli, "correspondence", model, spec, "--layers", ",".join(layers),
                           "--json", "-q")
        if not check(rc == 0, "fill 0.5 on %s exits 0 (%s)" % (os.path.basename(model),
                                                                 err.strip()[-200:])):
            continue
        j = json.loads(out)

        def feats(img, name):
            if model == ident:
                return img.reshape(-1)
            p = np.pad(img, 1)
            c = np.zeros((2, 8, 8))
            for k in range(2):
                for dy in range(3):
                    for dx in range(3):
                        c[k] += w1[k, 0, dy, dx] * p[dy:dy + 8, dx:dx + 8]
                c[k] += b1[k]
            return (c if name == "conv1" else np.maximum(c, 0)).reshape(-1)

        ok = True
        for pi, part in enumerate(["eye", "mouth"]):
            for name in layers:
                signs = [np.sign(feats(imgs[i], name) -
                                 feats(mask(imgs[i], boxes_of(parts[i][part]), 0.5), name))
                         for i in range(3)]
                size = signs[0].size
                d, m, s = stats(signs, size)
                r = j["parts"][pi]["layers"][name]
                ok &= r["delta"] == d and close(r["mean"], m, 1e-9, 1e-12) and \
                    close(r["std"], s, 1e-9, 1e-12) and r["random_mean"] is None
        check(ok, "%s: delta, mean and std equal numpy's sign-change Hamming distances; no "
              "control with trials 0" % os.path.basename(model))

    # text output
    rc, out, err = run(cli, "correspondence", ident, write_spec("t.json", trials=2), "--layers",
                       "conv", "-q")
    check(rc == 0 and "eye" in out and "mouth" in out and " 22 " in out,
          "the table lists every part with its delta")

    # errors
    def bad(doc, needle, what, code=1):
        path = os.path.join(tmp, "bad.json")
        with open(path, "w") as f:
            f.write(doc if isinstance(doc, str) else json.dumps(doc))
        rc, _, err = run(cli, "correspondence", ident, path, "--layers", "conv", "-q")
        check(rc == code and needle in err, "%s (%s)" % (what, err.strip()[-160:]))

    im = lambda i, p: {"file": "img/%d.png" % i, "parts": p}
    bad({"images": [im(0, {"eye": [6, 0, 3, 2]}), im(1, {"eye": [0, 0, 1, 1]})]},
        "does not lie inside", "a box reaching outside the image is an error naming it")
    bad({"images": [im(0, {"eye": [0, 0, 1, 1]}), im(1, {"nose": [0, 0, 1, 1]})]},
        "has no part 'nose'", "a part missing in one image is an error naming it")
    bad({"images": [im(0, {"eye": [0, 0, 1, 1]})]}, "2 to 1000 images",
        "one image is not enough")
    bad({"images": [im(0, {"eye": [0, 0, 1, 1]})] * 2, "trials": 10 ** 12}, "trials",
        "a huge trial count is refused")
    bad({"images": [im(0, {"eye": [0, 0, 0, 1]})] * 2}, "width and height from 1",
        "an empty box is refused")
    bad({"images": [im(0, {"eye": [-1, 0, 1, 1]})] * 2}, "x and y from 0",
        "a negative coordinate is refused")
    bad({"images": [im(0, {"eye": [0, 0, 1, 1]})] * 2, "colour": 1}, "unknown member",
        "an unknown member is refused")
    bad("{\"images\": [" * 100, "levels deep", "deep nesting is refused before parsing")
    bad("not json", "not JSON", "a file that is not JSON is an error")
    bad({"images": [{"file": "img/none.png", "parts": {"eye": [0, 0, 1, 1]}}] * 2}, "none.png",
        "a missing image is an error naming it")
    rc, _, err = run(cli, "correspondence", ident, spec, "--layers", "conv9", "-q")
    check(rc == 2 and "conv9" in err, "an unknown layer is a usage error naming it")

    print("1..%d" % len(RESULTS))
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
