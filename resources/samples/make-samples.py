#!/usr/bin/python3
"""Writes the 20 sample images ConvLens ships: the first two images of each
class in the Fashion-MNIST test split (Debian's dataset-fashion-mnist), as
8-bit gray 28x28 PNG files named test-INDEX-CLASS.png.

usage: make-samples.py [OUTDIR]   (default: this script's folder)
"""
import gzip
import os
import struct
import sys
import zlib

SRC = "/usr/share/datasets/fashion-mnist"
CLASSES = ["t-shirt-top", "trouser", "pullover", "dress", "coat",
           "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def png_gray(path, w, h, pixels):
    def chunk(kind, body):
        c = struct.pack(">I", len(body)) + kind + body
        return c + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
    raw = b"".join(b"\0" + pixels[y * w:(y + 1) * w] for y in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    (n, h, w), images = idx(SRC + "/t10k-images-idx3-ubyte.gz")
    _, labels = idx(SRC + "/t10k-labels-idx1-ubyte.gz")
    taken = {c: 0 for c in range(10)}
    for i in range(n):
        c = labels[i]
        if taken[c] < 2:
            taken[c] += 1
            png_gray(os.path.join(out, "test-%05d-%s.png" % (i, CLASSES[c])), w, h,
                     images[i * h * w:(i + 1) * h * w])
        if all(v == 2 for v in taken.values()):
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
