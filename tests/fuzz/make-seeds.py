#!/usr/bin/python3
"""Writes the seed corpus of the ONNX loader fuzzer (tests/fuzz/corpus-onnx).

Run with Debian's python3 (python3-onnx, python3-numpy):

    /usr/bin/python3 tests/fuzz/make-seeds.py [OUTDIR]

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
the whole corpus under 200 KB."""

import os
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


VALID = {
    "tiny-cnn-raw": lambda: tiny_cnn(False),
    "tiny-cnn-typed": lambda: tiny_cnn(True),
    "dynamic-batch": dynamic_batch,
    "shape-chain": shape_chain,
    "branches-opset11": branches,
    "opset7": opset7,
}

NEAR_VALID = {
    "bad-external-data": external_data,
    "bad-unsupported-op": unsupported_op,
    "bad-float16": float16_weights,
    "bad-dynamic-hw": dynamic_spatial,
    "bad-dangling-input": dangling_input,
    "bad-shape-mismatch": shape_mismatch,
    "bad-huge-shape": huge_shape,
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus-onnx")
    os.makedirs(out, exist_ok=True)
    blobs = {}
    for name, make in VALID.items():
        m = make()
        onnx.checker.check_model(m, full_check=True)
        blobs[name] = m.SerializeToString()
    for name, make in NEAR_VALID.items():
        blobs[name] = make().SerializeToString()
    blobs["bad-truncated"] = blobs["tiny-cnn-raw"][: len(blobs["tiny-cnn-raw"]) // 2]

    total = 0
    for name, data in blobs.items():
        assert len(data) < MAX_SEED, f"{name}: {len(data)} bytes, over {MAX_SEED}"
        total += len(data)
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(data)
    assert total < MAX_TOTAL, f"corpus is {total} bytes, over {MAX_TOTAL}"
    print(f"make-seeds: {len(blobs)} seeds, {total} bytes in {out}")


if __name__ == "__main__":
    main()
