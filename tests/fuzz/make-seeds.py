#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus-TARGET).

Run with Debian's python3 (python3-onnx, python3-numpy, python3-pil):

    /usr/bin/python3 tests/fuzz/make-seeds.py [OUTROOT]

writes OUTROOT/corpus-onnx, corpus-png, corpus-jpeg, corpus-npy,
corpus-profile, corpus-topk, corpus-idx and corpus-correspondence (OUTROOT defaults to this
folder).  The ONNX seeds are described here; the others in their own
functions below (seeds_png() ...).

The seeds are small models built with onnx.helper, covering every op
family the engine imports, both ways of storing initializers (raw_data and
typed fields), old and new opsets (attribute vs. input forms of Clip, Pad,
Unsqueeze, Squeeze, Slice), a dynamic batch dimension and the constant
folding chain that torch.onnx.export emits (Shape -> Gather -> Unsqueeze ->
Concat -> Reshape).  A second group is "near-valid": one defect each
(truncated file, external data, unsupported op, element type, dynamic
spatial size, dangling input, shape mismatch, huge shape), so that the
fuzzer starts right next to each error path.

The valid seeds are checked with onnx.checker (full check with shape
inference) so that they are valid by the ONNX reference, not by ConvLens.
Output is deterministic: weights come from a seeded generator, so running
the script again rewrites identical files.  Each seed stays under 20 KB and
the whole ONNX corpus under 200 KB; the other corpora stay under 2 KB a
seed and 20 KB in all."""

import gzip
import io
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MAX_SEED = 20 * 1024
MAX_TOTAL = 200 * 1024

rng = np.random.RandomState(20240611)


def weights(name, shape, typed=False):
    a = (rng.standard_normal(shape) * 0.1).astype(np.float32)
    if typed:
        return helper.make_tensor(name, TensorProto.FLOAT, list(shape), a.flatten().tolist())
    return numpy_helper.from_array(a, name)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def model(nodes, inputs, outputs, inits, opset, name):
    # Keep the IR version the opset calls for, as exporters of that era did;
    # before IR 4 every initializer is also listed as a graph input.
    ir = {7: 3, 9: 4, 11: 6, 13: 7}.get(opset, 8)
    if ir < 4:
        inputs = inputs + [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                           for t in inits]
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    m = helper.make_model(graph, producer_name="convlens-make-seeds",
                          opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = ir
    return m


def fin(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def tiny_cnn(typed):
    """Conv -> Relu -> MaxPool -> Flatten -> Gemm -> Softmax (AlexNet-like)."""
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p1"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["g"], name="fc",
                         alpha=1.0, beta=1.0, transB=1),
        helper.make_node("Softmax", ["g"], ["y"], name="prob", axis=1),
    ]
    inits = [weights("w1", (4, 3, 3, 3), typed), weights("b1", (4,), typed),
             weights("w2", (10, 64), typed), weights("b2", (10,), typed)]
    return model(nodes, [fin("x", [1, 3, 8, 8])], [fin("y", [1, 10])], inits, 13,
                 "tiny_cnn_typed" if typed else "tiny_cnn")


def dynamic_batch():
    """BatchNorm, AveragePool, GlobalAveragePool, MatMul + Add, batch 'N'."""
    nodes = [
        helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["bn"],
                         name="bn", epsilon=1e-5),
        helper.make_node("AveragePool", ["bn"], ["ap"], name="avg",
                         kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                         count_include_pad=0),
        helper.make_node("GlobalAveragePool", ["ap"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["f"], name="flat"),
        helper.make_node("MatMul", ["f", "w"], ["mm"], name="mm"),
        helper.make_node("Add", ["mm", "bias"], ["y"], name="add"),
    ]
    inits = [weights("s", (3,)), weights("b", (3,)), weights("m", (3,)),
             numpy_helper.from_array(np.abs(rng.standard_normal(3)).astype(np.float32) + 0.5, "v"),
             weights("w", (3, 5)), weights("bias", (5,))]
    return model(nodes, [fin("x", ["N", 3, 9, 9])], [fin("y", ["N", 5])], inits, 13,
                 "dynamic_batch")


def shape_chain():
    """torch.onnx.export's flatten: Shape/Gather/Unsqueeze/Concat/Reshape,
    plus Constant, ConstantOfShape, Slice, Squeeze, Cast (opset 13 forms)."""
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
        helper.make_node("Shape", ["c"], ["shp"], name="shape"),
        helper.make_node("Constant", [], ["zero"], name="const0",
                         value=helper.make_tensor("zero", TensorProto.INT64, [], [0])),
        helper.make_node("Gather", ["shp", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"], name="unsq"),
        helper.make_node("Concat", ["n1", "minus1"], ["newshape"], name="cat", axis=0),
        helper.make_node("Reshape", ["c", "newshape"], ["flat"], name="reshape"),
        helper.make_node("Slice", ["flat", "starts", "ends", "axes1"], ["sl"], name="slice"),
        helper.make_node("ConstantOfShape", ["cshape"], ["ones"], name="cos",
                         value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])),
        helper.make_node("Mul", ["sl", "ones"], ["ml"], name="mul"),
        helper.make_node("Unsqueeze", ["ml", "axes2"], ["u"], name="unsq2"),
        helper.make_node("Squeeze", ["u", "axes2"], ["sq"], name="squeeze"),
        helper.make_node("Cast", ["sq"], ["y"], name="cast", to=TensorProto.FLOAT),
    ]
    inits = [weights("w", (2, 3, 1, 1)), ints("axes0", [0]), ints("minus1", [-1]),
             ints("starts", [1]), ints("ends", [40]), ints("axes1", [1]),
             ints("cshape", [1, 39]), ints("axes2", [2])]
    return model(nodes, [fin("x", [1, 3, 4, 5])], [fin("y", [1, 39])], inits, 13,
                 "shape_chain")


def branches():
    """Depthwise + dilated + SAME_UPPER conv, LRN, Concat of branches,
    residual Add/Sum, Clip/Pad as inputs (opset 11), activations."""
    nodes = [
        helper.make_node("Conv", ["x", "wd"], ["dw"], name="depthwise", group=4,
                         kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
        helper.make_node("Conv", ["x", "wl", "bl"], ["dl"], name="dilated",
                         kernel_shape=[3, 3], dilations=[2, 2], pads=[2, 2, 2, 2]),
        helper.make_node("LRN", ["dl"], ["lrn"], name="lrn", size=3, alpha=1e-4,
                         beta=0.75, bias=1.0),
        helper.make_node("Concat", ["dw", "lrn"], ["cat"], name="concat", axis=1),
        helper.make_node("Clip", ["cat", "lo", "hi"], ["clip"], name="relu6"),
        helper.make_node("LeakyRelu", ["clip"], ["lk"], name="leaky", alpha=0.1),
        helper.make_node("Sigmoid", ["lk"], ["sg"], name="sigmoid"),
        helper.make_node("Tanh", ["lk"], ["th"], name="tanh"),
        helper.make_node("Sum", ["sg", "th", "lk"], ["sm"], name="sum"),
        helper.make_node("Sub", ["sm", "sg"], ["sb"], name="sub"),
        helper.make_node("Div", ["sb", "two"], ["dv"], name="div"),
        helper.make_node("Pad", ["dv", "pads"], ["pd"], name="pad", mode="constant"),
        helper.make_node("GlobalMaxPool", ["pd"], ["gmp"], name="gmp"),
        helper.make_node("Dropout", ["gmp"], ["dr"], name="dropout"),
        helper.make_node("Identity", ["dr"], ["id"], name="identity"),
        helper.make_node("Transpose", ["id"], ["y"], name="transpose", perm=[0, 2, 3, 1]),
    ]
    inits = [weights("wd", (4, 1, 3, 3)), weights("wl", (2, 4, 3, 3)), weights("bl", (2,)),
             numpy_helper.from_array(np.array(0.0, dtype=np.float32), "lo"),
             numpy_helper.from_array(np.array(6.0, dtype=np.float32), "hi"),
             numpy_helper.from_array(np.array([2.0], dtype=np.float32), "two"),
             ints("pads", [0, 0, 1, 1, 0, 0, 1, 1])]
    return model(nodes, [fin("x", [1, 4, 6, 6])], [fin("y", [1, 1, 1, 6])], inits, 11,
                 "branches")


def opset7():
    """Attribute forms of old opsets: Clip min/max, Pad pads, Unsqueeze
    axes, Softmax over the flattened tail, Dropout ratio, BN (opset 7)."""
    nodes = [
        helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["bn"], name="bn"),
        helper.make_node("Clip", ["bn"], ["cl"], name="clip", min=0.0, max=6.0),
        helper.make_node("Pad", ["cl"], ["pd"], name="pad", pads=[0, 0, 1, 1, 0, 0, 1, 1],
                         value=0.0),
        helper.make_node("MaxPool", ["pd"], ["mp"], name="pool", kernel_shape=[3, 3],
                         strides=[2, 2]),
        helper.make_node("Dropout", ["mp"], ["dr"], name="drop", ratio=0.5),
        helper.make_node("Reshape", ["dr", "shape"], ["rs"], name="reshape"),
        helper.make_node("Gemm", ["rs", "w", "c"], ["g"], name="fc", transB=1),
        helper.make_node("Unsqueeze", ["g"], ["u"], name="unsq", axes=[2]),
        helper.make_node("Softmax", ["u"], ["y"], name="softmax", axis=1),
    ]
    inits = [weights("s", (2,)), weights("b", (2,)), weights("m", (2,)),
             numpy_helper.from_array(np.full(2, 0.9, dtype=np.float32), "v"),
             ints("shape", [1, 18]), weights("w", (4, 18)), weights("c", (4,))]
    return model(nodes, [fin("x", [1, 2, 5, 5])], [fin("y", [1, 4, 1])], inits, 7, "opset7")


# ---- near-valid seeds: one defect each ----

def external_data():
    m = tiny_cnn(False)
    w = m.graph.initializer[0]
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", "432")):
        e = w.external_data.add()
        e.key, e.value = k, v
    return m


def unsupported_op():
    nodes = [helper.make_node("Resize", ["x", "", "scales"], ["y"], name="upsample",
                              mode="nearest")]
    inits = [numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales")]
    return model(nodes, [fin("x", [1, 1, 2, 2])], [fin("y", [1, 1, 4, 4])], inits, 13,
                 "unsupported_op")


def float16_weights():
    nodes = [helper.make_node("Mul", ["x", "h"], ["y"], name="mul")]
    inits = [numpy_helper.from_array(np.ones((1, 2, 1, 1), dtype=np.float16), "h")]
    return model(nodes, [fin("x", [1, 2, 3, 3])], [fin("y", [1, 2, 3, 3])], inits, 13,
                 "float16")


def dynamic_spatial():
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    return model(nodes, [fin("x", [1, 3, "H", "W"])], [fin("y", [1, 3, "H", "W"])], [], 13,
                 "dynamic_hw")


def dangling_input():
    nodes = [helper.make_node("Add", ["x", "nowhere"], ["y"], name="add")]
    return model(nodes, [fin("x", [1, 2])], [fin("y", [1, 2])], [], 13, "dangling")


def shape_mismatch():
    m = tiny_cnn(False)
    m.graph.initializer[2].CopyFrom(weights("w2", (10, 60)))
    return m


def huge_shape():
    t = TensorProto(name="big", data_type=TensorProto.FLOAT, dims=[1 << 20, 1 << 20, 1 << 20])
    nodes = [helper.make_node("Add", ["x", "big"], ["y"], name="add")]
    return model(nodes, [fin("x", [1])], [fin("y", [1])], [t], 13, "huge")


def external_data_offset():
    """Valid in the fuzzer's sandbox: weights.bin there holds 1024 floats."""
    m = tiny_cnn(False)
    w = m.graph.initializer[2]  # w2, 10 x 64 floats = 2560 bytes
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "./weights.bin"), ("offset", "1024"), ("length", "2560")):
        e = w.external_data.add()
        e.key, e.value = k, v
    return m


