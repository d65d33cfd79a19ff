#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""convlens-cli topk / topk-merge / topk-render as programs.

    test-topk-cli.py CLI FIXTURES_DIR

FIXTURES_DIR is what make-analysis-fixtures.py wrote.  The expected top-k
lists are a brute-force sort (in this script) of every image's per-channel
maximum computed by PyTorch; shard merges and resumed scans must reproduce
the unsharded file byte for byte.  Prints TAP.
"""

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

RESULTS = []
TOL = 1e-4


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


def read(path):
    with open(path, "rb") as f:
        return f.read()


def brute_force(oracle, layer, limit, k=9):
    """Per channel: [(image, y, x, value)] best first, sorted by (value desc,
    image asc, position asc) over every image's maximum."""
    o = oracle[layer]
    n = min(limit, len(o["max"]))
    channels = len(o["max"][0])
    out = []
    for c in range(channels):
        cands = [(-o["max"][i][c], i, o["pos"][i][c][0], o["pos"][i][c][1]) for i in range(n)]
        cands.sort()
        out.append([(i, y, x, -v) for v, i, y, x in cands[:k]])
    return out


def compare_topk(result, oracle, layer, limit, what):
    """Our entries against the brute-force lists.  A position or image may
    differ from PyTorch's only where two values are within float noise."""
    o = oracle[layer]
    layers = {l["name"]: l for l in result["layers"]}
    ours = layers[layer]["top"]
    expected = brute_force(oracle, layer, limit)
    exact = 0
    ok = len(ours) == len(expected)
    for c, (mine, exp) in enumerate(zip(ours, expected)):
        if [e[0] for e in mine] == [e[0] for e in exp]:
            exact += 1
        if len(mine) != len(exp):
            ok = False
            continue
        kth = exp[-1][3]
        for rank, (entry, e) in enumerate(zip(mine, exp)):
            image, y, x, value = entry
            truth = o["max"][image][c]
            # our value is that image's true maximum ...
            ok &= abs(value - truth) <= TOL * (1 + abs(truth))
            # ... at a position holding it (or a near-tie) ...
            ok &= abs(value - e[3]) <= TOL * (1 + abs(e[3]))
            # ... and it belongs to the top k
            ok &= value >= kth - TOL * (1 + abs(kth))
            if e[0] == image:
                ok &= (y, x) == (e[1], e[2]) or abs(value - truth) <= TOL
    check(ok, "%s: %s top-9 equals the brute-force sort of PyTorch's maxima "
          "(%d/%d channels with identical image lists)" % (what, layer, exact, len(expected)))
    return ok


def read_png_size(path):
    data = read(path)
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    w, h = struct.unpack(">II", data[16:24])
    return w, h


def png_text(path):
    data = read(path)
    pos = 8
    text = {}
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if kind == b"tEXt":
            k, v = body.split(b"\0", 1)
            text[k.decode()] = v.decode()
        pos += 12 + n
    return text


