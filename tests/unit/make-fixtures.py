#!/usr/bin/python3
"""Reference data for the engine unit tests, written by NumPy and PyTorch
(independent of ConvLens's own code).

  make-fixtures.py npy OUTDIR      .npy files in every layout numpy writes
  make-fixtures.py torch OUTDIR    resize / preprocessing references (torch)
  make-fixtures.py pil OUTDIR      images written by Pillow + Pillow's decoding
  make-fixtures.py describe FILE   print what numpy reads from FILE:
                                   "DTYPE DIM,DIM,... V0 V1 ..." (one line)

The C tests run this with Debian's /usr/bin/python3 and skip what it cannot
produce (exit status 77 means: module not installed).
"""

import os
import sys


def formula_4d():
    import numpy as np
    # Same formula as expected_4d() in test-npy.c
    return ((np.arange(60).reshape(1, 3, 4, 5) % 7) * 0.25 - 0.5).astype("<f4")


def write_npy(outdir):
    import numpy as np
    from numpy.lib import format as npformat

    def save(name, arr):
        np.save(os.path.join(outdir, name), arr, allow_pickle=False)

    save("f4_2x3.npy", (np.arange(6, dtype="<f4").reshape(2, 3) * 0.5 - 1.0))
    save("f8_3.npy", np.array([1.5, -2.25, 1e-3], dtype="<f8"))
    save("i8_4.npy", np.array([1, -2, 2**40, 0], dtype="<i8"))
    save("scalar.npy", np.array(3.25, dtype="<f4"))
    save("empty.npy", np.zeros((0, 5), dtype="<f4"))
    save("4d.npy", formula_4d())
    save("fortran.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
    save("be.npy", np.arange(3, dtype=">f4"))
    save("f2.npy", np.arange(3, dtype="<f2"))
    save("dims9.npy", np.zeros((1,) * 9, dtype="<f4"))
    save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<f4")]))
    for version in ((2, 0), (3, 0)):
        with open(os.path.join(outdir, "v%d.npy" % version[0]), "wb") as f:
            npformat.write_array(f, formula_4d(), version=version)


def write_torch(outdir):
    import numpy as np
    import torch
    import torch.nn.functional as F
    import torchvision.transforms as T

    # An image as C,H,W in [0,1] with distinct values everywhere; the same
    # formula is make_pattern() in test-image.c.
    def pattern(h, w):
        y, x = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        chans = [((x * 3 + y * 5 + c * 7) % 11) / 10.0 for c in range(3)]
        return np.stack(chans).astype(np.float32)

    img = torch.from_numpy(pattern(5, 7))[None]
    for oh, ow in ((3, 4), (9, 11), (5, 2), (12, 7)):
        out = F.interpolate(img, size=(oh, ow), mode="bilinear", align_corners=False)
        np.save(os.path.join(outdir, "resize_5x7_to_%dx%d.npy" % (oh, ow)),
                out.numpy().astype("<f4"))

    # torchvision's evaluation transform on a tensor image (no antialias):
    # shorter side 10 -> 8, longer 14 -> int(8 * 14 / 10) = 11, centre crop
    # 6x6 (left offset round(2.5) = 2), ImageNet mean/std.
    src = torch.from_numpy(pattern(10, 14))
    tf = T.Compose([
        T.Resize(8, interpolation=T.InterpolationMode.BILINEAR, antialias=False),
        T.CenterCrop(6),
        T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    np.save(os.path.join(outdir, "preprocess_10x14.npy"), tf(src)[None].numpy().astype("<f4"))


def write_pil(outdir):
    import numpy as np
    from PIL import Image

    rgba = (np.random.RandomState(1).rand(33, 29, 4) * 255).astype("uint8")
    Image.fromarray(rgba, "RGBA").save(os.path.join(outdir, "pil-rgba.png"))
    rgb = Image.fromarray(rgba[..., :3])
    rgb.save(os.path.join(outdir, "pil-q90.jpg"), quality=90)
    rgb.save(os.path.join(outdir, "pil-progressive.jpg"), quality=75, progressive=True)
    rgb.convert("P").save(os.path.join(outdir, "pil-palette.png"))
    rgb.convert("L").save(os.path.join(outdir, "pil-gray.jpg"), quality=95)

    # Pillow's own decoding, alpha composited over white, as H,W,3 in [0,1]
    for name in ("pil-rgba.png", "pil-q90.jpg", "pil-progressive.jpg", "pil-palette.png",
                 "pil-gray.jpg"):
        im = Image.open(os.path.join(outdir, name)).convert("RGBA")
        a = np.asarray(im).astype(np.float64) / 255.0
        ref = a[..., :3] * a[..., 3:4] + (1.0 - a[..., 3:4])
        np.save(os.path.join(outdir, name + ".npy"), ref.astype("<f4"))


def describe(path):
    import numpy as np
    arr = np.load(path, allow_pickle=False)
    dims = ",".join(str(d) for d in arr.shape)
    values = " ".join(repr(float(v)) if arr.dtype.kind == "f" else str(int(v))
                      for v in arr.reshape(-1))
    print("%s %s %s" % (arr.dtype.name, dims or "-", values))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    mode, arg = sys.argv[1], sys.argv[2]
    try:
        if mode == "npy":
            write_npy(arg)
        elif mode == "torch":
            write_torch(arg)
        elif mode == "pil":
            write_pil(arg)
        elif mode == "describe":
            describe(arg)
        else:
            sys.exit(__doc__)
    except ImportError as e:
        print("missing module: %s" % e, file=sys.stderr)
        sys.exit(77)


if __name__ == "__main__":
    main()
