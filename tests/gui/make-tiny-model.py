#!/usr/bin/python3
"""Writes the GUI tests' fixtures into OUTDIR:

  tiny.onnx           a seeded 2-conv + max-pool + linear net on 1x3x32x32
  tiny-image.png      a 32x32 RGB test picture (plain zlib PNG writer)
  tiny-expected.json  what PyTorch computes for that picture: the graph's
                      node ops and output shapes, the softmax top-5, and the
                      per-channel max of the first ReLU's output

The expected values come from PyTorch and the onnx package, never from
ConvLens.  Without torch/onnx the script writes nothing and exits 0, and
the tests that need the fixtures skip.
"""
import json
import os
import struct
import sys
import zlib


def write_png(path, width, height, rows):
    """rows: list of bytes objects, width*3 each (8-bit RGB)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body) & 0xffffffff)

    raw = b''.join(b'\x00' + r for r in rows)
    png = (b'\x89PNG\r\n\x1a\n'
           + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
           + chunk(b'IDAT', zlib.compress(raw, 9))
           + chunk(b'IEND', b''))
    with open(path, 'wb') as f:
        f.write(png)


def test_picture(size=32):
    """A red disc on a blue-green diagonal gradient with a white bar."""
    pixels = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            r = 20
            g = int(255 * x / (size - 1))
            b = int(255 * y / (size - 1))
            if (x - 12) ** 2 + (y - 13) ** 2 <= 49:
                r, g, b = 230, 40, 30
            if 22 <= x <= 26 and 4 <= y <= 27:
                r, g, b = 250, 250, 250
            row += bytes((r, g, b))
        pixels.append(bytes(row))
    return pixels


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: make-tiny-model.py OUTDIR')
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    try:
        import numpy as np
        import onnx
        import torch
        import torch.nn as nn
    except ImportError as e:  # the tests skip without fixtures
        print(f'make-tiny-model: {e}; no fixtures written', file=sys.stderr)
        return 0

    torch.manual_seed(20140)

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
            self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
            self.fc = nn.Linear(16 * 8 * 8, 10)

        def forward(self, x):
            x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
            x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
            return self.fc(torch.flatten(x, 1))

    net = Tiny().eval()
    with torch.no_grad():
        # default init leaves all ten classes near 10 %: sharpen so that
        # the top-5 order is far from ties
        net.fc.weight.mul_(40.0)
    rows = test_picture()
    write_png(os.path.join(out, 'tiny-image.png'), 32, 32, rows)
    # the app feeds a 32x32 3-channel input as plain [0,1] RGB (no mean/std)
    img = np.frombuffer(b''.join(rows), dtype=np.uint8).reshape(32, 32, 3)
    x = torch.from_numpy(img.astype(np.float32) / 255.0).permute(2, 0, 1).unsqueeze(0)

    model_path = os.path.join(out, 'tiny.onnx')
    torch.onnx.export(net, torch.zeros(1, 3, 32, 32), model_path, opset_version=11,
                      input_names=['input'], output_names=['logits'])

    with torch.no_grad():
        relu1 = torch.relu(net.conv1(x))
        probs = torch.softmax(net(x), dim=1)[0].double()
    top = torch.argsort(probs, descending=True)[:5].tolist()

    model = onnx.shape_inference.infer_shapes(onnx.load(model_path))
    shapes = {}
    for vi in list(model.graph.value_info) + list(model.graph.output):
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    layers = [{'name': n.name, 'op': n.op_type, 'shape': shapes.get(n.output[0])}
              for n in model.graph.node if n.op_type != 'Constant']

    # the gray level of a few pixels of relu1's channel 0, stretched to
    # its own min..max (the feature grid's per-channel normalisation)
    c0 = relu1[0, 0].double()
    lo, hi = float(c0.min()), float(c0.max())
    samples = [{'x': x, 'y': y, 'gray': round(255 * (float(c0[y, x]) - lo) / (hi - lo))}
               for (x, y) in ((0, 0), (5, 27), (12, 13), divmod(int(c0.argmax()), 32)[::-1])]

    expected = {
        'relu1_c0_samples': samples,
        'layers': layers,
        'top5': [{'index': i, 'probability': float(probs[i])} for i in top],
        'relu1_max': [float(v) for v in relu1[0].amax(dim=(1, 2))],
        'relu1_channels': int(relu1.shape[1]),
    }
    with open(os.path.join(out, 'tiny-expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