def external_data_escape():
    """A location outside the model's folder (the fuzzer plants secret.bin
    there): must be refused."""
    m = external_data()
    m.graph.initializer[0].external_data[0].value = "../secret.bin"
    return m


def external_data_short():
    """The data file is shorter than the tensor (empty.bin is empty)."""
    m = external_data()
    m.graph.initializer[0].external_data[0].value = "empty.bin"
    return m


def crafted_attributes():
    """Conv attribute values a hostile model would use: a zero stride, a
    huge dilation, negative and huge pads."""
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv",
                         kernel_shape=[3, 3], strides=[0, 1], dilations=[1 << 30, 1],
                         pads=[-5, 0, 0, 1 << 40]),
        helper.make_node("MaxPool", ["c"], ["p"], name="pool",
                         kernel_shape=[1 << 31, 2], strides=[1, 1]),
        helper.make_node("Transpose", ["p"], ["t"], name="tr", perm=[0, 0, 3, 2]),
        helper.make_node("Softmax", ["t"], ["y"], name="sm", axis=-9),
    ]
    inits = [weights("w", (2, 3, 3, 3))]
    return model(nodes, [fin("x", [1, 3, 6, 6])], [fin("y", [1, 2, 6, 6])], inits, 13,
                 "crafted_attributes")


