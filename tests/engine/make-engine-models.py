#!/usr/bin/python3
"""Models for the engine tests, written with the `onnx` package's helper API
(independent of ConvLens's own loader) into a folder of the build tree.

  make-engine-models.py OUTDIR [--stamp FILE]
  make-engine-models.py --check        exit 0 if onnx and numpy import

OUTDIR gets:
  bad/*.onnx      malformed, unsupported or edge-case models; bad/MANIFEST
                  lists every one so the C test can check it covers them all
  edge/*.onnx     odd but well-formed graphs that must load or fail cleanly
  api/*.onnx      small hand-checkable models for test-api.c, with inputs
                  and NumPy-computed expected values as TensorProto .pb
"""

import os
import random
import struct
import sys
import zlib

FLOAT, INT64 = 1, 7


def die_missing():
    sys.stderr.write("make-engine-models.py needs Debian's python3-onnx and numpy\n")
    sys.exit(77)


try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        sys.exit(1)
    die_missing()


def vi(name, dims, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, dims)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def model(nodes, inputs, outputs, inits=(), opset=13, name="g"):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    return m


def rand(shape, seed):
    return np.random.RandomState(seed).uniform(-1, 1, shape).astype(np.float32)


def conv_model(cin=3, cout=4, hw=8, k=3, pads=(1, 1, 1, 1), **attrs):
    """x [1,cin,hw,hw] -> Conv 'conv1' -> Relu 'relu1' -> y"""
    w = const("W", rand((cout, cin, k, k), 1))
    b = const("B", rand((cout,), 2))
    return model([helper.make_node("Conv", ["x", "W", "B"], ["c"], name="conv1",
                                   pads=list(pads), **attrs),
                  helper.make_node("Relu", ["c"], ["y"], name="relu1")],
                 [vi("x", [1, cin, hw, hw])], [vi("y", None)], [w, b])


def unary_on(x_dims, node, extra_inits=(), opset=13, x_elem=TensorProto.FLOAT):
    return model([node], [vi("x", x_dims, x_elem)], [vi("y", None)], extra_inits, opset)


