#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""convlens-cli occlude / occlude-at as programs.

    test-occlude-cli.py CLI MODELS_DIR

MODELS_DIR is what make-occlude-models.py wrote.  Expected values come from
this script (grid sizes, preprocessing arithmetic, PNG/.npy parsing) and
from PyTorch's occlusion results saved by the generator, never from the CLI
itself.  Prints TAP; exits 0 when every check passed (77: skipped).
"""

import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np

RESULTS = []


def check(ok, what):
    RESULTS.append((bool(ok), what))
    print("%s %d - %s" % ("ok" if ok else "not ok", len(RESULTS), what), flush=True)
    return ok


def run(cli, *args, cwd=None):
    p = subprocess.run([cli] + [str(a) for a in args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, cwd=cwd, timeout=600)
    return p.returncode, p.stdout, p.stderr


def read_png(path):
    """(width, height, {key: text}) of a PNG, or None if it is not one."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    pos, width, height, text = 8, None, None, {}
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"tEXt":
            k, v = body.split(b"\0", 1)
            text[k.decode("latin-1")] = v.decode("latin-1")
        elif kind == b"iTXt":
            k, rest = body.split(b"\0", 1)
            compressed = rest[0]
            rest = rest[2:]
            _lang, rest = rest.split(b"\0", 1)
            _tkey, v = rest.split(b"\0", 1)
            text[k.decode("latin-1")] = (zlib.decompress(v) if compressed else v).decode()
        pos += 12 + n
    return width, height, text


def steps(extent, size, stride, partial=False):
    n, p = 0, 0
    while (p < extent) if partial else (p + size <= extent):
        n += 1
        p += stride
    return n


