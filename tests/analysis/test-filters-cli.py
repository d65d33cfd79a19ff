#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""convlens-cli filters on a hand-made conv1.

    test-filters-cli.py CLI FIXTURES_DIR

filters.onnx (from make-analysis-fixtures.py) has six 3x7x7 filters: 0 all
zero (dead), 1 a checkerboard (high frequency), 2 a smooth Gaussian (low
frequency, carries most of the activation energy), 3 random and strong
(dominates the weights), 4 random with bias -100 (dead), 5 a weak ramp.
Expected numbers come from numpy (RMS, FFT) and PyTorch (activations) in
filters-oracle.json, and from the weights read here with onnx.  Prints TAP.
"""

import json
import os
import subprocess
import sys
import tempfile

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
    return len(a) == len(b) and all(abs(x - y) <= atol + rtol * abs(y) for x, y in zip(a, b))


def main():
    cli, fix = sys.argv[1], sys.argv[2]
    model = os.path.join(fix, "filters.onnx")
    folder = os.path.join(fix, "filters-folder")
    oracle = json.load(open(os.path.join(fix, "filters-oracle.json")))
    tmp = tempfile.mkdtemp(prefix="filters-test-")
    png = os.path.join(tmp, "filters.png")

    # weights only
    rc, out, err = run(cli, "filters", model, "--json")
    if check(rc == 0, "filters MODEL --json exits 0 (%s)" % err.strip()[-200:]):
        j = json.loads(out)
        check(j["layer"] == "conv1" and j["filters"] == 6 and j["kernel"] == [3, 7, 7],
              "finds conv1 with six 3x7x7 filters")
        check(close(j["rms"], oracle["rms"], 1e-6, 1e-9), "RMS per filter equals numpy's")
        check(close(j["weight_share"], oracle["weight_share"], 1e-6, 1e-9),
              "weight energy shares equal numpy's")
        check(close(j["high_frequency_share"], oracle["high_share"], 1e-6, 1e-9),
              "high-frequency shares equal numpy's FFT (%s)"
              % ", ".join("%.3f" % v for v in j["high_frequency_share"]))
        hs = j["high_frequency_share"]
        check(hs[0] == 0 and hs[1] > 0.9 and hs[2] < 0.01,
              "checkerboard is high frequency, the Gaussian low, the zero filter 0")
        check(j["images"] == 0 and "dead" not in j, "no data set: no dead filters reported")
        expected = [i for i, s in enumerate(oracle["weight_share"]) if s > 3.0 / 6]
        check(j["dominance_basis"] == "weight_share" and j["dominating"] == expected == [3],
              "without a data set the strong random filter 3 dominates the weights")

    # with the data set
    rc, out, err = run(cli, "filters", model, "--dataset", folder, "--json", "--output", png)
    if check(rc == 0, "filters MODEL --dataset --output --json exits 0 (%s)"
             % err.strip()[-200:]):
        j = json.loads(out)
        check(j["images"] == 12, "scans the 12 images")
        check(close(j["max"], oracle["max"], 1e-4, 1e-4), "maximum outputs equal PyTorch's")
        pf = j["positive_fraction"]
        check(all(lo <= v <= hi for v, lo, hi in zip(pf, oracle["positive_fraction_lo"],
                                                      oracle["positive_fraction_hi"])),
              "positive fractions lie within PyTorch's (up to outputs within 1e-4 of 0)")
        check(close(j["energy_share"], oracle["energy_share"], 1e-4, 1e-6),
              "activation energy shares equal PyTorch's")
        expected_dead = [i for i, m in enumerate(oracle["max"]) if m <= 0]
        check(j["dead"] == expected_dead == [0, 4], "filters 0 (zero) and 4 (bias -100) are dead")
        expected = [i for i, s in enumerate(oracle["energy_share"]) if s > 3.0 / 6]
        check(j["dominance_basis"] == "energy_share" and j["dominating"] == expected == [2],
              "with the data set the Gaussian filter 2 dominates the activation energy")

        from PIL import Image
        import numpy as np
        from onnx import numpy_helper
        import onnx
        img = np.asarray(Image.open(png).convert("RGB"))
        # 64 // 7 = 9 px per weight: tiles 63 px, cells 65 x 77, 3 x 2 cells, 8 px gaps
        check(img.shape == (178, 227, 3), "the PNG is 227x178 (got %s)" % (img.shape,))
        w = {t.name: numpy_helper.to_array(t) for t in onnx.load(model).graph.initializer}["w"]
        f = w[2].astype(np.float64)
        lo, hi = f.min(), f.max()
        ox, oy = 8 + 2 * (65 + 8), 8
        ok = True
        for wy, wx in [(3, 3), (0, 0), (1, 5)]:
            px = img[oy + 1 + wy * 9 + 4, ox + 1 + wx * 9 + 4]
            exp = [round((f[c, wy, wx] - lo) / (hi - lo) * 255) for c in range(3)]
            ok &= all(abs(int(a) - b) <= 1 for a, b in zip(px, exp))
        check(ok, "tile 2 shows its weights scaled to its own min..max as RGB")
        check(tuple(img[8, 8]) == (220, 40, 40) and tuple(img[oy, ox]) == (240, 160, 20),
              "dead filter 0 is framed red, dominating filter 2 orange")

    rc, _, err = run(cli, "filters", model, "--layer", "relu1")
    check(rc == 2 and "relu1" in err, "a layer that is not a Conv is a usage error")
    rc, _, err = run(cli, "filters", model, "--dataset", os.path.join(tmp, "none"))
    check(rc == 1 and "none" in err, "a missing data set is an error naming it")

    print("1..%d" % len(RESULTS))
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
