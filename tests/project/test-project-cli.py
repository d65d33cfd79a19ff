#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""`convlens-cli project` as a program: exit codes, error messages, the PNG
files it writes (size, text chunks) and its --raw output against PyTorch's
reference projections (make-oracle.py).

  test-project-cli.py CONVLENS_CLI ORACLE_DIR
"""

import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np

CLI = None
ORACLE = None
NET = "alex-op13"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, flush=True)


def run(*args):
    p = subprocess.run([CLI, "project"] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def read_png(path):
    """(width, height, {text key: value}) from a PNG's IHDR and tEXt/iTXt."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path + " is not a PNG"
    pos, width, height, text = 8, None, None, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"tEXt":
            k, v = body.split(b"\0", 1)
            text[k.decode("latin-1")] = v.decode("latin-1")
        elif kind == b"iTXt":
            k, rest = body.split(b"\0", 1)
            # compression flag, method, language tag \0, translated key \0, text
            rest = rest[2:]
            _, rest = rest.split(b"\0", 1)
            _, v = rest.split(b"\0", 1)
            text[k.decode("latin-1")] = v.decode("utf-8")
        pos += 12 + length
    return width, height, text


def read_rgb(path):
    """The pixels of an 8-bit RGB PNG as a [height, width, 3] uint8 array."""
    with open(path, "rb") as f:
        data = f.read()
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert (depth, ctype) == (8, 2), path + " is not 8-bit RGB"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3
    out = np.zeros((height, stride), np.int32)
    prev = np.zeros(stride, np.int32)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        cur = np.zeros(stride, np.int32)
        for x in range(stride):
            a = cur[x - 3] if x >= 3 else 0
            b = prev[x]
            c = prev[x - 3] if x >= 3 else 0
            if f == 0:
                pred = 0
            elif f == 1:
                pred = a
            elif f == 2:
                pred = b
            elif f == 3:
                pred = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[x] = (line[x] + pred) & 255
        out[y] = cur
        prev = cur
    return out.reshape(height, width, 3).astype(np.uint8)


