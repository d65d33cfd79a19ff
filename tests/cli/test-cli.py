#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of convlens-cli as a program: exit codes, --help, error messages
and the JSON it prints.

    test-cli.py CLI CASE [--light DIR]

Expected values never come from convlens-cli itself: layer counts, shapes
and parameter totals come from the onnx package (the graph, its
initializers and onnx.shape_inference), class probabilities and
activations from PyTorch running the same tiny network, the input of the
light zoo models from their README (uniform output 0.001).

The tiny network is built and exported with torch.onnx.export into a fresh
temporary folder by every case (seeded, so always the same weights).
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import warnings

warnings.filterwarnings("ignore")

import numpy as np

FAILURES = []


def check(condition, what):
    if condition:
        print("ok   " + what)
    else:
        print("FAIL " + what)
        FAILURES.append(what)
    return condition


class Cli:
    def __init__(self, path):
        self.path = path

    def run(self, *args, timeout=300):
        proc = subprocess.run([self.path] + [str(a) for a in args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout, text=True)
        return proc.returncode, proc.stdout, proc.stderr

    def json(self, *args):
        code, out, err = self.run(*args)
        if code != 0:
            print("  stderr: " + err.strip())
            return None
        try:
            return json.loads(out)
        except ValueError as e:
            print("  not JSON (%s): %r" % (e, out[:300]))
            return None


def expect_error(cli, args, code, mention=None):
    """The command exits with code and prints one line on stderr, starting
    with the program name (and naming `mention` when given)."""
    rc, out, err = cli.run(*args)
    lines = err.strip().splitlines()
    label = "convlens-cli " + " ".join(str(a) for a in args)
    ok = check(rc == code, "%s -> exit %d (got %d)" % (label, code, rc))
    ok &= check(len(lines) == 1 and lines[0].startswith("convlens-cli"),
                "%s -> one stderr line naming the program (got %r)" % (label, err.strip()))
    if mention is not None:
        ok &= check(mention in err, "%s -> stderr mentions %r" % (label, mention))
    for bad in ("CRITICAL", "WARNING", "assertion", "Aborted"):
        ok &= check(bad not in err, "%s -> no %s on stderr" % (label, bad))
    return ok


# --- fixtures ---------------------------------------------------------------

def make_tiny(folder):
    """A small CNN (conv, grouped conv, relu, maxpool, global pool, dense)
    with seeded random weights, exported to ONNX opset 11.  Returns
    (onnx path, torch module, name of the grouped conv node)."""
    import torch
    import torch.nn as nn

    torch.manual_seed(20140912)

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.conv2 = nn.Conv2d(8, 16, 3, padding=1, groups=2)
            self.gap = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(16, 10)

        def forward(self, x):
            x = self.pool(torch.relu(self.conv1(x)))
            x = torch.relu(self.conv2(x))
            return self.fc(torch.flatten(self.gap(x), 1))

    net = Tiny().eval()
    path = os.path.join(folder, "tiny.onnx")
    torch.onnx.export(net, torch.zeros(1, 3, 32, 32), path, opset_version=11,
                      input_names=["input"], output_names=["logits"],
                      do_constant_folding=True)
    return path, net


def tiny_reference(net, x):
    """PyTorch's softmax probabilities and the grouped conv's output."""
    import torch

    with torch.no_grad():
        t = torch.from_numpy(x)
        conv2 = net.conv2(net.pool(torch.relu(net.conv1(t))))
        logits = net(t)
        prob = torch.softmax(logits.double(), dim=1)
    return prob.numpy()[0], conv2.numpy()


def onnx_node_for(model, op_type, index=0):
    nodes = [n for n in model.graph.node if n.op_type == op_type]
    return nodes[index]


def write_png(path, rgb):
    """An 8-bit RGB PNG from an HxWx3 uint8 array (zlib + CRC, no imaging
    library needed)."""
    height, width, _ = rgb.shape

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw)))
        f.write(chunk(b"IEND", b""))