def reshape_defect(shape_values, name):
    nodes = [helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape")]
    return model(nodes, [fin("x", [1, 2, 3, 4])], [fin("y", [24])], [ints("s", shape_values)],
                 13, name)


def gather_defect():
    """Shape -> Gather with an index past the rank (constant folding)."""
    nodes = [helper.make_node("Shape", ["x"], ["sh"], name="shape"),
             helper.make_node("Gather", ["sh", "idx"], ["g"], name="gather", axis=0),
             helper.make_node("Reshape", ["x", "g"], ["y"], name="reshape")]
    return model(nodes, [fin("x", [1, 2, 3, 4])], [fin("y", [24])], [ints("idx", [17])], 13,
                 "gather_defect")


def slice_defect():
    """A Slice with a zero step and a huge end."""
    nodes = [helper.make_node("Slice", ["x", "st", "en", "ax", "stp"], ["y"], name="slice")]
    inits = [ints("st", [0]), ints("en", [1 << 62]), ints("ax", [3]), ints("stp", [0])]
    return model(nodes, [fin("x", [1, 2, 3, 4])], [fin("y", [1, 2, 3, 4])], inits, 13,
                 "slice_defect")


def concat_defect():
    nodes = [helper.make_node("Concat", ["x", "x"], ["y"], name="cat", axis=7)]
    return model(nodes, [fin("x", [1, 2, 3, 4])], [fin("y", [2, 2, 3, 4])], [], 13,
                 "concat_defect")


def pool_defect():
    """A MaxPool window of 2^31 - 1 and a Transpose with a repeated axis."""
    nodes = [helper.make_node("MaxPool", ["x"], ["p"], name="pool",
                              kernel_shape=[(1 << 31) - 1, 2], strides=[1, 1]),
             helper.make_node("Transpose", ["p"], ["y"], name="tr", perm=[0, 0, 3, 2])]
    return model(nodes, [fin("x", [1, 3, 6, 6])], [fin("y", [1, 3, 5, 5])], [], 13,
                 "pool_defect")


def transpose_defect():
    nodes = [helper.make_node("Transpose", ["x"], ["y"], name="tr", perm=[0, 0, 3, 2])]
    return model(nodes, [fin("x", [1, 3, 6, 6])], [fin("y", [1, 1, 6, 6])], [], 13,
                 "transpose_defect")


def crafted_dims():
    """Declared dims that disagree with the data, a negative dim and a
    graph input with a zero-size dim."""
    t = TensorProto(name="neg", data_type=TensorProto.FLOAT, dims=[2, -3],
                    float_data=[1.0] * 6)
    u = TensorProto(name="short", data_type=TensorProto.FLOAT, dims=[4, 4],
                    float_data=[1.0] * 3)
    nodes = [helper.make_node("Add", ["x", "neg"], ["a"], name="add1"),
             helper.make_node("Mul", ["a", "short"], ["y"], name="mul1")]
    return model(nodes, [fin("x", [0, 4])], [fin("y", [4, 4])], [t, u], 13, "crafted_dims")


VALID = {
    "tiny-cnn-raw": lambda: tiny_cnn(False),
    "tiny-cnn-typed": lambda: tiny_cnn(True),
    "dynamic-batch": dynamic_batch,
    "shape-chain": shape_chain,
    "branches-opset11": branches,
    "opset7": opset7,
}

NEAR_VALID = {
    "external-data": external_data,
    "bad-unsupported-op": unsupported_op,
    "bad-float16": float16_weights,
    "bad-dynamic-hw": dynamic_spatial,
    "bad-dangling-input": dangling_input,
    "bad-shape-mismatch": shape_mismatch,
    "bad-huge-shape": huge_shape,
    "external-data-offset": external_data_offset,
    "bad-external-escape": external_data_escape,
    "bad-external-short": external_data_short,
    "bad-crafted-attributes": crafted_attributes,
    "bad-reshape-two-minus-one": lambda: reshape_defect([-1, -1], "reshape_two_m1"),
    "bad-reshape-huge": lambda: reshape_defect([1 << 62, 4], "reshape_huge"),
    "bad-gather-index": gather_defect,
    "bad-slice-step": slice_defect,
    "bad-concat-axis": concat_defect,
    "bad-pool-window": pool_defect,
    "bad-transpose-perm": transpose_defect,
    "bad-crafted-dims": crafted_dims,
}


# ---- the other parsers' seeds ----

def png_bytes(img, **kw):
    buf = io.BytesIO()
    img.save(buf, "PNG", **kw)
    return buf.getvalue()


def jpeg_bytes(img, **kw):
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def gradient(mode, w, h):
    from PIL import Image
    a = np.zeros((h, w, 3), dtype=np.uint8)
    a[..., 0] = np.arange(w)[None, :] * 255 // max(w - 1, 1)
    a[..., 1] = np.arange(h)[:, None] * 255 // max(h - 1, 1)
    a[..., 2] = 128
    return Image.fromarray(a, "RGB").convert(mode)


def png_chunk(kind, data):
    import zlib
    return struct.pack(">I", len(data)) + kind + data + \
        struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def seeds_png():
    """PNG: every colour type and bit depth the decoder converts (gray 1/8
    bit, gray+alpha, palette with tRNS, RGB, RGBA 16 bit), interlacing,
    plus a truncated file, a bad CRC and a header claiming 100000 x 100000
    pixels."""
    from PIL import Image
    out = {
        "rgb8": png_bytes(gradient("RGB", 7, 5)),
        "gray1": png_bytes(gradient("1", 9, 4)),
        "gray8-interlaced": png_bytes(gradient("L", 6, 6), interlace=1),
        "gray-alpha": png_bytes(gradient("LA", 4, 3)),
        "palette-trns": png_bytes(gradient("P", 5, 5), transparency=0),
        "rgba": png_bytes(gradient("RGBA", 3, 4)),
    }
    # 16-bit RGBA: write the chunks by hand (PIL saves RGBA as 8 bit)
    import zlib
    w, h = 3, 2
    raw = b"".join(b"\0" + bytes((x * 40 + y * 7 + c * 3) % 256 for x in range(w)
                                 for c in range(8)) for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 6, 0, 0, 0)
    png_sig = b"\x89PNG\r\n\x1a\n"
    out["rgba16"] = png_sig + png_chunk(b"IHDR", ihdr) + \
        png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")
    huge = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    out["bad-huge"] = png_sig + png_chunk(b"IHDR", huge) + png_chunk(b"IEND", b"")
    out["bad-truncated"] = out["rgb8"][:len(out["rgb8"]) - 20]
    crc = bytearray(out["gray-alpha"])
    crc[29] ^= 0xff  # the IHDR CRC
    out["bad-crc"] = bytes(crc)
    del Image
    return out


def seeds_jpeg():
    """JPEG: baseline colour (4:2:0 and 4:4:4), grayscale, progressive,
    restart markers, Adobe CMYK, plus truncated files."""
    img = gradient("RGB", 16, 16)
    out = {
        "baseline-420": jpeg_bytes(img, quality=50),
        "baseline-444": jpeg_bytes(gradient("RGB", 9, 7), quality=60, subsampling=0),
        "gray": jpeg_bytes(gradient("L", 8, 8), quality=50),
        "progressive": jpeg_bytes(img, quality=50, progressive=True),
        "cmyk": jpeg_bytes(gradient("CMYK", 8, 8), quality=50),
        "optimized": jpeg_bytes(gradient("RGB", 5, 3), quality=40, optimize=True),
    }
    # restart interval (DRI) via PIL's restart_marker_blocks, when it has it
    try:
        out["restart"] = jpeg_bytes(img, quality=50, restart_marker_blocks=1)
    except TypeError:
        pass
    out["bad-truncated"] = out["baseline-420"][: len(out["baseline-420"]) * 2 // 3]
    out["bad-progressive-truncated"] = out["progressive"][: len(out["progressive"]) // 2]
    return out


def npy_bytes(a, version=None):
    from numpy.lib import format as npf
    buf = io.BytesIO()
    if version is None:
        np.save(buf, a)
    else:
        npf.write_array(buf, a, version=version)
    return buf.getvalue()


def seeds_npy():
    """.npy: the three dtypes read (<f4, <f8, <i8), a scalar, an empty
    array, 8 dimensions, versions 2.0 and 3.0, plus dtypes, orders and
    sizes that are refused."""
    a = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
    out = {
        "f4": npy_bytes(a),
        "f8": npy_bytes(a.astype(np.float64)),
        "i8": npy_bytes(np.array([[1, -2], [3, 1 << 40]], dtype=np.int64)),
        "scalar": npy_bytes(np.float32(2.5)),
        "empty": npy_bytes(np.zeros((0, 3), dtype=np.float32)),
        "rank8": npy_bytes(np.ones((1,) * 7 + (2,), dtype=np.float32)),
        "v2": npy_bytes(a, version=(2, 0)),
        "v3": npy_bytes(a, version=(3, 0)),
        "bad-fortran": npy_bytes(np.asfortranarray(a.T)),
        "bad-big-endian": npy_bytes(a.astype(">f4")),
        "bad-bool": npy_bytes(np.array([True, False])),
        "bad-structured": npy_bytes(np.zeros(2, dtype=[("a", "<f4"), ("b", "<i8")])),
        "bad-rank9": npy_bytes(np.ones((1,) * 9, dtype=np.float32)),
    }
    out["bad-truncated"] = out["f4"][:-5]
    hdr = out["f4"]
    out["bad-huge-shape"] = hdr.replace(b"'shape': (2, 3)", b"'shape': (99999999999, 999999)")
    # Python 2's numpy wrote longs as "3L"; keep the header's length
    p2 = hdr.replace(b"'shape': (2, 3), }", b"'shape': (2L, 3L), }").replace(b"  \n", b"\n", 1)
    assert len(p2) == len(hdr)
    out["python2-long"] = p2
    return out


def seeds_profile():
    """Profiles: full (every field, labels.txt from the fuzzer's sandbox),
    minimal, one-channel BGR-free, and one bad value each."""
    full = {
        "name": "tiny", "description": "a model",
        "input": {"channels": 3, "height": 224, "width": 224, "resize": 256,
                  "scale": 1.0, "mean": [0.485, 0.456, 0.406],
                  "std": [0.229, 0.224, 0.225], "channel_order": "RGB"},
        "labels": "labels.txt",
    }
    gray = {"input": {"channels": 1, "height": 28, "width": 28, "scale": 255,
                      "mean": [0], "std": [1e-3]}}
    bgr = {"name": "caffe", "input": {"channels": 3, "height": 227, "width": 227,
                                      "scale": 255, "mean": [104, 117, 123],
                                      "channel_order": "BGR"}}
    out = {
        "full": full, "gray": gray, "bgr": bgr,
        "minimal": {"input": {"channels": 3, "height": 1, "width": 1}},
        "bad-unknown-field": {"input": {"channels": 3, "height": 8, "width": 8, "colour": 1}},
        "bad-std-zero": {"input": {"channels": 1, "height": 8, "width": 8, "std": [0]}},
        "bad-resize": {"input": {"channels": 3, "height": 64, "width": 32, "resize": 48}},
        "bad-labels-missing": {"input": {"channels": 1, "height": 8, "width": 8},
                               "labels": "nowhere.txt"},
        "bad-channels": {"input": {"channels": 2, "height": 8, "width": 8}},
    }
    seeds = {k: json.dumps(v, indent=1).encode() for k, v in out.items()}
    seeds["bad-huge-int"] = b'{"input": {"channels": 3, "height": 1e400, "width": 99999999999999999999}}'
    seeds["bad-not-object"] = b'[1, 2, 3]'
    return seeds


def topk_doc(k=3, layers=None, **over):
    doc = {
        "format": "convlens-topk", "version": 1,
        "model": {"path": "model.onnx", "size": 1234, "sha256": "ab" * 32},
        "dataset": {"spec": "fashion-mnist", "kind": "fashion-mnist", "n_images": 10,
                    "sha256": "cd" * 32},
        "k": k, "all_positions": False, "limit": 10, "shard_count": 1, "shards": [0],
        "scanned": 10, "complete": True,
        "layers": layers if layers is not None else [
            {"name": "conv1", "channels": 2, "height": 4, "width": 4,
             "top": [[[3, 1, 2, 2.5], [0, 0, 0, 1.25], [7, 3, 3, -0.5]],
                     [[1, 2, 1, 0.75]]]},
            {"name": "fc", "channels": 3, "height": 1, "width": 1,
             "top": [[[2, 0, 0, 9]], [], [[5, 0, 0, 1e-3], [6, 0, 0, 1e-3]]]},
        ],
    }
    doc.update(over)
    return doc


def seeds_topk():
    """Top-k results as `convlens topk` writes them: complete, partial and
    sharded, plus one defect each (entry out of range, order, k, sizes)."""
    out = {
        "complete": topk_doc(),
        "partial-shard": topk_doc(complete=False, scanned=4, shard_count=3, shards=[1, 2]),
        "all-positions-k1": topk_doc(k=1, all_positions=True, layers=[
            {"name": "relu", "channels": 1, "height": 2, "width": 3,
             "top": [[[9, 1, 2, 4]]]}]),
        "bad-entry-range": topk_doc(layers=[
            {"name": "c", "channels": 1, "height": 2, "width": 2, "top": [[[0, 2, 0, 1]]]}]),
        "bad-order": topk_doc(layers=[
            {"name": "c", "channels": 1, "height": 2, "width": 2,
             "top": [[[0, 0, 0, 1], [1, 0, 0, 2]]]}]),
        "bad-k": topk_doc(k=5000),
        "bad-huge-channels": topk_doc(layers=[
            {"name": "c", "channels": 2000000000, "height": 1, "width": 1, "top": []}]),
        "bad-version": topk_doc(version=2),
    }
    return {k: json.dumps(v).encode() for k, v in out.items()}


def idx_file(shape, data):
    return bytes([0, 0, 8, len(shape)]) + b"".join(struct.pack(">I", d) for d in shape) + \
        bytes(data)


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def idx_pair(images, labels):
    return struct.pack("<H", len(images)) + images + labels


def seeds_idx():
    """idx data sets (a 2-byte length, the images file, the labels file):
    raw and gzip-compressed, plus a count mismatch, a label out of range,
    a truncated image file and huge declared sizes."""
    n, h, w = 3, 4, 5
    pix = [(i * 37) % 256 for i in range(n * h * w)]
    images = idx_file([n, h, w], pix)
    labels = idx_file([n], [0, 9, 4])
    return {
        "raw": idx_pair(images, labels),
        "gzip": idx_pair(gz(images), gz(labels)),
        "mixed": idx_pair(images, gz(labels)),
        "bad-count": idx_pair(images, idx_file([2], [1, 2])),
        "bad-label": idx_pair(images, idx_file([n], [0, 10, 1])),
        "bad-truncated": idx_pair(images[:-7], labels),
        "bad-huge": idx_pair(idx_file([0xffffffff, 0xffffffff, 0xffffffff], pix), labels),
        "bad-wide": idx_pair(idx_file([1, 1, 5000], [0] * 5000), idx_file([1], [1])),
        "bad-gzip-truncated": idx_pair(gz(images)[:-12], labels),
    }


def seeds_correspondence():
    """Correspondence specs (docs/analyses.md): the documented example,
    a gray and an RGB fill, many boxes, plus one defect each (missing
    part, box out of range, one image, unknown member)."""
    example = {
        "fill": "mean", "trials": 10, "seed": 1,
        "images": [
            {"file": "dog1.jpg", "parts": {"left eye": [120, 80, 30, 20],
                                           "nose": [[150, 120, 40, 30]]}},
            {"file": "dog2.jpg", "parts": {"left eye": [98, 64, 28, 22],
                                           "nose": [[131, 110, 36, 28], [0, 0, 4, 4]]}},
        ],
    }

    def variant(**over):
        d = json.loads(json.dumps(example))
        d.update(over)
        return d

    three = [{"file": f"im{i}.png", "parts": {"a": [i, i, 1, 1],
                                              "b": [[0, 0, 2, 2]] * 3}} for i in range(3)]
    out = {
        "example": example,
        "fill-gray": variant(fill=0.5, trials=0, seed=4294967295),
        "fill-rgb": variant(fill=[1, 0, 0.25]),
        "three-images": {"images": three},
        "bad-missing-part": {"images": [three[0], {"file": "x.png", "parts": {"a": [0, 0, 1, 1]}}]},
        "bad-box": variant(images=[three[0], {"file": "x.png", "parts": {
            "a": [0, 0, 0, 1], "b": [0, 0, 1, 1]}}]),
        "bad-one-image": {"images": [three[0]]},
        "bad-member": variant(colour=1),
        "bad-trials": variant(trials=1001),
        "bad-coord": variant(images=[three[0], {"file": "x.png", "parts": {
            "a": [1000001, 0, 1, 1], "b": [0, 0, 1, 1]}}]),
    }
    return {k: json.dumps(v).encode() for k, v in out.items()}


def seeds_onnx():
    blobs = {}
    for name, make in VALID.items():
        m = make()
        onnx.checker.check_model(m, full_check=True)
        blobs[name] = m.SerializeToString()
    for name, make in NEAR_VALID.items():
        blobs[name] = make().SerializeToString()
    blobs["bad-truncated"] = blobs["tiny-cnn-raw"][: len(blobs["tiny-cnn-raw"]) // 2]
    return blobs


CORPORA = {
    "onnx": (seeds_onnx, ".onnx", MAX_SEED, MAX_TOTAL),
    "png": (seeds_png, ".png", 2048, 20 * 1024),
    "jpeg": (seeds_jpeg, ".jpg", 2048, 20 * 1024),
    "npy": (seeds_npy, ".npy", 2048, 20 * 1024),
    "profile": (seeds_profile, ".json", 2048, 20 * 1024),
    "topk": (seeds_topk, ".json", 2048, 20 * 1024),
    "idx": (seeds_idx, ".idx", 6000, 20 * 1024),
    "correspondence": (seeds_correspondence, ".json", 2048, 20 * 1024),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else here
    for target, (make, ext, max_seed, max_total) in CORPORA.items():
        out = os.path.join(root, "corpus-" + target)
        os.makedirs(out, exist_ok=True)
        blobs = make()
        total = 0
        for name, data in blobs.items():
            assert len(data) <= max_seed, f"{target}/{name}: {len(data)} bytes, over {max_seed}"
            total += len(data)
            with open(os.path.join(out, name + ext), "wb") as f:
                f.write(data)
        assert total <= max_total, f"{target}: {total} bytes, over {max_total}"
        print(f"make-seeds: {len(blobs)} seeds, {total} bytes in {out}")


if __name__ == "__main__":
    main()