def main():
    if len(sys.argv) != 3:
        print("usage: test-occlude-cli.py CLI MODELS_DIR", file=sys.stderr)
        return 2
    cli, models = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    stack = os.path.join(models, "stack")
    mobile = os.path.join(models, "mobile")
    if not os.path.exists(os.path.join(stack, "model.onnx")):
        print("1..0 # SKIP occlusion test models not generated")
        return 77
    tmp = tempfile.mkdtemp(prefix="occlude-cli-")
    s_model = os.path.join(stack, "model.onnx")
    s_image = os.path.join(stack, "image.png")
    s_npy = os.path.join(stack, "input.npy")
    H, W = 45, 53

    # --- exit codes -----------------------------------------------------------
    usage = [
        ("no arguments", ["occlude"]),
        ("no image", ["occlude", s_model]),
        ("image and --input-npy", ["occlude", s_model, s_image, "--input-npy", s_npy]),
        ("--size 0", ["occlude", s_model, s_image, "--size", "0"]),
        ("--size larger than the image", ["occlude", s_model, s_image, "--size", "54"]),
        ("--stride 0", ["occlude", s_model, s_image, "--stride", "0"]),
        ("--class 10 of 10 classes", ["occlude", s_model, s_image, "--class", "10"]),
        ("--channel 16 of 16", ["occlude", s_model, s_image, "--channel", "16"]),
        ("unknown --layer", ["occlude", s_model, s_image, "--layer", "no-such-layer"]),
        ("--fill bad", ["occlude", s_model, s_image, "--fill", "1,2"]),
        ("--fill out of range", ["occlude", s_model, s_image, "--fill", "0,0,256"]),
        ("unknown option", ["occlude", s_model, s_image, "--no-such-option"]),
        ("occlude-at without --x", ["occlude-at", s_model, s_image, "--y", "3"]),
    ]
    for what, args in usage:
        rc, out, err = run(cli, *args, "-o", os.path.join(tmp, "never"))
        check(rc == 2 and err.strip() != "", "usage error (2): %s (got %d: %s)"
              % (what, rc, err.strip()[:120]))
    runtime = [
        ("missing model", ["occlude", os.path.join(tmp, "none.onnx"), s_image]),
        ("missing image", ["occlude", s_model, os.path.join(tmp, "none.png")]),
        ("model without an image input", ["occlude", os.path.join(models, "flat", "model.onnx"),
                                          "--input-npy", s_npy]),
        ("unwritable prefix", ["occlude", s_model, s_image, "-o",
                               os.path.join(tmp, "no", "such", "dir", "x")]),
    ]
    for what, args in runtime:
        rc, out, err = run(cli, *args)
        check(rc == 1 and err.strip() != "", "runtime error (1): %s (got %d: %s)"
              % (what, rc, err.strip()[:120]))
    check(not any(f.startswith("never") for f in os.listdir(tmp)),
          "failed runs write no files")

    # --- a default sweep: files, sizes, text chunks, .npy shapes, JSON --------
    prefix = os.path.join(tmp, "stack")
    rc, out, err = run(cli, "occlude", s_model, s_image, "-o", prefix, "--raw", "--json",
                       "--threads", "2")
    check(rc == 0, "occlude --raw --json exits 0 (%s)" % err.strip()[:200])
    try:
        summary = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        summary = None
    check(summary is not None, "--json prints one JSON object")
    summary = summary or {}
    S = round(min(H, W) / 7)
    T = max(1, round(S / 4))
    ny, nx = steps(H, S, T), steps(W, S, T)
    check(summary.get("size") == S and summary.get("stride") == T,
          "default size %d = side/7 and stride %d = size/4 (got %s, %s)"
          % (S, T, summary.get("size"), summary.get("stride")))
    grid = summary.get("grid", {})
    check(grid.get("n_y") == ny and grid.get("n_x") == nx,
          "grid %d x %d (got %s x %s)" % (ny, nx, grid.get("n_y"), grid.get("n_x")))
    check(grid.get("xs") == list(range(0, nx * T, T)) and grid.get("ys") == list(range(0, ny * T, T)),
          "grid corners 0, T, 2T, ...")
    for key in ("model", "input", "target", "layer", "channel", "min_prob", "time_s",
                "clean_feature", "files"):
        check(key in summary, "JSON has '%s'" % key)
    z = min(8, max(1, math.ceil(320 / min(H, W))))
    texts = {}
    for kind in ("prob", "class", "feature"):
        path = "%s-%s.png" % (prefix, kind)
        info = read_png(path) if os.path.exists(path) else None
        check(info is not None, "%s is a PNG" % os.path.basename(path))
        if info:
            w, h, text = info
            texts[kind] = text
            check(w >= W * z + 20 and h >= H * z + 20,
                  "%s holds the %dx zoomed %dx%d panel (%dx%d)" % (kind, z, W, H, w, h))
    for kind, text in texts.items():
        ok = (text.get("Size") == str(S) and text.get("Stride") == str(T)
              and text.get("Class") == str(summary.get("target", {}).get("class"))
              and text.get("Layer") == summary.get("layer")
              and text.get("Channel") == str(summary.get("channel"))
              and "Model" in text)
        check(ok, "%s PNG text chunks: model, size, stride, class, layer, channel (%s)"
              % (kind, text))
    arrays = {}
    for kind in ("prob", "class", "feature"):
        path = "%s-%s.npy" % (prefix, kind)
        a = np.load(path) if os.path.exists(path) else None
        arrays[kind] = a
        check(a is not None and a.dtype == np.float32 and a.shape == (ny, nx),
              "%s.npy is float32 [%d, %d] (%s)" % (kind, ny, nx,
                                                 None if a is None else (a.dtype, a.shape)))
    if arrays["class"] is not None:
        c = arrays["class"]
        check(np.all(c == np.round(c)) and c.min() >= 0 and c.max() < 10,
              "class.npy holds class indices")
    if arrays["prob"] is not None and summary.get("min_prob"):
        p = arrays["prob"]
        i = int(np.argmin(p))
        mp = summary["min_prob"]
        check(abs(p.min() - mp["prob"]) < 1e-6 and mp["x"] == (i % nx) * T
              and mp["y"] == (i // nx) * T, "min_prob and where match prob.npy")

    # --- --full gives the same maps --------------------------------------------
    fprefix = os.path.join(tmp, "stack-full")
    rc, out, err = run(cli, "occlude", s_model, s_image, "-o", fprefix, "--raw", "--full")
    check(rc == 0, "occlude --full exits 0")
    for kind in ("prob", "class", "feature"):
        a = arrays.get(kind)
        path = "%s-%s.npy" % (fprefix, kind)
        b = np.load(path) if os.path.exists(path) else None
        if a is None or b is None:
            check(False, "--full %s.npy exists" % kind)
            continue
        tol = 1e-5 if kind != "feature" else 1e-4 * max(1e-3, float(b.max() - b.min()))
        d = float(np.abs(a - b).max())
        check(d < tol, "--full and incremental %s agree (max diff %.2e)" % (kind, d))

    # --- partial squares, explicit size/stride/class/layer/channel --------------
    pprefix = os.path.join(tmp, "partial")
    rc, out, err = run(cli, "occlude", s_model, "--input-npy", s_npy, "-o", pprefix, "--raw",
                       "--json", "--size", "11", "--stride", "7", "--partial", "--class", "3",
                       "--channel", "5")
    check(rc == 0, "occlude --partial exits 0 (%s)" % err.strip()[:200])
    try:
        ps = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        ps = {}
    pa = np.load(pprefix + "-prob.npy") if os.path.exists(pprefix + "-prob.npy") else None
    check(pa is not None and pa.shape == (steps(H, 11, 7, True), steps(W, 11, 7, True)),
          "--partial grid covers the image (%s)" % (None if pa is None else pa.shape,))
    check(ps.get("target", {}).get("class") == 3 and ps.get("channel") == 5,
          "--class and --channel are used")

    # --- occlude-at: against PyTorch's occluded probabilities -------------------
    meta = np.load(os.path.join(mobile, "ref-meta.npy"))
    pos = np.load(os.path.join(mobile, "ref-pos.npy"))
    ref = np.load(os.path.join(mobile, "ref-prob.npy"))
    feat = np.load(os.path.join(mobile, "ref-feature.npy"))
    m_model = os.path.join(mobile, "model.onnx")
    m_npy = os.path.join(mobile, "input.npy")
    assert meta[1] == meta[2] == meta[3] == 0.0  # fill = mean
    for i in (1, 4):
        x, y = int(pos[i][0]), int(pos[i][1])
        rc, out, err = run(cli, "occlude-at", m_model, "--input-npy", m_npy, "--x", x, "--y", y,
                           "--size", int(meta[0]), "--json")
        try:
            r = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            r = {}
        want = ref[i]
        order = list(np.argsort(-want, kind="stable")[:5])
        top = r.get("top", [])
        ok = (rc == 0 and r.get("target", {}).get("class") == int(meta[4])
              and abs(r["target"]["prob"] - want[int(meta[4])]) < 1e-4
              and [t["class"] for t in top] == [int(k) for k in order]
              and all(abs(t["probability"] - want[k]) < 1e-4 for t, k in zip(top, order))
              and abs(r.get("feature", 1e9) - feat[i]) < 1e-4 * max(1.0, abs(feat[i]))
              and r.get("channel") == int(meta[5]))
        check(ok, "occlude-at (%d,%d) equals PyTorch: p %s vs %.6f, feature %s vs %.5f"
              % (x, y, r.get("target", {}).get("prob"), want[int(meta[4])], r.get("feature"),
                 feat[i]))
    rc, out, err = run(cli, "occlude-at", m_model, "--input-npy", m_npy, "--x", "5", "--y", "7")
    check(rc == 0 and "target: class" in out and "rank" in out, "occlude-at prints a table")

    # occlude-at at a grid position gives the sweep's value
    if arrays["prob"] is not None:
        iy, ix = ny // 2, nx // 3
        rc, out, err = run(cli, "occlude-at", s_model, s_image, "--x", ix * T, "--y", iy * T,
                           "--json")
        try:
            r = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            r = {}
        check(rc == 0 and abs(r.get("target", {}).get("prob", 9) - arrays["prob"][iy, ix]) < 1e-5
              and r["top"][0]["class"] == int(arrays["class"][iy, ix])
              and abs(r["feature"] - arrays["feature"][iy, ix])
              < 1e-4 * max(1e-3, float(np.ptp(arrays["feature"]))),
              "occlude-at equals the sweep at (%d,%d)" % (ix * T, iy * T))

    # --- --fill R,G,B through a profile (BGR, scale 255, mean, std) -------------
    prof = os.path.join(tmp, "bgr.convlens.json")
    with open(prof, "w") as f:
        json.dump({"input": {"channels": 3, "height": H, "width": W, "scale": 255,
                             "mean": [104.0, 117.0, 123.0], "std": [1.0, 2.0, 4.0],
                             "channel_order": "BGR"}}, f)
    rc, out, err = run(cli, "occlude", s_model, s_image, "--profile", prof, "--fill", "10,20,30",
                       "--json", "-o", os.path.join(tmp, "fill"), "--size", "20", "--stride", "20")
    try:
        r = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        r = {}
    want = [(30 - 104.0) / 1.0, (20 - 117.0) / 2.0, (10 - 123.0) / 4.0]
    got = r.get("fill_normalised", [])
    check(rc == 0 and len(got) == 3 and all(abs(a - b) < 1e-4 for a, b in zip(got, want)),
          "--fill 10,20,30 in a BGR/255/mean/std profile -> %s (got %s)" % (want, got))

    # a guessed profile (small 3-channel input: scale 1, mean 0, std 1) with a .npy
    rc, out, err = run(cli, "occlude", s_model, "--input-npy", s_npy, "--fill", "51,102,153",
                       "--json", "-o", os.path.join(tmp, "fill2"), "--size", "20")
    try:
        r = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        r = {}
    got = r.get("fill_normalised", [])
    check(rc == 0 and len(got) == 3 and all(abs(a - b) < 1e-6 for a, b in zip(got, [0.2, 0.4, 0.6])),
          "--fill 51,102,153 with the guessed identity profile -> 0.2, 0.4, 0.6 (got %s)" % got)

    print("1..%d" % len(RESULTS))
    failed = [w for ok, w in RESULTS if not ok]
    if not failed:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
