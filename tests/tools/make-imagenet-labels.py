#!/usr/bin/python3
"""Writes models/imagenet-labels.txt: the 1000 ImageNet class names in
class-index order, one per line, taken from torchvision's own list
(torchvision.models._meta._IMAGENET_CATEGORIES, Debian's
python3-torchvision), so that they match torchvision's pretrained models.

Usage: make-imagenet-labels.py [OUTPUT]   (default: models/imagenet-labels.txt
beside this repository's tests/)
"""

import os
import sys

from torchvision.models._meta import _IMAGENET_CATEGORIES


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "..", "models", "imagenet-labels.txt")
    cats = list(_IMAGENET_CATEGORIES)
    if len(cats) != 1000:
        sys.exit("expected 1000 categories, torchvision has %d" % len(cats))
    for c in cats:
        if "\n" in c or "\r" in c or not c:
            sys.exit("unexpected category name %r" % c)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        for c in cats:
            f.write(c + "\n")


if __name__ == "__main__":
    main()