def tiny_png():
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    raw = b"".join(b"\0" + bytes([(x * 40 + y * 7) % 256 for x in range(6)]) for y in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 6, 4, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def external(tensor, location, offset=None, length=None):
    """Moves a tensor's data out of the proto, as onnx's external data does."""
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    entries = [("location", location)]
    if offset is not None:
        entries.append(("offset", str(offset)))
    if length is not None:
        entries.append(("length", str(length)))
    for key, value in entries:
        e = tensor.external_data.add()
        e.key, e.value = key, value


def external_conv(location, offset=None, length=None):
    m = conv_model()
    w = m.graph.initializer[0]
    external(w, location, offset, length)
    return m


def pb_varint(n):
    out = b""
    while True:
        low, n = n & 0x7F, n >> 7
        if n == 0:
            return out + bytes([low])
        out += bytes([low | 0x80])


def pb_field(number, payload):
    """A length-delimited protobuf field, written by hand."""
    return pb_varint((number << 3) | 2) + pb_varint(len(payload)) + payload


def nested_graphs(levels):
    """A ModelProto whose graph holds a node whose attribute holds a graph
    ... `levels` times: 3 messages per level, a few bytes each.  Python's
    protobuf refuses such depth itself, hence the hand encoding."""
    # headers from the innermost outwards (joining them once keeps it linear)
    headers, size = [], 0
    for _ in range(levels):
        # GraphProto.node(1) > NodeProto.attribute(5) > AttributeProto.g(6)
        for number in (6, 5, 1):
            head = pb_varint((number << 3) | 2) + pb_varint(size)
            headers.append(head)
            size += len(head)
    graph = b"".join(reversed(headers))
    opset = pb_field(1, b"") + b"\x10" + pb_varint(13)     # domain "", version 13
    return b"\x08\x07" + pb_field(7, graph) + pb_field(8, opset)  # ir_version 7


def bad_models(outdir):
    files = {}

    def save(name, m):
        files[name] = m if isinstance(m, bytes) else m.SerializeToString()

    save("good.onnx", conv_model())
    save("not-onnx-text.onnx", b"ir_version: 7\ngraph { node { op_type: \"Relu\" } }\n")
    save("not-onnx-png.onnx", tiny_png())
    rng = random.Random(20240601)
    save("not-onnx-random.onnx", bytes(rng.randrange(256) for _ in range(4096)))
    save("empty.onnx", b"")
    big = conv_model(cin=3, cout=16, hw=16).SerializeToString()
    save("truncated.onnx", big[:len(big) // 2])

    save("unsupported-op.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Einsum", ["x"], ["y"], name="Foo_1", equation="ij->ij")))
    save("custom-domain.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Relu", ["x"], ["y"], name="custom_relu", domain="com.example.custom")))
    save("conv-auto-pad-bogus.onnx", conv_model(pads=(0, 0, 0, 0), auto_pad="BOGUS"))
    save("pad-mode-wrap.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Pad", ["x", "pads"], ["y"], name="pad_wrap", mode="wrap"),
        [const("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))]))
    save("maxpool-storage-order.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "MaxPool", ["x"], ["y"], name="pool_col", kernel_shape=[2, 2], storage_order=1)))
    save("opset-too-new.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Relu", ["x"], ["y"], name="r"), opset=99))

    # shape mismatches
    save("conv-wrong-channels.onnx", model(
        [helper.make_node("Conv", ["x", "W"], ["y"], name="conv_bad")],
        [vi("x", [1, 3, 8, 8])], [vi("y", None)], [const("W", rand((4, 2, 3, 3), 3))]))
    save("conv-kernel-too-big.onnx", model(
        [helper.make_node("Conv", ["x", "W"], ["y"], name="conv_huge_k")],
        [vi("x", [1, 3, 4, 4])], [vi("y", None)], [const("W", rand((2, 3, 7, 7), 3))]))
    save("gemm-inner-dims.onnx", model(
        [helper.make_node("Gemm", ["x", "W"], ["y"], name="fc_bad")],
        [vi("x", [1, 10])], [vi("y", None)], [const("W", rand((12, 5), 4))]))
    save("gemm-rank3.onnx", model(
        [helper.make_node("Gemm", ["x", "W"], ["y"], name="fc_rank")],
        [vi("x", [1, 2, 10])], [vi("y", None)], [const("W", rand((10, 5), 4))]))
    save("add-broadcast.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Add", ["x", "k"], ["y"], name="add_bad"), [const("k", rand((1, 3, 4, 5), 5))]))
    save("reshape-size.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Reshape", ["x", "shape"], ["y"], name="reshape_bad"),
        [const("shape", np.array([1, 47], np.int64))]))
    save("concat-shapes.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Concat", ["x", "k"], ["y"], name="concat_bad", axis=1),
        [const("k", rand((1, 2, 4, 5), 6))]))

    # element types
    for label, elem in (("float16", TensorProto.FLOAT16), ("int8", TensorProto.INT8),
                        ("double", TensorProto.DOUBLE)):
        save("input-%s.onnx" % label, unary_on([1, 3, 4, 4], helper.make_node(
            "Relu", ["x"], ["y"], name="r"), x_elem=elem))
    w16 = const("W", rand((4, 3, 3, 3), 1).astype(np.float16))
    save("weights-float16.onnx", model(
        [helper.make_node("Conv", ["x", "W"], ["y"], name="conv_f16")],
        [vi("x", [1, 3, 8, 8])], [vi("y", None)], [w16]))

    # memory: a modest model (2 MiB of activations) for a 1 MiB budget
    save("activations-2mib.onnx", conv_model(cin=3, cout=16, hw=128))
    shape = const("shape", np.array([1 << 32, 1 << 32, 1 << 32], np.int64))
    save("constantofshape-overflow.onnx", model(
        [helper.make_node("ConstantOfShape", ["shape"], ["c"], name="cos_huge"),
         helper.make_node("Relu", ["x"], ["y"], name="r")],
        [vi("x", [1, 3, 4, 4])], [vi("y", None), vi("c", None)], [shape]))
    t = TensorProto(name="W_overflow", data_type=FLOAT, dims=[1 << 31] * 4, raw_data=b"\0" * 4)
    save("initializer-dims-overflow.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Relu", ["x"], ["y"], name="r"), [t]))
    t = TensorProto(name="W_huge", data_type=FLOAT, dims=[1 << 20, 1 << 20])
    save("initializer-huge-no-data.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Relu", ["x"], ["y"], name="r"), [t]))
    t = TensorProto(name="W_empty", data_type=FLOAT, dims=[4, 3, 3, 3])
    save("initializer-no-data.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Relu", ["x"], ["y"], name="r"), [t]))
    t = TensorProto(name="W_short", data_type=FLOAT, dims=[4, 3, 3, 3], raw_data=b"\1" * 100)
    save("raw-data-length.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Relu", ["x"], ["y"], name="r"), [t]))
    save("input-dims-overflow.onnx", unary_on([1, 1 << 24, 1 << 24, 1 << 24], helper.make_node(
        "Relu", ["x"], ["y"], name="r")))

    # external data: 4*3*3*3 floats = 432 bytes, stored after 16 bytes of padding
    weights = numpy_helper.to_array(conv_model().graph.initializer[0]).astype("<f4").tobytes()
    files["weights.bin"] = b"\0" * 16 + weights
    save("external-ok.onnx", external_conv("weights.bin", 16, len(weights)))
    save("external-missing.onnx", external_conv("no-such-weights.bin"))
    save("external-dotdot.onnx", external_conv("sub/../../bad/weights.bin", 16))
    save("external-absolute.onnx",
         external_conv(os.path.abspath(os.path.join(outdir, "weights.bin")), 16))
    save("external-offset.onnx", external_conv("weights.bin", 4096))
    save("external-length.onnx", external_conv("weights.bin", 16, len(weights) + 64))
    save("external-short-file.onnx", external_conv("weights.bin", 100))
    # symbolic links (made below): up -> .. leaves the folder, here -> . stays
    save("external-symlink-out.onnx", external_conv("up/outside-weights.bin", 16, len(weights)))
    save("external-symlink-in.onnx", external_conv("here/weights.bin", 16, len(weights)))
    files["../outside-weights.bin"] = files["weights.bin"]

    # nesting: protobuf-c decodes sub-messages recursively, without a limit
    save("nested-graphs-deep.onnx", nested_graphs(100000))
    save("nested-graphs-21.onnx", nested_graphs(21))

    # dynamic dims
    save("dynamic-hw.onnx", model(
        [helper.make_node("Conv", ["x", "W"], ["y"], name="conv_dyn", pads=[1, 1, 1, 1])],
        [vi("x", ["N", 3, "H", "W"])], [vi("y", None)], [const("W", rand((4, 3, 3, 3), 1))]))
    save("dynamic-batch.onnx", model(
        [helper.make_node("Conv", ["x", "W"], ["y"], name="conv_dyn", pads=[1, 1, 1, 1])],
        [vi("x", ["N", 3, 8, 8])], [vi("y", None)], [const("W", rand((4, 3, 3, 3), 1))]))

    # graph structure
    save("dangling-input.onnx", model(
        [helper.make_node("Add", ["x", "ghost"], ["y"], name="add_ghost")],
        [vi("x", [1, 3, 4, 4])], [vi("y", None)]))
    save("producer-after-consumer.onnx", model(
        [helper.make_node("Relu", ["a"], ["y"], name="relu_early"),
         helper.make_node("Relu", ["x"], ["a"], name="relu_late")],
        [vi("x", [1, 3, 4, 4])], [vi("y", None)]))
    save("two-inputs.onnx", model(
        [helper.make_node("Add", ["x1", "x2"], ["y"], name="add2")],
        [vi("x1", [1, 3, 4, 4]), vi("x2", [1, 3, 4, 4])], [vi("y", None)]))
    save("output-not-produced.onnx", model(
        [helper.make_node("Relu", ["x"], ["y"], name="r")],
        [vi("x", [1, 3, 4, 4])], [vi("nowhere", None)]))
    # absent ("") inputs: only optional ones may be left out
    save("required-input-empty.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Relu", [""], ["y"], name="relu_noname")))
    save("add-input-empty.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Add", ["x", ""], ["y"], name="add_half")))
    save("variadic-input-empty.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Sum", ["x", ""], ["y"], name="sum_gap")))
    save("clip-optional-empty.onnx", unary_on([1, 3, 4, 4], helper.make_node(
        "Clip", ["x", "", "hi"], ["y"], name="clip_max_only"),
        [const("hi", np.array(0.5, np.float32))]))
    no_graph = onnx.ModelProto(ir_version=7)
    no_graph.opset_import.add(domain="", version=13)
    save("no-graph.onnx", no_graph)

    os.makedirs(outdir, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
    for link, target in (("up", ".."), ("here", ".")):
        link = os.path.join(outdir, link)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
    with open(os.path.join(outdir, "MANIFEST"), "w") as f:
        f.write("".join(n + "\n" for n in sorted(files) if n.endswith(".onnx")))


def edge_models(outdir):
    """Odd but well-formed graphs: each must load or fail cleanly, never crash."""
    os.makedirs(outdir, exist_ok=True)
    n = helper.make_node
    i64 = lambda *v: np.array(v, np.int64)
    cases = {}
    # every op with each input position left empty in turn
    arity = {"Relu": 1, "LeakyRelu": 1, "Sigmoid": 1, "Tanh": 1, "Clip": 3, "Dropout": 1,
             "Identity": 1, "Softmax": 1, "MaxPool": 1, "AveragePool": 1, "LRN": 1,
             "GlobalAveragePool": 1, "GlobalMaxPool": 1, "Flatten": 1, "Transpose": 1,
             "Shape": 1, "Cast": 1, "Unsqueeze": 2, "Squeeze": 2, "Pad": 3, "Slice": 5,
             "ConstantOfShape": 1, "Sum": 3, "Concat": 3, "Reshape": 2, "Add": 2, "Sub": 2,
             "Mul": 2, "Div": 2, "Gemm": 3, "MatMul": 2, "Conv": 3, "Gather": 2,
             "BatchNormalization": 5}
    attrs = {"MaxPool": {"kernel_shape": [1, 1]}, "AveragePool": {"kernel_shape": [1, 1]},
             "LRN": {"size": 3}, "Cast": {"to": 1}}
    for op, k in arity.items():
        for gap in range(k):
            ins = ["x"] * k
            ins[gap] = ""
            cases["gap%d-%s" % (gap, op)] = ([n(op, ins, ["y"], **attrs.get(op, {}))],
                                              [1, 3, 4, 4], [])
    cases.update({
        "gap-empty-spatial": ([n("GlobalAveragePool", ["x"], ["y"])], [1, 3, 0, 0], []),
        "gmp-empty-spatial": ([n("GlobalMaxPool", ["x"], ["y"])], [1, 3, 0, 4], []),
        "relu-empty": ([n("Relu", ["x"], ["y"])], [1, 3, 0, 4], []),
        "softmax-empty": ([n("Softmax", ["x"], ["y"], axis=1)], [1, 0], []),
        "gemm-k0": ([n("Gemm", ["x", "w"], ["y"])], [2, 0], [const("w", np.zeros((0, 3), "f4"))]),
        "gemm-k0-m1": ([n("Gemm", ["x", "w"], ["y"])], [1, 0],
                       [const("w", np.zeros((0, 3), "f4"))]),
        "matmul-k0": ([n("MatMul", ["x", "w"], ["y"])], [2, 0], [const("w", np.ones((0, 3), "f4"))]),
        "maxpool-pads-ge-kernel": ([n("MaxPool", ["x"], ["y"], kernel_shape=[2, 2],
                                      pads=[2, 2, 2, 2])], [1, 1, 4, 4], []),
        "avgpool-pads-ge-kernel": ([n("AveragePool", ["x"], ["y"], kernel_shape=[2, 2],
                                      pads=[2, 2, 2, 2])], [1, 1, 4, 4], []),
        "pad-crop-too-much": ([n("Pad", ["x", "p"], ["y"])], [1, 1, 4, 4],
                              [const("p", i64(0, 0, -5, 0, 0, 0, 0, 0))]),
        "pad-crop-reflect": ([n("Pad", ["x", "p"], ["y"], mode="reflect")], [1, 1, 4, 4],
                             [const("p", i64(0, 0, -2, 3, 0, 0, 0, 0))]),
        "pad-edge-wide": ([n("Pad", ["x", "p"], ["y"], mode="edge")], [1, 1, 2, 2],
                          [const("p", i64(0, 0, 9, 9, 0, 0, 9, 9))]),
        "slice-extremes": ([n("Slice", ["x", "s", "e", "a", "t"], ["y"])], [1, 3, 4, 4],
                           [const("s", i64(-2**63)), const("e", i64(2**63 - 1)),
                            const("a", i64(2)), const("t", i64(-2**63))]),
        "slice-step0": ([n("Slice", ["x", "s", "e", "a", "t"], ["y"])], [1, 3, 4, 4],
                        [const("s", i64(0)), const("e", i64(4)), const("a", i64(2)),
                         const("t", i64(0))]),
        "gather-negative": ([n("Gather", ["x", "i"], ["y"], axis=1)], [1, 3, 4, 4],
                            [const("i", i64(-3, -1))]),
        "gather-out-of-range": ([n("Gather", ["x", "i"], ["y"], axis=1)], [1, 3, 4, 4],
                                [const("i", i64(3))]),
        "transpose-repeat": ([n("Transpose", ["x"], ["y"], perm=[0, 0, 1, 2])], [1, 3, 4, 4], []),
        "concat-axis-7": ([n("Concat", ["x", "x"], ["y"], axis=7)], [1, 3, 4, 4], []),
        "unsqueeze-rank-9": ([n("Unsqueeze", ["x", "a"], ["y"])], [1, 3, 4, 4],
                             [const("a", i64(0, 1, 2, 3, 4, 5))]),
        "reshape-two-infer": ([n("Reshape", ["x", "s"], ["y"])], [1, 3, 4, 4],
                              [const("s", i64(-1, -1))]),
        "reshape-zero-allowzero": ([n("Reshape", ["x", "s"], ["y"], allowzero=1)], [1, 3, 4, 4],
                                   [const("s", i64(0, -1))]),
        "conv-group-0": ([n("Conv", ["x", "w"], ["y"], group=0)], [1, 3, 4, 4],
                         [const("w", np.ones((3, 1, 1, 1), "f4"))]),
        "conv-3d": ([n("Conv", ["x", "w"], ["y"])], [1, 1, 4, 4, 4],
                    [const("w", np.ones((1, 1, 1, 1, 1), "f4"))]),
        "conv-stride-2e40": ([n("Conv", ["x", "w"], ["y"], strides=[2**40, 1])], [1, 1, 4, 4],
                             [const("w", np.ones((1, 1, 1, 1), "f4"))]),
        "conv-weights-at-runtime": ([n("Conv", ["x", "x"], ["y"])], [1, 1, 4, 4], []),
        "maxpool-kernel-2e31": ([n("MaxPool", ["x"], ["y"], kernel_shape=[2**31 + 5, 2])],
                                [1, 1, 4, 4], []),
        "maxpool-indices": ([n("MaxPool", ["x"], ["y", "idx"], kernel_shape=[2, 2])],
                            [1, 2, 4, 4], []),
        "lrn-size-0": ([n("LRN", ["x"], ["y"], size=0)], [1, 3, 4, 4], []),
        "sum-70-inputs": ([n("Sum", ["x"] * 70, ["y"])], [1, 3], []),
        "cast-to-string": ([n("Cast", ["x"], ["y"], to=8)], [1, 3], []),
        "constant-no-value": ([n("Constant", [], ["y"])], [1], []),
        "node-no-outputs": ([n("Relu", ["x"], [])], [1, 3], []),
        "matmul-vectors": ([n("MatMul", ["x", "w"], ["y"])], [4], [const("w", np.ones(4, "f4"))]),
    })
    for name, (nodes, dims, inits) in cases.items():
        m = model(nodes, [vi("x", dims)], [vi("y", None)], inits)
        with open(os.path.join(outdir, name + ".onnx"), "wb") as f:
            f.write(m.SerializeToString())


def save_tensor(path, arr, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(arr, name).SerializeToString())


def api_models(outdir):
    """Conv 3->8 3x3 pad 1 -> Relu -> MaxPool 2x2/2 -> Reshape [-1,128] -> Gemm 128->10,
    and its forward pass in plain NumPy for two inputs."""
    os.makedirs(outdir, exist_ok=True)
    w1, b1 = rand((8, 3, 3, 3), 11), rand((8,), 12)
    w2, b2 = rand((10, 128), 13) * 0.1, rand((10,), 14)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["conv1_out"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv1_out"], ["relu1_out"], name="relu1"),
        helper.make_node("MaxPool", ["relu1_out"], ["pool1_out"], name="pool1",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Constant", [], ["flat_shape"], name="shape_const",
                         value=const("v", np.array([-1, 128], np.int64))),
        helper.make_node("Reshape", ["pool1_out", "flat_shape"], ["flat_out"], name="flatten"),
        helper.make_node("Gemm", ["flat_out", "w2", "b2"], ["logits"], name="fc", transB=1),
    ]
    m = model(nodes, [vi("x", [1, 3, 8, 8])], [vi("logits", [1, 10])],
              [const("w1", w1), const("b1", b1), const("w2", w2), const("b2", b2)], name="small")
    with open(os.path.join(outdir, "api-small.onnx"), "wb") as f:
        f.write(m.SerializeToString())

    def forward(x):
        xp = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (1, 1)))
        conv = np.zeros((8, 8, 8))
        for o in range(8):
            for i in range(8):
                for j in range(8):
                    conv[o, i, j] = np.sum(xp[:, i:i + 3, j:j + 3] * w1[o]) + b1[o]
        relu = np.maximum(conv, 0)
        pool = np.zeros((8, 4, 4))
        switch = np.zeros((8, 4, 4), np.int64)
        for c in range(8):
            for i in range(4):
                for j in range(4):
                    win = relu[c, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
                    a = int(np.argmax(win))        # first maximum in row-major order
                    pool[c, i, j] = win.flat[a]
                    switch[c, i, j] = (2 * i + a // 2) * 8 + (2 * j + a % 2)
        logits = pool.reshape(128) @ w2.T.astype(np.float64) + b2
        return relu, pool, switch, logits

    for k in range(2):
        x = rand((3, 8, 8), 100 + k)
        if k == 1:
            x[:, :4, :] = -1.0       # a region where Relu gives ties of zeros
        relu, pool, switch, logits = forward(x)
        save_tensor(os.path.join(outdir, "input_%d.pb" % k), x[None], "x")
        save_tensor(os.path.join(outdir, "relu_%d.pb" % k), relu[None].astype(np.float32), "r")
        save_tensor(os.path.join(outdir, "pool_%d.pb" % k), pool[None].astype(np.float32), "p")
        save_tensor(os.path.join(outdir, "switch_%d.pb" % k), switch[None], "s")
        save_tensor(os.path.join(outdir, "logits_%d.pb" % k), logits[None].astype(np.float32),
                    "l")


def main(argv):
    if len(argv) > 1 and argv[1] == "--check":
        return 0
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    outdir = argv[1]
    bad_models(os.path.join(outdir, "bad"))
    edge_models(os.path.join(outdir, "edge"))
    api_models(os.path.join(outdir, "api"))
    if len(argv) > 3 and argv[2] == "--stamp":
        with open(argv[3], "w") as f:
            f.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
