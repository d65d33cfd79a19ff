#!/usr/bin/python3
"""The ONNX our writer produces is valid for Debian's python3-onnx, and
means what our engine computes: PyTorch recomputes the forward pass of the
exported zf-mini from its initializers and attributes, and must agree with
the engine's probabilities.

usage: check-export.py EXPORT_TOOL OUTDIR
"""
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main():
    tool, outdir = sys.argv[1], sys.argv[2]
    subprocess.run([tool, outdir], check=True)
    model = onnx.load(outdir + "/zf-mini.onnx")
    onnx.checker.check_model(model, full_check=True)

    g = model.graph
    ops = [n.op_type for n in g.node]
    names = [n.name for n in g.node]
    assert ops == ["Conv", "Relu", "MaxPool", "LRN", "Conv", "Relu", "MaxPool", "LRN",
                   "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Dropout", "Gemm",
                   "Softmax"], ops
    assert names[0] == "conv1" and names[-1] == "prob", names
    assert g.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta.get("convlens.test") == "1", meta

    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    out = inferred.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in out][1:] == [10], out

    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("torch not available: checker only")
        return 0

    init = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in g.initializer}
    attrs = {n.name: {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
             for n in g.node}
    x = torch.from_numpy(np.fromfile(outdir + "/input.f32", dtype="<f4").reshape(3, 1, 28, 28))
    ours = np.fromfile(outdir + "/prob.f32", dtype="<f4").reshape(3, 10)

    values = {g.input[0].name: x}
    for n in g.node:
        a = attrs[n.name]
        ins = [values[i] if i in values else init[i] for i in n.input]
        if n.op_type == "Conv":
            p = a["pads"]
            assert p[0] == p[2] and p[1] == p[3]
            y = F.conv2d(ins[0], ins[1], ins[2] if len(ins) > 2 else None,
                         stride=tuple(a["strides"]), padding=(p[0], p[1]),
                         groups=a.get("group", 1))
        elif n.op_type == "Relu":
            y = F.relu(ins[0])
        elif n.op_type == "MaxPool":
            p = a["pads"]
            y = F.max_pool2d(ins[0], tuple(a["kernel_shape"]), tuple(a["strides"]),
                             padding=(p[0], p[1]))
        elif n.op_type == "LRN":
            y = F.local_response_norm(ins[0], a["size"], alpha=a["alpha"], beta=a["beta"],
                                      k=a["bias"])
        elif n.op_type == "Flatten":
            y = torch.flatten(ins[0], a.get("axis", 1))
        elif n.op_type == "Gemm":
            w = ins[1].t() if a.get("transB", 0) else ins[1]
            y = a.get("alpha", 1.0) * ins[0] @ w + a.get("beta", 1.0) * ins[2]
        elif n.op_type == "Dropout":
            y = ins[0]
        elif n.op_type == "Softmax":
            y = F.softmax(ins[0], dim=a.get("axis", -1))
        else:
            raise AssertionError("unexpected op " + n.op_type)
        values[n.output[0]] = y
    ref = values[g.output[0].name].numpy()
    diff = np.abs(ref - ours).max()
    print("max |torch - engine| = %.3g" % diff)
    assert diff < 1e-5, diff
    return 0


if __name__ == "__main__":
    sys.exit(main())
