#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Models, images and oracles for the dataset-analysis tests.

    make-analysis-fixtures.py OUT_DIR [--stamp FILE]
    make-analysis-fixtures.py --check      (exit 0 if numpy/torch/onnx exist)

Writes to OUT_DIR:
  topk.onnx        conv1(1->4,3x3,pad 1) relu1 pool1(2x2) conv2(4->6,3x3) relu2
                   gap flatten fc(6->10), random weights (seeded), built with
                   onnx.helper; input [1,1,28,28]
  topk-oracle.json for the first 200 Fashion-MNIST test images (when the
                   data set is installed) and for the PNG folder below: every
                   image's maximum and its first arg-max position per channel
                   of conv1 and relu2, computed with PyTorch's functional ops
  folder/          37 gray 28x28 PNGs in nested sub-folders
  filters.onnx     conv1 with hand-made 3x7x7 filters (see FILTERS below) +
                   relu + gap + flatten, input [1,3,16,16]
  filters-oracle.json  RMS, spectral share above half Nyquist (numpy FFT),
                   positive/dead and activation energy over filters-folder/
  filters-folder/  12 colour 16x16 PNGs
"""

import gzip
import json
import os
import sys

FASHION = "/usr/share/datasets/fashion-mnist"
N_FASHION = 200


def _imports():
    import numpy
    import onnx
    import torch
    return numpy, onnx, torch


def make_topk_model(np, onnx, rng):
    from onnx import helper, numpy_helper, TensorProto
    w1 = rng.normal(0, 0.6, (4, 1, 3, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, (4,)).astype(np.float32)
    w2 = rng.normal(0, 0.3, (6, 4, 3, 3)).astype(np.float32)
    b2 = rng.normal(0, 0.1, (6,)).astype(np.float32)
    wf = rng.normal(0, 0.3, (10, 6)).astype(np.float32)
    bf = np.zeros(10, np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             [(w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"), (wf, "wf"), (bf, "bf")]]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1],
                         kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="conv2", kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(nodes, "topk-test",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                             [1, 1, 28, 28])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    return model, (w1, b1, w2, b2)


def topk_activations(torch, params, x):
    """conv1 and relu2 of the topk model, x [N,1,28,28] float32."""
    F = torch.nn.functional
    w1, b1, w2, b2 = [torch.from_numpy(a) for a in params]
    x = torch.from_numpy(x)
    c1 = F.conv2d(x, w1, b1, padding=1)
    r2 = F.relu(F.conv2d(F.max_pool2d(F.relu(c1), 2, 2), w2, b2))
    return {"conv1": c1, "relu2": r2}


def per_image_max(torch, acts):
    """{layer: {"max": [N][C], "pos": [N][C] = [y, x], "width": W}}"""
    out = {}
    for name, a in acts.items():
        n, c, h, w = a.shape
        flat = a.reshape(n, c, h * w)
        # torch.max returns the first index of the maximum
        vals, idx = flat.max(dim=2)
        out[name] = {"max": vals.tolist(), "pos": [[[int(i) // w, int(i) % w] for i in row]
                                                    for row in idx.tolist()],
                     "height": h, "width": w}
    return out


def read_idx_images(np, path, n):
    with gzip.open(path, "rb") as f:
        data = f.read()
    count, rows, cols = (int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    assert data[2] == 8 and data[3] == 3
    px = np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols)
    return px[:n]


def write_gray_png(path, img):
    from PIL import Image
    Image.fromarray(img, mode="L").save(path)


def write_rgb_png(path, img):
    from PIL import Image
    Image.fromarray(img, mode="RGB").save(path)


# -- filters -----------------------------------------------------------------

FILTER_SIZE = 7
FILTER_IN = 16


def make_filters(np):
    k = FILTER_SIZE
    yy, xx = np.mgrid[0:k, 0:k].astype(np.float32)
    c = (k - 1) / 2
    gauss = np.exp(-((yy - c) ** 2 + (xx - c) ** 2) / (2 * 1.5 ** 2)).astype(np.float32)
    checker = np.where((yy + xx) % 2 == 0, 1.0, -1.0).astype(np.float32)
    rng = np.random.default_rng(7)
    f = np.zeros((6, 3, k, k), np.float32)
    bias = np.zeros(6, np.float32)
    # 0: all zero -> dead, RMS 0, no spectrum
    # 1: checkerboard (high frequency), scaled
    f[1] = 0.5 * checker
    # 2: smooth Gaussian blob, colour-tinted (low frequency)
    f[2, 0] = 0.3 * gauss
    f[2, 1] = 0.2 * gauss
    f[2, 2] = 0.1 * gauss
    # 3: random, strong: carries most of the activation energy
    f[3] = rng.normal(0, 1.0, (3, k, k)).astype(np.float32)
    # 4: random weights but a bias that keeps it below zero -> dead
    f[4] = rng.normal(0, 0.05, (3, k, k)).astype(np.float32)
    bias[4] = -100.0
    # 5: a weak horizontal ramp
    f[5] = 0.02 * (xx - c)[None, :, :] / c
    return f, bias


def make_filters_model(np, onnx, f, bias):
    from onnx import helper, numpy_helper, TensorProto
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c1"], name="conv1",
                         kernel_shape=[FILTER_SIZE, FILTER_SIZE], pads=[3, 3, 3, 3]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("GlobalAveragePool", ["r1"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["y"], name="flatten"),
    ]
    graph = helper.make_graph(nodes, "filters-test",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                             [1, 3, FILTER_IN, FILTER_IN])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])],
                              [numpy_helper.from_array(f, "w"), numpy_helper.from_array(bias, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    return model


def high_frequency_share(np, w):
    """Share of the spectral energy (2-D DFT per input channel, summed) at
    radial frequency above half the Nyquist frequency (0.25 cycles/pixel)."""
    kh, kw = w.shape[-2:]
    fy = np.fft.fftfreq(kh)[:, None]
    fx = np.fft.fftfreq(kw)[None, :]
    high = np.sqrt(fy ** 2 + fx ** 2) > 0.25
    energy = np.abs(np.fft.fft2(w.astype(np.float64))) ** 2
    total = energy.sum()
    return float(energy[..., high].sum() / total) if total > 0 else 0.0


def main():
    if sys.argv[1:] == ["--check"]:
        try:
            _imports()
            import PIL  # noqa: F401
        except ImportError:
            sys.exit(1)
        sys.exit(0)
    np, onnx, torch = _imports()
    out = sys.argv[1]
    stamp = sys.argv[sys.argv.index("--stamp") + 1] if "--stamp" in sys.argv else None
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(2014)

    model, params = make_topk_model(np, onnx, rng)
    onnx.save(model, os.path.join(out, "topk.onnx"))
    oracle = {}

    idx = os.path.join(FASHION, "t10k-images-idx3-ubyte.gz")
    if os.path.exists(idx):
        px = read_idx_images(np, idx, N_FASHION)
        x = (px.astype(np.float32) / np.float32(255.0))[:, None, :, :]
        oracle["fashion-mnist"] = per_image_max(torch, topk_activations(torch, params, x))

    folder = os.path.join(out, "folder")
    names = []
    frng = np.random.default_rng(99)
    for i in range(37):
        sub = ["a", "b/c", "b", "d"][i % 4]
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
        name = os.path.join(sub, "img%02d.png" % i)
        img = frng.integers(0, 256, (28, 28), dtype=np.uint8)
        if i % 5 == 0:
            img[:] = 128  # flat images give ties
        write_gray_png(os.path.join(folder, name), img)
        names.append(name)
    names.sort()
    imgs = []
    from PIL import Image
    for name in names:
        imgs.append(np.asarray(Image.open(os.path.join(folder, name)), np.uint8))
    x = (np.stack(imgs).astype(np.float32) / np.float32(255.0))[:, None, :, :]
    oracle["folder"] = per_image_max(torch, topk_activations(torch, params, x))
    oracle["folder"]["names"] = names
    with open(os.path.join(out, "topk-oracle.json"), "w") as f:
        json.dump(oracle, f)

    # filters
    f, bias = make_filters(np)
    onnx.save(make_filters_model(np, onnx, f, bias), os.path.join(out, "filters.onnx"))
    ffolder = os.path.join(out, "filters-folder")
    os.makedirs(ffolder, exist_ok=True)
    imgs = []
    for i in range(12):
        img = frng.integers(0, 256, (FILTER_IN, FILTER_IN, 3), dtype=np.uint8)
        write_rgb_png(os.path.join(ffolder, "f%02d.png" % i), img)
        imgs.append(img)
    # the profile guessed for a 3x16x16 input: scale 1, mean 0, std 1
    x = torch.from_numpy((np.stack(imgs).astype(np.float32) / np.float32(255.0))
                         .transpose(0, 3, 1, 2).copy())
    conv = torch.nn.functional.conv2d(x, torch.from_numpy(f), torch.from_numpy(bias),
                                      padding=3).double()
    pos = torch.clamp(conv, min=0)
    energy = (pos ** 2).sum(dim=(0, 2, 3))
    filt = {
        "rms": [float(np.sqrt(np.mean(f[i].astype(np.float64) ** 2))) for i in range(6)],
        "high_share": [high_frequency_share(np, f[i]) for i in range(6)],
        "max": conv.amax(dim=(0, 2, 3)).tolist(),
        "positive_fraction": (conv > 0).double().mean(dim=(0, 2, 3)).tolist(),
        # outputs within float noise of 0 may fall either way
        "positive_fraction_lo": (conv > 1e-4).double().mean(dim=(0, 2, 3)).tolist(),
        "positive_fraction_hi": (conv > -1e-4).double().mean(dim=(0, 2, 3)).tolist(),
        "weight_share": [float((f[i].astype(np.float64) ** 2).sum() /
                               (f.astype(np.float64) ** 2).sum()) for i in range(6)],
        "energy_share": (energy / energy.sum()).tolist(),
    }
    with open(os.path.join(out, "filters-oracle.json"), "w") as fo:
        json.dump(filt, fo)

    if stamp:
        with open(stamp, "w") as fs:
            fs.write("ok\n")


if __name__ == "__main__":
    main()