def write_png(path, width, height):
    """An RGB test picture: a diagonal gradient."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            raw += bytes((x * 255 // max(1, width - 1), y * 255 // max(1, height - 1),
                          (3 * x + 5 * y) % 256))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(bytes(raw))))
        f.write(chunk(b"IEND", b""))


def range_error(ours, ref):
    span = float(ref.max() - ref.min())
    return float(np.abs(ours.reshape(ref.shape) - ref).max()) / span


def main():
    global CLI, ORACLE
    CLI, ORACLE = sys.argv[1], sys.argv[2]
    netdir = os.path.join(ORACLE, NET)
    model = os.path.join(netdir, "model.onnx")
    npy = os.path.join(netdir, "input.npy")
    cases = json.load(open(os.path.join(netdir, "cases.json")))["cases"]
    x = np.load(npy)
    H, W = x.shape[2], x.shape[3]
    tmp = tempfile.mkdtemp(prefix="convlens-project-")
    out = os.path.join(tmp, "out.png")
    raw = os.path.join(tmp, "out.npy")

    # -- usage errors: exit 2, nothing written
    conv = next(c["value"] for c in cases if c["kind"] == "channel")
    usage = [
        [],
        [model],
        [model, "--input-npy", npy, "--channel", "1", "--output", out],
        [model, "--input-npy", npy, "--layer", conv, "--output", out],
        [model, "--input-npy", npy, "--layer", conv, "--channel", "1"],
        [model, "--input-npy", npy, "--layer", conv, "--channel", "1", "--mode", "nope",
         "--output", out],
        [model, "--input-npy", npy, "--layer", conv, "--channel", "1", "--start", "1,2,3",
         "--output", out],
        [model, "--input-npy", npy, "--layer", conv, "--channel", "1", "--lrn", "maybe",
         "--output", out],
        [model, "--input-npy", npy, "--layer", conv, "--top-channels", "4"],
        [model, "--input-npy", npy, "--layer", conv, "--grid", out],
        [model, "--input-npy", npy, "--class", "2", "--layer", conv, "--output", out],
        [model, "--input-npy", npy, "--mode", "gradcam", "--channel", "2", "--output", out],
        [model, "--input-npy", npy, "--layer", conv, "--channel", "-3", "--output", out],
        [model, npy, "--input-npy", npy, "--layer", conv, "--channel", "1", "--output", out],
        [model, "--input-npy", npy, "--layer", conv, "--channel", "1", "--output", out,
         "--no-such-option"],
    ]
    for args in usage:
        rc, _, err = run(*args)
        check(rc == 2, "usage error %r: exit %d (want 2)" % (args, rc))
        check(err.count("\n") == 1 and "convlens-cli" in err,
              "usage error %r: one line on stderr, got %r" % (args, err))
    check(not os.path.exists(out), "a usage error wrote the output")

    # -- runtime errors: exit 1, one line naming the problem
    rc, _, err = run(model, "--input-npy", npy, "--layer", "no-such-layer", "--channel", "0",
                     "--output", out)
    check(rc == 1, "unknown layer: exit %d" % rc)
    check("no-such-layer" in err and "/features/features.0/Conv" in err
          and "/classifier/classifier.3/Gemm" in err,
          "unknown layer: the message names it and lists the layers: %r" % err)
    rc, _, err = run(model, "--input-npy", npy, "--layer", conv, "--channel", "8",
                     "--output", out)
    check(rc == 1 and "0 to 7" in err, "channel out of range: exit %d, %r" % (rc, err))
    rc, _, err = run(model, "--input-npy", npy, "--layer", conv, "--channel", "0",
                     "--start", "40,3", "--output", out)
    check(rc == 1 and "40,3" in err, "position outside: exit %d, %r" % (rc, err))
    rc, _, err = run(model, "--input-npy", npy, "--class", "10", "--output", out)
    check(rc == 1 and "10" in err, "class out of range: exit %d, %r" % (rc, err))
    rc, _, err = run(os.path.join(tmp, "missing.onnx"), "--input-npy", npy, "--layer", conv,
                     "--channel", "0", "--output", out)
    check(rc == 1 and "missing.onnx" in err, "missing model: exit %d, %r" % (rc, err))
    rc, _, err = run(model, "--input-npy", npy, "--layer", conv, "--channel", "0",
                     "--output", os.path.join(tmp, "no-dir", "x.png"))
    check(rc == 1 and "no-dir" in err, "unwritable output: exit %d, %r" % (rc, err))
    check(not os.path.exists(out), "a failed run wrote the output")

    # -- channel projections: PNG of the input's size with its settings;
    #    --raw equals PyTorch's reference (one case of each start kind)
    for start in ("max", "map", "point"):
        case = next(c for c in cases if c["kind"] == "channel" and c["start"] == start
                    and c["lrn"] == "default" and c["value"].endswith("MaxPool_output_0"))
        start_arg = "%d,%d" % (case["x"], case["y"]) if start == "point" else start
        for f in (out, raw):
            if os.path.exists(f):
                os.unlink(f)
        rc, so, err = run(model, "--input-npy", npy, "--layer", case["value"], "--channel",
                          case["channel"], "--mode", case["mode"], "--start", start_arg,
                          "--output", out, "--raw", raw, "--threads", "1")
        check(rc == 0, "%s: exit %d, %r" % (case["file"], rc, err))
        if rc != 0:
            continue
        w, h, text = read_png(out)
        check((w, h) == (W, H), "%s: PNG %dx%d, input %dx%d" % (case["file"], w, h, W, H))
        want = {"model": "model.onnx", "layer": case["value"], "channel": str(case["channel"]),
                "mode": case["mode"], "start": start_arg}
        for k, v in want.items():
            check(text.get(k) == v, "%s: PNG text %s = %r, want %r" % (case["file"], k,
                                                                      text.get(k), v))
        ref = np.load(os.path.join(netdir, case["file"]))
        err_rel = range_error(np.load(raw), ref)
        check(err_rel <= 1e-4, "%s: --raw is %.3g of the range off PyTorch" % (case["file"],
                                                                            err_rel))
        if start == "max":
            check(text.get("start-position") == "%d,%d" % tuple(case["argmax"]),
                  "%s: start-position %r, PyTorch's argmax %r" % (
                      case["file"], text.get("start-position"), case["argmax"]))

    # -- the layer may be named by its node name too
    node = conv[:-len("_output_0")]
    rc, _, err = run(model, "--input-npy", npy, "--layer", node, "--channel", "0",
                     "--output", out)
    check(rc == 0, "layer by node name %r: exit %d, %r" % (node, rc, err))

    # -- class projection and Grad-CAM against the references
    case = next(c for c in cases if c["kind"] == "class")
    rc, _, err = run(model, "--input-npy", npy, "--class", case["class"], "--mode", case["mode"],
                     "--output", out, "--raw", raw)
    check(rc == 0, "class: exit %d, %r" % (rc, err))
    if rc == 0:
        check(range_error(np.load(raw), np.load(os.path.join(netdir, case["file"]))) <= 1e-4,
              "class %d: --raw differs from PyTorch" % case["class"])
        check(read_png(out)[2].get("class") == str(case["class"]), "class: PNG text")
    case = next(c for c in cases if c["kind"] == "gradcam")
    rc, _, err = run(model, "--input-npy", npy, "--mode", "gradcam", "--layer", case["value"],
                     "--class", case["class"], "--output", out, "--raw", raw)
    check(rc == 0, "gradcam: exit %d, %r" % (rc, err))
    if rc == 0:
        check(range_error(np.load(raw), np.load(os.path.join(netdir, case["file"]))) <= 1e-4,
              "gradcam: --raw differs from PyTorch")
        w, h, text = read_png(out)
        check((w, h) == (W, H) and text.get("mode") == "gradcam", "gradcam: PNG %dx%d %r"
              % (w, h, text))
    # default layer and class: the last conv block's output, the top class
    rc, so, err = run(model, "--input-npy", npy, "--mode", "gradcam", "--output", out)
    check(rc == 0 and "/features/features.5/Relu_output_0" in so,
          "gradcam defaults: exit %d, %r %r" % (rc, so, err))

    # -- an IMAGE input: the picture is resized to the model's input
    img = os.path.join(tmp, "picture.png")
    write_png(img, 100, 80)
    rc, _, err = run(model, img, "--layer", conv, "--channel", "2", "--mode", "guided",
                     "--output", out)
    check(rc == 0, "IMAGE input: exit %d, %r" % (rc, err))
    if rc == 0:
        w, h, _ = read_png(out)
        check((w, h) == (W, H), "IMAGE input: PNG %dx%d, model input %dx%d" % (w, h, W, H))

    # -- top channels: the N channels with the largest maximum activation,
    #    from the activations `predict --dump-npy` writes
    layer = next(c["value"] for c in cases if c["kind"] == "channel"
                 and c["value"].endswith("features.4/Conv_output_0"))
    dump = os.path.join(tmp, "act.npy")
    p = subprocess.run([CLI, "predict", model, "--input-npy", npy, "--dump-npy",
                        "%s=%s" % (layer, dump)], capture_output=True, text=True)
    check(p.returncode == 0, "predict --dump-npy: %r" % p.stderr)
    grid = os.path.join(tmp, "grid.png")
    rc, so, err = run(model, "--input-npy", npy, "--layer", layer, "--top-channels", "5",
                      "--grid", grid)
    check(rc == 0, "grid: exit %d, %r" % (rc, err))
    if rc == 0 and p.returncode == 0:
        act = np.load(dump)[0]
        peak = act.reshape(act.shape[0], -1).max(axis=1)
        want = sorted(range(len(peak)), key=lambda k: (-peak[k], k))[:5]
        w, h, text = read_png(grid)
        check(text.get("channels") == ",".join(map(str, want)),
              "grid: channels %r, want %r" % (text.get("channels"), want))
        check(w >= 3 * W and h >= 2 * H, "grid: %dx%d is too small for 3x2 tiles" % (w, h))
        # each tile (4 px apart, a label of 7 * scale + 8 px under each row)
        # is the picture of that channel projected on its own
        pixels = read_rgb(grid)
        label_h = 7 * min(max(W // 64, 1), 4) + 8
        for i, k in enumerate(want):
            rc, _, err = run(model, "--input-npy", npy, "--layer", layer, "--channel", str(k),
                             "--start", "max", "--output", out)
            check(rc == 0, "grid: single projection of channel %d: exit %d, %r" % (k, rc, err))
            if rc != 0:
                continue
            x0, y0 = 4 + (i % 3) * (W + 4), 4 + (i // 3) * (H + label_h)
            tile = pixels[y0:y0 + H, x0:x0 + W].astype(int)
            single = read_rgb(out).astype(int)
            check(tile.shape == single.shape and np.abs(tile - single).max() <= 1,
                  "grid: tile %d (channel %d) differs from the single projection" % (i, k))

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