def main():
    cli, fix = sys.argv[1], sys.argv[2]
    model = os.path.join(fix, "topk.onnx")
    oracle = json.load(open(os.path.join(fix, "topk-oracle.json")))
    tmp = tempfile.mkdtemp(prefix="topk-test-")
    layers = "conv1,relu2"

    # -- Fashion-MNIST: brute force, shards, resume -------------------------
    if "fashion-mnist" not in oracle:
        skip("fashion-mnist scans", "dataset-fashion-mnist is not installed")
    else:
        fm = oracle["fashion-mnist"]
        full = os.path.join(tmp, "full.json")
        rc, _, err = run(cli, "topk", model, "fashion-mnist:test", "--limit", 200,
                         "--layers", layers, "--output", full, "--batch", 32)
        if check(rc == 0, "topk over 200 Fashion-MNIST images exits 0 (%s)" % err.strip()[-200:]):
            result = json.load(open(full))
            check(result["complete"] and result["scanned"] == 200 and result["limit"] == 200
                  and result["k"] == 9 and result["shards"] == [0]
                  and result["shard_count"] == 1, "header: complete, 200 scanned, shard 0/1")
            check(result["dataset"]["n_images"] == 10000 and
                  result["model"]["size"] == os.path.getsize(model),
                  "header records the data set size and the model size")
            import hashlib
            check(result["model"]["sha256"] == hashlib.sha256(read(model)).hexdigest(),
                  "header records the model's SHA-256")
            check("progress" not in err and "images" in err, "progress is reported on stderr")
            for layer in ("conv1", "relu2"):
                compare_topk(result, fm, layer, 200, "fashion-mnist")

            # another batch size must not change a byte
            other = os.path.join(tmp, "batch7.json")
            rc, _, _ = run(cli, "topk", model, "fashion-mnist:test", "--limit", 200, "-q",
                           "--layers", layers, "--output", other, "--batch", 7)
            check(rc == 0 and read(other) == read(full),
                  "batch size 7 gives the byte-identical result")

            # 4 shards, merged in scrambled order
            shards = []
            for i in range(4):
                path = os.path.join(tmp, "shard%d.json" % i)
                rc, _, err = run(cli, "topk", model, "fashion-mnist:test", "--limit", 200, "-q",
                                 "--layers", layers, "--output", path, "--shard", "%d/4" % i)
                check(rc == 0 and json.load(open(path))["scanned"] == 50,
                      "shard %d/4 scans 50 images" % i)
                shards.append(path)
            merged = os.path.join(tmp, "merged.json")
            rc, _, err = run(cli, "topk-merge", merged, shards[2], shards[0], shards[3], shards[1])
            check(rc == 0 and read(merged) == read(full),
                  "merging the 4 shards gives the unsharded file byte for byte")
            part = os.path.join(tmp, "part.json")
            rc, _, _ = run(cli, "topk-merge", part, shards[1], shards[3])
            pj = json.load(open(part)) if rc == 0 else {}
            check(rc == 0 and pj.get("shards") == [1, 3] and pj.get("shard_count") == 4,
                  "a partial merge records shards [1, 3] of 4")
            rest = os.path.join(tmp, "rest.json")
            rc2, _, _ = run(cli, "topk-merge", rest, part, shards[0], shards[2])
            check(rc2 == 0 and read(rest) == read(full), "merging merges is exact too")
            rc, _, err = run(cli, "topk-merge", os.path.join(tmp, "dup.json"), shards[0], shards[0])
            check(rc == 1 and "more than once" in err, "a shard given twice is refused")
            other_k = os.path.join(tmp, "k5.json")
            run(cli, "topk", model, "fashion-mnist:test", "--limit", 200, "-q", "--k", 5,
                "--layers", layers, "--output", other_k, "--shard", "1/4")
            rc, _, err = run(cli, "topk-merge", os.path.join(tmp, "bad.json"), shards[0], other_k)
            check(rc == 1 and "not of the same scan" in err, "shards of different scans are refused")

            # interrupted and resumed
            res = os.path.join(tmp, "resume.json")
            rc, _, err = run(cli, "topk", model, "fashion-mnist:test", "--limit", 200, "-q",
                             "--layers", layers, "--output", res, "--batch", 32,
                             "--stop-after", 70)
            rj = json.load(open(res))
            check(rc == 1 and not rj["complete"] and rj["scanned"] == 96 and "--resume" in err,
                  "a stopped scan leaves a partial result (96 images = 3 batches)")
            rc, _, err = run(cli, "topk", model, "fashion-mnist:test", "--limit", 200, "-q",
                             "--layers", layers, "--output", res, "--batch", 32, "--resume")
            check(rc == 0 and read(res) == read(full),
                  "resuming it gives the uninterrupted result byte for byte")
            shutil.copy(os.path.join(tmp, "shard1.json"), os.path.join(tmp, "wrong.json"))
            rc, _, err = run(cli, "topk", model, "fashion-mnist:test", "--limit", 200, "-q",
                             "--layers", layers, "--output", os.path.join(tmp, "wrong.json"),
                             "--resume")
            check(rc == 1 and "shard" in err, "resuming another shard's file is refused")
            rc, _, err = run(cli, "topk", model, "fashion-mnist:test", "--limit", 200, "-q",
                             "--layers", "conv1", "--output", os.path.join(tmp, "wrong.json"),
                             "--resume", "--shard", "1/4")
            check(rc == 1 and "layers differ" in err, "resuming with other layers is refused")

            # SIGINT: the batch finishes, the partial result is saved
            sig = os.path.join(tmp, "sigint.json")
            p = subprocess.Popen([cli, "topk", model, "fashion-mnist:test", "--batch", "1", "-q",
                                  "--layers", layers, "--output", sig, "--checkpoint", "0"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(0.7)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=300)
            if p.returncode == 0:
                skip("SIGINT saves a partial result", "the scan finished before the signal")
            else:
                sj = json.load(open(sig))
                check(p.returncode == 1 and not sj["complete"] and 0 < sj["scanned"] < 10000,
                      "SIGINT stops the scan with a resumable partial result (%d images)"
                      % sj["scanned"])

            # GNU parallel: 4 shards, 2 jobs
            par = shutil.which("parallel")
            if par is None:
                skip("4 shards through GNU parallel -j 2",
                     "the 'parallel' command is missing (Debian package parallel)")
            else:
                pdir = os.path.join(tmp, "par")
                os.makedirs(pdir)
                cmd = [par, "--will-cite", "-j", "2", "--halt", "now,fail=1", cli, "topk", model,
                       "fashion-mnist:test", "--limit", "200", "-q", "--layers", layers,
                       "--shard", "{}/4", "--output", os.path.join(pdir, "part-{}.json"),
                       ":::", "0", "1", "2", "3"]
                p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, timeout=600)
                pm = os.path.join(pdir, "merged.json")
                rc, _, _ = run(cli, "topk-merge", pm,
                               *[os.path.join(pdir, "part-%d.json" % i) for i in range(4)])
                check(p.returncode == 0 and rc == 0 and read(pm) == read(full),
                      "4 shards run by GNU parallel -j 2 merge to the unsharded result")

            # Fig. 2
            png = os.path.join(tmp, "fig2.png")
            rc, _, err = run(cli, "topk-render", full, "--layer", "relu2", "--channels", "0-3",
                             "--output", png)
            size = read_png_size(png) if rc == 0 else None
            # relu2's receptive field is 8x8 -> cells of 48 px (scale 6); a
            # channel block is 2 * (3*48 + 2*2) + 6 = 302 by 148; 2x2 blocks
            # with 14 px gaps: 3*14 + 2*302 = 646 by 3*14 + 2*148 = 338
            check(size == (646, 338), "topk-render writes a 646x338 PNG (got %s; %s)"
                  % (size, err.strip()[-200:]))
            if size:
                t = png_text(png)
                check(t.get("convlens:layer") == "relu2" and t.get("convlens:channels") == "0-3",
                      "the PNG records layer and channels")
            rc, _, err = run(cli, "topk-render", full, "--layer", "nope", "--output", png)
            check(rc == 2 and "nope" in err, "an unknown layer is a usage error")

    # -- a folder of PNGs ------------------------------------------------------
    folder = os.path.join(fix, "folder")
    ff = os.path.join(tmp, "folder.json")
    rc, _, err = run(cli, "topk", model, folder, "--layers", layers, "--output", ff, "-q")
    if check(rc == 0, "topk over a nested PNG folder exits 0 (%s)" % err.strip()[-200:]):
        fj = json.load(open(ff))
        check(fj["dataset"]["kind"] == "folder" and fj["dataset"]["n_images"] == 37,
              "the folder has 37 images")
        for layer in ("conv1", "relu2"):
            compare_topk(fj, oracle["folder"], layer, 37, "folder")
        parts = []
        for i in range(3):
            path = os.path.join(tmp, "fshard%d.json" % i)
            rc, _, _ = run(cli, "topk", model, folder, "--layers", layers, "--output", path,
                           "-q", "--shard", "%d/3" % i)
            parts.append(path)
        fm_ = os.path.join(tmp, "fmerged.json")
        rc, _, _ = run(cli, "topk-merge", fm_, *parts)
        check(rc == 0 and read(fm_) == read(ff), "3 folder shards (13+12+12 images) merge exactly")

    # -- errors ------------------------------------------------------------------
    rc, _, err = run(cli, "topk", model, folder, "--layers", "nope", "--output",
                     os.path.join(tmp, "x.json"))
    check(rc == 1 and "nope" in err, "an unknown layer is an error naming it")
    rc, _, err = run(cli, "topk", model, folder, "--layers", layers, "--output",
                     os.path.join(tmp, "x.json"), "--shard", "4/4")
    check(rc == 2 and "--shard" in err, "--shard 4/4 is a usage error")
    rc, _, err = run(cli, "topk", model, os.path.join(tmp, "missing"), "--layers", layers,
                     "--output", os.path.join(tmp, "x.json"))
    check(rc == 1 and "missing" in err, "a missing data set is an error naming it")
    bad = os.path.join(tmp, "bad-file.json")
    with open(bad, "w") as f:
        f.write('{"format": "convlens-topk", "version": 1}')
    rc, _, err = run(cli, "topk-merge", os.path.join(tmp, "y.json"), bad)
    check(rc == 1 and "bad-file.json" in err, "a broken result file is an error naming it")

    shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % len(RESULTS))
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
