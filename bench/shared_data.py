"""Write the real copies in ``../shared/data`` in the layouts the tasks read, for measuring on real data.

``python -m bench.shared_data mnist DIR``: all 60,000 real MNIST training images and the 8,000 shared test
images as the four idx ``.gz`` files the ``mnist`` task reads (``--subset`` keeps the old layout: the first
6,000 test images as "training" and the last 2,000 as "test", for copies without the training files).
``python -m bench.shared_data cifar10 DIR``: the 5,000 training and 8,000 test images as
``train/<class>/*.png`` and ``test/<class>/*.png`` folders.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def write_mnist(out, n_train=6000, subset=False):
    from coursekit.datasets.idx import write_idx
    from coursekit.datasets.idx_sets import FILES

    z = np.load(SHARED / "mnist" / "mnist_test_shared.npz")
    x, y = z["x"], z["y"].astype(np.uint8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if subset or not (SHARED / "mnist" / "mnist_train.npz").is_file():
        parts = (("x_train", x[:n_train]), ("y_train", y[:n_train]), ("x_test", x[n_train:]), ("y_test", y[n_train:]))
    else:
        train = np.load(SHARED / "mnist" / "mnist_train.npz")
        parts = (("x_train", train["x"]), ("y_train", train["y"].astype(np.uint8)), ("x_test", x), ("y_test", y))
    for key, arr in parts:
        write_idx(arr, out / FILES[key])
    return out


def write_cifar10(out):
    from PIL import Image

    out = Path(out)
    for split, name in (("train", "cifar10_train_subset.npz"), ("test", "cifar10_test_shared.npz")):
        z = np.load(SHARED / "cifar10" / name)
        names = [str(c) for c in z["class_names"]]
        counts = {}
        for img, label in zip(z["x"], z["y"]):
            folder = out / split / names[label]
            folder.mkdir(parents=True, exist_ok=True)
            k = counts.get(label, 0)
            counts[label] = k + 1
            Image.fromarray(img).save(folder / f"{k:04d}.png")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.shared_data", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", choices=["mnist", "cifar10"])
    p.add_argument("out", type=Path)
    p.add_argument("--subset", action="store_true", help="mnist: the old 6,000/2,000 split of the test images")
    args = p.parse_args(argv)
    print(write_mnist(args.out, subset=args.subset) if args.dataset == "mnist" else write_cifar10(args.out))


if __name__ == "__main__":
    main()
