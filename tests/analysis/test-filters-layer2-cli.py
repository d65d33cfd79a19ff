#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""convlens-cli filters --dataset: the layer-2 top-1 projections (Fig. 6 (c)/(e)).

    test-filters-layer2-cli.py CLI FIXTURES_DIR SOURCE_ROOT

The strongest activation of every channel of the second Conv layer over the
data set is compared with a brute-force arg-max of that layer's output
computed here with PyTorch's functional ops from the ONNX weights (read with
onnx): on topk.onnx (make-analysis-fixtures.py) over its PNG folder, and on
the default model models/zf-mini.onnx over the first 200 Fashion-MNIST test
images.  The figure's size follows from the layout (layer-1 tiles, a 32 px
caption, the layer-2 blocks); the input patches in it are checked against
the images' pixels.  Prints TAP.
"""

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from PIL import Image

F = torch.nn.functional
RESULTS = []
FASHION = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
CAPTION_H = 32
RTOL = 1e-4


def check(ok, what):
    RESULTS.append(bool(ok))
    print("%s %d - %s" % ("ok" if ok else "not ok", len(RESULTS), what), flush=True)
    return ok


def skip(what, why):
    RESULTS.append(True)
    print("ok %d - %s # SKIP %s" % (len(RESULTS), what, why), flush=True)


def run(cli, *args):
    p = subprocess.run([cli] + [str(a) for a in args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def weights(path):
    return {t.name: torch.from_numpy(numpy_helper.to_array(t).copy())
            for t in onnx.load(path).graph.initializer}


def topk_conv2(w, x):
    """conv2 (before its ReLU) of topk.onnx; x [N,1,28,28]."""
    r1 = F.relu(F.conv2d(x, w["w1"], w["b1"], padding=1))
    return F.conv2d(F.max_pool2d(r1, 2, 2), w["w2"], w["b2"])


def zf_mini_conv2(w, x):
    """conv2 (before its ReLU) of zf-mini: conv1 relu pool(3,2,pad 1) LRN(5) conv2(pad 1)."""
    r1 = F.relu(F.conv2d(x, w["conv1.weight"], w["conv1.bias"]))
    p1 = F.max_pool2d(r1, 3, 2, padding=1)
    n1 = F.local_response_norm(p1, 5, alpha=1e-4, beta=0.75, k=1.0)
    return F.conv2d(n1, w["conv2.weight"], w["conv2.bias"], padding=1)


def brute_top1(act):
    """Per channel (image, y, x, value) of the largest activation; ties to the
    lowest image, then the lowest y * W + x (numpy's first arg-max)."""
    a = act.double().numpy()
    n, c, h, wd = a.shape
    out = []
    for ch in range(c):
        flat = a[:, ch].reshape(-1)
        i = int(np.argmax(flat))
        out.append((i // (h * wd), (i % (h * wd)) // wd, i % wd, float(flat[i])))
    return out


def compare_top1(layer2, act, what):
    """The reported entries against the brute force: the same value, and a
    position whose oracle activation is that maximum (float noise may pick
    another of equal value)."""
    a = act.double().numpy()
    expected = brute_top1(act)
    chans = layer2["channels"]
    check([e["channel"] for e in chans] == list(range(len(expected))),
          "%s: one entry per channel, %d channels in order" % (what, len(expected)))
    exact, ok_value, ok_pos = 0, True, True
    for e, (i, y, x, v) in zip(chans, expected):
        tol = RTOL * max(1.0, abs(v))
        ok_value &= abs(e["value"] - v) <= tol
        ok_pos &= abs(a[e["image"], e["channel"], e["y"], e["x"]] - v) <= tol
        exact += (e["image"], e["y"], e["x"]) == (i, y, x)
    check(ok_value, "%s: every channel's top-1 value equals PyTorch's brute-force maximum" % what)
    check(ok_pos, "%s: every reported (image, y, x) holds that maximum in PyTorch's output "
          "(%d of %d positions identical)" % (what, exact, len(expected)))
    return expected


def folder_images(folder):
    names = []
    for root, _, files in os.walk(folder):
        for f in files:
            if f.endswith(".png"):
                names.append(os.path.relpath(os.path.join(root, f), folder))
    names.sort(key=lambda s: s.encode())
    px = np.stack([np.asarray(Image.open(os.path.join(folder, n)).convert("L"), np.uint8)
                   for n in names])
    return names, px


def read_fashion(n):
    with gzip.open(FASHION, "rb") as f:
        data = f.read()
    count, rows, cols = (int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols)[:n]


def png_shape(path):
    return np.asarray(Image.open(path).convert("RGB")).shape


def test_small(cli, fix, tmp):
    model = os.path.join(fix, "topk.onnx")
    folder = os.path.join(fix, "folder")
    names, px = folder_images(folder)
    inp = torch.from_numpy((px.astype(np.float32) / np.float32(255.0))[:, None])
    act = topk_conv2(weights(model), inp)

    png = os.path.join(tmp, "small.png")
    rc, out, err = run(cli, "filters", model, "--dataset", folder, "--json", "--output", png,
                       "-q")
    if not check(rc == 0, "topk.onnx: filters --dataset --json --output exits 0 (%s)"
                 % err.strip()[-200:]):
        return
    j = json.loads(out)
    l2 = j.get("layer2")
    if not check(isinstance(l2, dict) and l2.get("layer") == "conv2" and
                 l2.get("images") == len(names),
                 "topk.onnx: --json has a layer2 object for conv2 over %d images" % len(names)):
        return
    check(all(set(e) >= {"channel", "image", "y", "x", "value"} for e in l2["channels"]),
          "topk.onnx: each layer2 channel has channel, image, y, x, value")
    check(all(e["image_name"] == names[e["image"]] for e in l2["channels"]),
          "topk.onnx: image names are the folder's files")
    compare_top1(l2, act, "topk.onnx folder")

    # The figure: layer-1 tiles (4 filters of 3x3 at 21 px per weight: cells
    # 65 x 77, 2 x 2, 8 px gaps -> 154 x 178), a caption, then 6 blocks of a
    # projection and a patch.  conv2's receptive field is 8 px; cells are
    # scaled x6 to 48 px; block 2*48+6 = 102 wide, 3 x 2 blocks, 14 px gaps
    # -> 362 x 138.
    img = np.asarray(Image.open(png).convert("RGB"))
    check(img.shape == (178 + CAPTION_H + 138, 362, 3),
          "topk.onnx: the PNG is 362x348: tiles, caption and layer-2 blocks (got %s)"
          % (img.shape,))
    base = os.path.join(tmp, "small-weights.png")
    rc, _, _ = run(cli, "filters", model, "--output", base)
    check(rc == 0 and png_shape(base) == (178, 154, 3),
          "topk.onnx: without a data set the PNG is the 154x178 tiles only")
    if img.shape != (348, 362, 3):
        return
    strip = img[178:178 + CAPTION_H].astype(int)
    check(strip.max() > 150, "topk.onnx: the caption strip has text")
    # Each block's right cell is the input patch under conv2's receptive
    # field at the reported position: rows 2y-1 .. 2y+6 (pad 1, pool 2,
    # 3x3 conv), clipped to the image, each pixel shown 6x6.
    ok_patch = ok_proj = True
    for e in l2["channels"]:
        c, y, x = e["channel"], e["y"], e["x"]
        y0, y1 = max(0, 2 * y - 1), min(28, 2 * y + 7)
        x0, x1 = max(0, 2 * x - 1), min(28, 2 * x + 7)
        bx = 14 + (c % 3) * (102 + 14)
        by = 178 + CAPTION_H + 14 + (c // 3) * (48 + 14)
        ph, pw = (y1 - y0) * 6, (x1 - x0) * 6
        oy, ox = by + (48 - ph) // 2, bx + 54 + (48 - pw) // 2
        for v, u in [(0, 0), (ph // 2, pw // 2), (ph - 1, pw - 1)]:
            want = int(px[e["image"], y0 + v // 6, x0 + u // 6])
            got = img[oy + v, ox + u]
            ok_patch &= all(abs(int(g) - want) <= 1 for g in got)
        proj = img[by:by + 48, bx:bx + 48].astype(int)
        ok_proj &= proj.max() - proj.min() > 20
    check(ok_patch, "topk.onnx: every block's patch shows the top-1 image's pixels under the "
          "receptive field")
    check(ok_proj, "topk.onnx: every block's projection is not flat")

    # --layer2 chooses another Conv (here conv1 itself)
    rc, out, err = run(cli, "filters", model, "--dataset", folder, "--json", "--layer2", "conv1",
                       "-q")
    if check(rc == 0, "topk.onnx: --layer2 conv1 exits 0 (%s)" % err.strip()[-200:]):
        l2 = json.loads(out)["layer2"]
        w = weights(model)
        c1 = F.conv2d(inp, w["w1"], w["b1"], padding=1)
        check(l2["layer"] == "conv1", "topk.onnx: --layer2 conv1 scans conv1")
        compare_top1(l2, c1, "topk.onnx --layer2 conv1")


def test_zf_mini(cli, root, tmp):
    model = os.path.join(root, "models", "zf-mini.onnx")
    if not os.path.exists(FASHION):
        skip("zf-mini over Fashion-MNIST", "dataset-fashion-mnist is not installed")
        return
    prof = json.load(open(os.path.join(root, "models", "zf-mini.convlens.json")))["input"]
    px = read_fashion(200)
    x = (px.astype(np.float32) / np.float32(255.0) * np.float32(prof["scale"])
         - np.float32(prof["mean"][0])) / np.float32(prof["std"][0])
    w = weights(model)
    act = zf_mini_conv2(w, torch.from_numpy(x[:, None].copy()))
    n_conv2 = int(w["conv2.weight"].shape[0])

    png = os.path.join(tmp, "zf.png")
    rc, out, err = run(cli, "filters", model, "--dataset", "fashion-mnist:test", "--limit", 200,
                       "--json", "--output", png, "-q")
    if not check(rc == 0, "zf-mini: filters --dataset fashion-mnist:test --limit 200 exits 0 (%s)"
                 % err.strip()[-200:]):
        return
    j = json.loads(out)
    l2 = j["layer2"]
    check(l2["layer"] == "conv2" and l2["images"] == 200 and len(l2["channels"]) == n_conv2,
          "zf-mini: layer2 is conv2, its %d channels over 200 images" % n_conv2)
    check(all(0 <= e["image"] < 200 for e in l2["channels"]), "zf-mini: images within --limit")
    compare_top1(l2, act, "zf-mini Fashion-MNIST 200")
    base = os.path.join(tmp, "zf-weights.png")
    rc, _, _ = run(cli, "filters", model, "--output", base)
    if check(rc == 0, "zf-mini: weights-only figure written"):
        a, b = png_shape(png), png_shape(base)
        check(a[0] > b[0] + CAPTION_H and a[1] >= b[1],
              "zf-mini: the figure grows by the layer-2 part (%s vs %s)" % (a, b))


def test_bad(cli, fix, tmp):
    model = os.path.join(fix, "filters.onnx")      # one Conv only
    folder = os.path.join(fix, "filters-folder")
    png = os.path.join(tmp, "one.png")
    rc, out, err = run(cli, "filters", model, "--dataset", folder, "--json", "--output", png)
    check(rc == 0 and "no second Conv layer after 'conv1'" in err,
          "one Conv + data set: a note naming the missing second Conv, exit 0 (%d, %s)"
          % (rc, err.strip()[-200:]))
    if rc == 0:
        check(json.loads(out).get("layer2", "absent") is None, "one Conv: --json layer2 is null")
        check(png_shape(png) == (178, 227, 3), "one Conv: the PNG is the layer-1 tiles only")
    rc, _, err = run(cli, "filters", model, "--dataset", folder, "--layer2", "conv1x")
    check(rc == 2 and "conv1x" in err, "--layer2 of an unknown layer is a usage error naming it")
    rc, _, err = run(cli, "filters", model, "--dataset", folder, "--layer2", "relu1")
    check(rc == 2 and "relu1" in err, "--layer2 of a layer that is not a Conv is a usage error")
    rc, _, err = run(cli, "filters", os.path.join(fix, "topk.onnx"), "--layer2", "conv2")
    check(rc == 2 and "--dataset" in err, "--layer2 without --dataset is a usage error")
    rc, out, err = run(cli, "filters", os.path.join(fix, "topk.onnx"), "--json")
    check(rc == 0 and "layer2" not in json.loads(out),
          "without a data set --json has no layer2 (nothing changes)")
    rc, out, err = run(cli, "filters", "--help")
    check(rc == 0 and "--layer2" in out and "data set" in out,
          "--help names --layer2 and that layer 2 needs a data set")


def main():
    cli, fix, root = sys.argv[1], sys.argv[2], sys.argv[3]
    tmp = tempfile.mkdtemp(prefix="filters-layer2-test-")
    test_small(cli, fix, tmp)
    test_zf_mini(cli, root, tmp)
    test_bad(cli, fix, tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % len(RESULTS))
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