def seeded_input(shape, seed=7):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# --- cases ------------------------------------------------------------------

def case_exit_codes(cli, tmp, light):
    rc, out, err = cli.run("--version")
    check(rc == 0 and out.startswith("convlens-cli "), "--version -> 0 and the version")

    rc, out, err = cli.run("--help")
    check(rc == 0 and "info" in out and "predict" in out and "bench" in out,
          "--help -> 0 and lists the commands")
    rc, out, err = cli.run("help")
    check(rc == 0 and "predict" in out, "help -> 0")
    for verb in ("info", "predict", "bench"):
        rc, out, err = cli.run(verb, "--help")
        check(rc == 0 and "Usage" in out and "--threads" in out,
              "%s --help -> 0 with usage and --threads" % verb)
        rc, out2, err = cli.run("help", verb)
        check(rc == 0 and out2 == out, "help %s -> same text as %s --help" % (verb, verb))

    rc, out, err = cli.run()
    check(rc == 2, "no arguments -> 2")
    expect_error(cli, ["frobnicate"], 2, "frobnicate")
    expect_error(cli, ["help", "frobnicate"], 2, "frobnicate")
    expect_error(cli, ["--bogus"], 2)
    expect_error(cli, ["--threads", "-1", "info", "x.onnx"], 2)

    model, _ = make_tiny(tmp)
    missing = os.path.join(tmp, "missing.onnx")
    garbage = os.path.join(tmp, "garbage.onnx")
    with open(garbage, "wb") as f:
        f.write(b"this is not a protobuf \xff\xff\xff\xff\x01\x02")
    truncated = os.path.join(tmp, "truncated.onnx")
    with open(model, "rb") as f:
        data = f.read()
    with open(truncated, "wb") as f:
        f.write(data[: len(data) // 2])
    x = seeded_input((1, 3, 32, 32))
    npy = os.path.join(tmp, "x.npy")
    np.save(npy, x)
    wrong = os.path.join(tmp, "wrong.npy")
    np.save(wrong, seeded_input((1, 3, 16, 16)))
    notnpy = os.path.join(tmp, "not.npy")
    with open(notnpy, "wb") as f:
        f.write(b"hello")

    for verb in ("info", "predict", "bench"):
        expect_error(cli, [verb, "--bogus", model], 2, "--bogus")
        expect_error(cli, [verb], 2, "MODEL")
        expect_error(cli, [verb, model, "--threads", "abc"], 2)
        expect_error(cli, [verb, model, "--threads", "-3"], 2)
        expect_error(cli, [verb, model, "--input-size", "0x5"], 2)

    extra = ["--input-npy", npy]
    for bad in (missing, garbage, truncated):
        expect_error(cli, ["info", bad], 1, bad)
        expect_error(cli, ["predict", bad] + extra, 1, bad)
        expect_error(cli, ["bench", bad, "--runs", "1"], 1, bad)

    expect_error(cli, ["info", model, "extra"], 2)
    expect_error(cli, ["predict", model], 2, "IMAGE")
    expect_error(cli, ["predict", model, "a.png"] + extra, 2)
    expect_error(cli, ["predict", model, "a.png", "b.png"], 2)
    expect_error(cli, ["predict", model, "--top", "0"] + extra, 2)
    expect_error(cli, ["predict", model, "--dump-npy", "no-equals-sign"] + extra, 2)
    expect_error(cli, ["predict", model, "--dump-npy", "no_such_layer=" + tmp + "/d.npy"]
                 + extra, 1, "no_such_layer")
    expect_error(cli, ["predict", model, "--dump-npy",
                       "input=" + os.path.join(tmp, "no", "such", "dir.npy")] + extra, 1)
    expect_error(cli, ["predict", model, "--input-npy", wrong], 1, "1x3x16x16")
    expect_error(cli, ["predict", model, "--input-npy", notnpy], 1, notnpy)
    expect_error(cli, ["predict", model, "--input-npy", os.path.join(tmp, "nope.npy")], 1)
    expect_error(cli, ["predict", model, os.path.join(tmp, "nope.png")], 1, "nope.png")
    expect_error(cli, ["predict", model, garbage], 1, garbage)
    expect_error(cli, ["predict", model, "--profile", os.path.join(tmp, "nope.json")] + extra,
                 1, "nope.json")
    expect_error(cli, ["bench", model, "--runs", "0"], 2, "--runs")
    expect_error(cli, ["bench", model, "--warmup", "-1"], 2, "--warmup")
    out_dir = os.path.join(tmp, "train-out")
    for widths in ("48,96", "48,96,192,384", "48,x,192", "0,96,192", "48,96,5000"):
        expect_error(cli, ["train", "--dataset", "fashion-mnist", "--output", out_dir,
                           "--widths", widths], 2, "--widths")
    expect_error(cli, ["train", "--dataset", "fashion-mnist", "--output", out_dir,
                       "--fc-units", "9000"], 2, "--fc-units")
    expect_error(cli, ["train", "--dataset", "fashion-mnist", "--output", out_dir,
                       "--fc-units", "-1"], 2, "--fc-units")
    check(not os.path.exists(out_dir), "rejected train options create no output folder")


def case_info(cli, tmp, light):
    import onnx
    import onnx.shape_inference

    model_path, net = make_tiny(tmp)
    model = onnx.load(model_path)
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]

    info = cli.json("info", model_path, "--json")
    if not check(info is not None, "info --json parses"):
        return
    for key in ("model", "input", "layers", "total_params", "total_flops"):
        check(key in info, "info --json has %r" % key)

    nodes = [n for n in model.graph.node if n.op_type not in ("Constant",)]
    layers = info["layers"]
    check(len(layers) == len(nodes),
          "layer count %d == ONNX node count %d" % (len(layers), len(nodes)))
    n_params = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    n_torch = sum(p.numel() for p in net.parameters())
    check(n_params == n_torch, "initializers hold the torch parameters (%d)" % n_torch)
    check(info["total_params"] == n_params,
          "total_params %s == initializer count %d" % (info["total_params"], n_params))
    check(sum(l["params"] for l in layers) == info["total_params"],
          "layer params sum to total_params")
    check(sum(l["flops"] for l in layers) == info["total_flops"],
          "layer flops sum to total_flops")
    check(info["input"]["name"] == "input" and info["input"]["shape"] == [1, 3, 32, 32],
          "input name and shape (got %r)" % info["input"])

    by_name = {n.name: n for n in nodes}
    by_output = {n.output[0]: n for n in nodes}
    for layer in layers:
        node = by_name.get(layer["name"]) or by_output.get(layer["name"])
        if not check(node is not None, "layer %r is an ONNX node" % layer["name"]):
            continue
        check(layer["op"] == node.op_type, "layer %r op %s" % (layer["name"], node.op_type))
        check(layer["output_shape"] == shapes.get(node.output[0]),
              "layer %r shape %r == ONNX inferred %r"
              % (layer["name"], layer["output_shape"], shapes.get(node.output[0])))
        if node.op_type == "Conv":
            w = next(t for t in model.graph.initializer if t.name == node.input[1])
            b = next(t for t in model.graph.initializer if t.name == node.input[2])
            want = int(np.prod(w.dims)) + int(np.prod(b.dims))
            check(layer["params"] == want, "conv %r params %d" % (layer["name"], want))

    # Grouped 3x3 conv: 2 * (8/2 * 3 * 3) MACs per output element, batch 1.
    conv2 = [l for l in layers if l["op"] == "Conv"][1]
    macs = 16 * 16 * 16 * (8 // 2) * 3 * 3
    check(conv2["flops"] >= 2 * macs, "grouped conv FLOPs >= 2 x MACs (%d)" % (2 * macs))

    # A model whose H and W are dynamic needs --input-size; the shapes then
    # follow it (by hand: pad-1 3x3 convs keep HxW, the 2x2 pool halves it).
    import torch

    dyn = os.path.join(tmp, "dyn.onnx")
    torch.onnx.export(net, torch.zeros(1, 3, 32, 32), dyn, opset_version=11,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch", 2: "h", 3: "w"}})
    expect_error(cli, ["info", dyn], 1, "--input-size")
    sized = cli.json("info", dyn, "--input-size", "40x48", "--json")
    if check(sized is not None, "info --input-size 40x48 --json parses"):
        got = [l["output_shape"] for l in sized["layers"]]
        want = [[1, 8, 40, 48], [1, 8, 40, 48], [1, 8, 20, 24], [1, 16, 20, 24],
                [1, 16, 20, 24], [1, 16, 1, 1], [1, 16], [1, 10]]
        check(got == want, "--input-size 40x48 shapes %r" % got)
        check(sized["input"]["shape"] == [1, 3, 40, 48], "--input-size 40x48 input shape")

    rc, out, err = cli.run("info", model_path)
    check(rc == 0, "info (table) -> 0")
    check(all(l["name"] in out for l in layers), "the table names every layer")
    check(str(n_params) in out, "the table shows the parameter total")


def case_light(cli, tmp, light):
    """The light zoo models (weights are ConstantOfShape nodes)."""
    import onnx
    import onnx.numpy_helper

    names = sorted(f for f in os.listdir(light) if f.endswith(".onnx"))
    check(len(names) == 9, "nine light models in %s" % light)
    for name in names:
        path = os.path.join(light, name)
        model = onnx.load(path)
        init = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
        # Parameters: every float constant some node reads, i.e. the
        # outputs of ConstantOfShape (numel = product of its shape operand)
        # and float initializers.  Int64 shape operands are not
        # parameters, nor is an initializer that no node reads.
        sizes = {}
        for node in model.graph.node:
            if node.op_type == "ConstantOfShape":
                sizes[node.output[0]] = int(np.prod(init[node.input[0]]))
        for key, a in init.items():
            if a.dtype == np.float32:
                sizes[key] = int(a.size)
        read = set(i for node in model.graph.node for i in node.input)
        n_params = sum(n for key, n in sizes.items() if key in read)

        info = cli.json("info", path, "--json")
        if not check(info is not None, "%s: info --json parses" % name):
            continue
        check(info["total_params"] == n_params,
              "%s: total_params %d == ONNX float constants %d"
              % (name, info["total_params"], n_params))
        check(info["input"]["shape"] == [1, 3, 224, 224], "%s: input 1x3x224x224" % name)

    # A model ending in Softmax: its output is already a distribution, so
    # predict must not apply softmax again (uniform 0.001, README).
    path = os.path.join(light, "light_bvlc_alexnet.onnx")
    x = (np.arange(3 * 224 * 224, dtype=np.float32) / (3 * 224 * 224)).reshape(1, 3, 224, 224)
    npy = os.path.join(tmp, "arange.npy")
    np.save(npy, x)
    result = cli.json("predict", path, "--input-npy", npy, "--top", "4", "--json")
    if check(result is not None, "light alexnet: predict --json parses"):
        probs = [e["probability"] for e in result["top"]]
        check(len(probs) == 4, "light alexnet: 4 entries")
        check(all(abs(p - 0.001) < 1e-6 for p in probs), "light alexnet: p == 0.001 (%r)" % probs)
        check(result.get("softmax_applied") is False, "light alexnet: softmax not re-applied")


def case_predict(cli, tmp, light):
    model, net = make_tiny(tmp)
    x = seeded_input((1, 3, 32, 32))
    npy = os.path.join(tmp, "x.npy")
    np.save(npy, x)
    prob, _ = tiny_reference(net, x)
    order = np.argsort(-prob, kind="stable")

    result = cli.json("predict", model, "--input-npy", npy, "--top", "3", "--json")
    if not check(result is not None, "predict --json parses"):
        return
    check(result.get("input") == npy and result.get("model") == model,
          "predict --json names model and input")
    top = result["top"]
    check(len(top) == 3, "--top 3 gives 3 entries")
    probs = [e["probability"] for e in top]
    check(all(a >= b for a, b in zip(probs, probs[1:])), "probabilities descend (%r)" % probs)
    check(sum(probs) <= 1.0 + 1e-9, "top probabilities sum <= 1")
    check([e["class"] for e in top] == [int(k) for k in order[:3]],
          "classes %r == PyTorch's %r" % ([e["class"] for e in top], list(order[:3])))
    check(all(abs(e["probability"] - prob[e["class"]]) < 1e-4 for e in top),
          "probabilities match PyTorch's softmax within 1e-4")
    check(result.get("softmax_applied") is True, "logits get a softmax")
    check(all("label" in e for e in top), "every entry has a label key")

    # All classes: the whole distribution sums to 1.
    full = cli.json("predict", model, "--input-npy", npy, "--top", "100", "--json")
    if check(full is not None, "--top 100 on 10 classes"):
        check(len(full["top"]) == 10, "--top larger than the class count gives every class")
        check(abs(sum(e["probability"] for e in full["top"]) - 1.0) < 1e-5,
              "all probabilities sum to 1")

    # The same tensor without its batch axis, and as float64.
    np.save(os.path.join(tmp, "x3.npy"), x[0])
    r3 = cli.json("predict", model, "--input-npy", os.path.join(tmp, "x3.npy"), "--json")
    check(r3 is not None and [e["class"] for e in r3["top"]] == [int(k) for k in order[:5]],
          "a CxHxW .npy is taken as batch 1")
    np.save(os.path.join(tmp, "x64.npy"), x.astype(np.float64))
    r64 = cli.json("predict", model, "--input-npy", os.path.join(tmp, "x64.npy"), "--json")
    check(r64 is not None and [e["class"] for e in r64["top"]] == [int(k) for k in order[:5]],
          "a float64 .npy is accepted")

    # The table: a header and K rows "rank class label probability".
    rc, out, err = cli.run("predict", model, "--input-npy", npy, "--top", "2")
    rows = [l.split() for l in out.splitlines() if l.strip()[:1].isdigit()]
    check(rc == 0 and len(rows) == 2, "table has 2 rows")
    if len(rows) == 2:
        check(rows[0][0] == "1" and rows[0][1] == str(order[0]),
              "first row is rank 1, class %d" % order[0])
        check(abs(float(rows[0][-1]) - prob[order[0]]) < 1e-5, "first row's probability")

    # Threads do not change the answer.
    r1 = cli.json("--threads", "1", "predict", model, "--input-npy", npy, "--json")
    r2 = cli.json("predict", model, "--input-npy", npy, "--json", "--threads", "2")
    check(r1 is not None and r2 is not None and
          [e["class"] for e in r1["top"]] == [e["class"] for e in r2["top"]],
          "--threads 1 and 2 agree")


def case_image(cli, tmp, light):
    """predict on a PNG: the guessed profile, --profile, and a profile
    beside the model.  The expected tensor follows the preprocessing that
    lens-profile.h and lens-image.h document, computed here with numpy."""
    import torch

    model, net = make_tiny(tmp)
    rgb = (np.random.default_rng(3).random((32, 32, 3)) * 255).astype(np.uint8)
    png = os.path.join(tmp, "img.png")
    write_png(png, rgb)
    pixels = rgb.astype(np.float64) / 255.0  # HWC in [0,1]

    def reference(x):
        with torch.no_grad():
            logits = net(torch.from_numpy(x.astype(np.float32)))
            return torch.softmax(logits.double(), dim=1).numpy()[0]

    def same(result, prob, what, labels=None):
        if not check(result is not None, what + ": --json parses"):
            return
        top = result["top"]
        order = np.argsort(-prob, kind="stable")
        check([e["class"] for e in top] == [int(k) for k in order[: len(top)]],
              what + ": classes == PyTorch's")
        check(all(abs(e["probability"] - prob[e["class"]]) < 1e-4 for e in top),
              what + ": probabilities == PyTorch's within 1e-4")
        want = [labels[e["class"]] if labels else None for e in top]
        check([e["label"] for e in top] == want,
              what + ": labels %r == %r" % ([e["label"] for e in top], want))

    # 1) No profile: a 32x32 3-channel input gets scale 1, mean 0, std 1 and
    #    a direct resize (the identity for a 32x32 image).
    x = pixels.transpose(2, 0, 1)[None]
    same(cli.json("predict", model, png, "--top", "4", "--json"), reference(x),
         "guessed profile")

    # 2) --profile: BGR order, mean/std in tensor order, scale 255, labels.
    labels = ["class %d é" % k for k in range(10)]
    with open(os.path.join(tmp, "labels.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(labels) + "\n")
    mean = [110.0, 120.0, 130.0]
    std = [50.0, 60.0, 70.0]
    profile = dict(name="tiny", labels="labels.txt",
                   input=dict(channels=3, height=32, width=32, resize=0, scale=255,
                              mean=mean, std=std, channel_order="BGR"))
    pfile = os.path.join(tmp, "custom.json")
    with open(pfile, "w") as f:
        json.dump(profile, f)
    bgr = pixels[:, :, ::-1] * 255.0
    x = ((bgr - np.array(mean)) / np.array(std)).transpose(2, 0, 1)[None]
    prob = reference(x)
    same(cli.json("predict", model, png, "--profile", pfile, "--top", "3", "--json"), prob,
         "--profile BGR", labels)

    rc, out, err = cli.run("predict", model, png, "--profile", pfile, "--top", "3")
    best = int(np.argmax(prob))
    check(rc == 0 and labels[best] in out, "the table shows the label %r" % labels[best])

    # 3) The same profile beside the model is found without --profile.
    with open(os.path.join(tmp, "tiny.convlens.json"), "w") as f:
        json.dump(profile, f)
    same(cli.json("predict", model, png, "--top", "3", "--json"), prob,
         "profile beside the model", labels)

    # 4) A labels file of the wrong length is not used.
    with open(os.path.join(tmp, "labels.txt"), "w") as f:
        f.write("a\nb\nc\n")
    same(cli.json("predict", model, png, "--profile", pfile, "--top", "3", "--json"), prob,
         "3 labels for 10 classes")
    os.remove(os.path.join(tmp, "tiny.convlens.json"))

    # 5) An image of another size is resized; only the form is checked.
    other = os.path.join(tmp, "other.png")
    write_png(other, (np.random.default_rng(4).random((40, 48, 3)) * 255).astype(np.uint8))
    result = cli.json("predict", model, other, "--top", "4", "--json")
    if check(result is not None, "40x48 image: --json parses"):
        probs = [e["probability"] for e in result["top"]]
        check(len(probs) == 4, "40x48 image: 4 entries")
        check(all(a >= b for a, b in zip(probs, probs[1:])), "40x48 image: descending")
        check(sum(probs) <= 1.0 + 1e-9 and min(probs) >= 0.0, "40x48 image: sum <= 1")
        check(result["input"] == other, "40x48 image: input names the image")


def case_dump(cli, tmp, light):
    import onnx

    model_path, net = make_tiny(tmp)
    model = onnx.load(model_path)
    conv2 = onnx_node_for(model, "Conv", 1)
    x = seeded_input((1, 3, 32, 32))
    npy = os.path.join(tmp, "x.npy")
    np.save(npy, x)
    _, want = tiny_reference(net, x)

    info = cli.json("info", model_path, "--json")
    if not check(info is not None, "info --json"):
        return
    layer = next((l for l in info["layers"] if l["name"] in (conv2.name, conv2.output[0])), None)
    if not check(layer is not None, "info lists the grouped conv"):
        return

    by_node = os.path.join(tmp, "conv2.npy")
    by_value = os.path.join(tmp, "conv2-value.npy")
    inp = os.path.join(tmp, "input.npy")
    rc, out, err = cli.run("predict", model_path, "--input-npy", npy,
                           "--dump-npy", "%s=%s" % (layer["name"], by_node),
                           "--dump-npy", "%s=%s" % (conv2.output[0], by_value),
                           "--dump-npy", "input=%s" % inp)
    if not check(rc == 0, "predict with three --dump-npy -> 0 (%s)" % err.strip()):
        return
    got = np.load(by_node)
    check(got.dtype == np.float32, "dump is float32")
    check(list(got.shape) == layer["output_shape"],
          "dump shape %r == info's %r" % (list(got.shape), layer["output_shape"]))
    check(got.shape == want.shape, "dump shape == PyTorch's %r" % (want.shape,))
    if got.shape == want.shape:
        err_max = float(np.max(np.abs(got - want)))
        scale = float(np.max(np.abs(want)))
        check(err_max <= 1e-4 * max(scale, 1.0),
              "dump values == PyTorch's grouped conv (max err %.3g)" % err_max)
    check(np.array_equal(np.load(by_value), got), "by value name == by layer name")
    check(np.array_equal(np.load(inp), x), "the input dump is the input")


def case_bench(cli, tmp, light):
    model, _ = make_tiny(tmp)
    rc, out, err = cli.run("bench", model, "--runs", "5", "--warmup", "1", "--threads", "1",
                           "--json")
    check(rc == 0, "bench --json -> 0 (%s)" % err.strip())
    lines = out.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (ValueError, IndexError):
        result = None
    if not check(result is not None, "bench --json: the last line is JSON"):
        return
    for key in ("model", "threads", "runs", "median_ms", "min_ms", "max_ms", "gflops"):
        check(key in result, "bench --json has %r" % key)
    check(result["median_ms"] > 0, "median_ms > 0")
    check(result["min_ms"] <= result["median_ms"] <= result["max_ms"], "min <= median <= max")
    check(result["runs"] == 5, "runs == 5")
    check(result["threads"] == 1, "threads == 1")
    check(result["gflops"] > 0, "gflops > 0")

    rc, out, err = cli.run("bench", model, "--runs", "3")
    check(rc == 0 and "median" in out, "bench text output")

    # --layers: one entry per layer of `info`, in order, whose medians are
    # each no more than the whole pass's slowest run
    names = []
    rc, out, err = cli.run("info", model, "--json")
    info = json.loads(out.strip().splitlines()[-1]) if rc == 0 else None
    rc, out, err = cli.run("bench", model, "--runs", "5", "--layers", "--json")
    check(rc == 0, "bench --layers --json -> 0 (%s)" % err.strip())
    try:
        result = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        result = None
    if check(result is not None and info is not None and "layers" in result,
             "bench --layers --json lists the layers"):
        names = [layer["name"] for layer in info["layers"]]
        check([layer["name"] for layer in result["layers"]] == names,
              "bench --layers names every layer of info, in order")
        check(all(0 <= layer["median_ms"] <= result["max_ms"] for layer in result["layers"]),
              "each layer's median is within the slowest whole pass")
        check(sum(layer["median_ms"] for layer in result["layers"]) > 0,
              "the layers took some time")
    rc, out, err = cli.run("bench", model, "--runs", "3", "--layers")
    check(rc == 0 and "share" in out and all(n in out for n in names),
          "bench --layers text output names every layer")


CASES = {
    "exit-codes": case_exit_codes,
    "info": case_info,
    "light": case_light,
    "predict": case_predict,
    "image": case_image,
    "dump": case_dump,
    "bench": case_bench,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cli")
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--light", default="")
    args = parser.parse_args()

    if args.case == "light" and not os.path.isdir(args.light):
        print("light models not found in %r" % args.light)
        return 77  # skipped

    with tempfile.TemporaryDirectory(prefix="convlens-cli-") as tmp:
        CASES[args.case](Cli(args.cli), tmp, args.light)

    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
