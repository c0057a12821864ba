"""Write the real copies in ``../shared/data`` in the layouts the tasks read, for measuring on real data.

``python -m bench.shared_data mnist DIR``: all 60,000 real MNIST training images and the 8,000 shared test
images as the four idx ``.gz`` files the ``mnist`` task reads (``--subset`` keeps the old layout: the first
6,000 test images as "training" and the last 2,000 as "test", for copies without the training files).
``python -m bench.shared_data fashion-mnist DIR``: the 60,000 training and 8,000 shared test images as the four idx
files the ``fashion-mnist`` task reads.
``python -m bench.shared_data cifar10 DIR``: the 8,000 shared test images as ``test/<class>/*.png`` and a link to
the 50,000-image ``cifar10_train_jpeg.tar.gz`` (the loader unpacks it); ``--subset`` writes the 5,000-image
training subset as ``train/<class>/*.png`` instead.
``python -m bench.shared_data animals DIR``: the 2,400 real Animals images (32x32) as ``<class>/*.png``, the
layout ``python -m assignment animals --data DIR --max-images 800`` reads.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _write_idx_set(out, parts):
    from coursekit.datasets.idx import write_idx
    from coursekit.datasets.idx_sets import FILES

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for key, arr in parts:
        write_idx(arr, out / FILES[key])
    return out


def write_fashion_mnist(out, subset=False):
    train = np.load(SHARED / "fashion_mnist" / "fashion_mnist_train.npz")
    test = np.load(SHARED / "fashion_mnist" / "fashion_mnist_test_shared.npz")
    return _write_idx_set(out, (("x_train", train["x"]), ("y_train", train["y"].astype(np.uint8)),
                                ("x_test", test["x"]), ("y_test", test["y"].astype(np.uint8))))


def write_mnist(out, n_train=6000, subset=False):
    z = np.load(SHARED / "mnist" / "mnist_test_shared.npz")
    x, y = z["x"], z["y"].astype(np.uint8)
    if subset or not (SHARED / "mnist" / "mnist_train.npz").is_file():
        parts = (("x_train", x[:n_train]), ("y_train", y[:n_train]), ("x_test", x[n_train:]), ("y_test", y[n_train:]))
    else:
        train = np.load(SHARED / "mnist" / "mnist_train.npz")
        parts = (("x_train", train["x"]), ("y_train", train["y"].astype(np.uint8)), ("x_test", x), ("y_test", y))
    return _write_idx_set(out, parts)


def _write_pngs(z, out):
    from PIL import Image

    names = [str(c) for c in z["class_names"]]
    counts = {}
    for img, label in zip(z["x"], z["y"]):
        folder = out / names[label]
        folder.mkdir(parents=True, exist_ok=True)
        k = counts.get(label, 0)
        counts[label] = k + 1
        Image.fromarray(img).save(folder / f"{k:04d}.png")


def write_cifar10(out, subset=False):
    out = Path(out)
    _write_pngs(np.load(SHARED / "cifar10" / "cifar10_test_shared.npz"), out / "test")
    archive = SHARED / "cifar10" / "cifar10_train_jpeg.tar.gz"
    if subset or not archive.is_file():
        _write_pngs(np.load(SHARED / "cifar10" / "cifar10_train_subset.npz"), out / "train")
    else:
        link = out / archive.name
        link.unlink(missing_ok=True)
        link.symlink_to(archive.resolve())
    return out


def write_animals(out):
    out = Path(out)
    _write_pngs(np.load(SHARED / "animals" / "animals_shared_32px.npz"), out)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.shared_data", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", choices=["mnist", "fashion-mnist", "cifar10", "animals"])
    p.add_argument("out", type=Path)
    p.add_argument("--subset", action="store_true", help="mnist: the old 6,000/2,000 split of the test images; "
                                                         "cifar10: the 5,000-image training subset as PNGs")
    args = p.parse_args(argv)
    if args.dataset == "animals":
        print(write_animals(args.out))
    else:
        writer = {"mnist": write_mnist, "fashion-mnist": write_fashion_mnist, "cifar10": write_cifar10}[args.dataset]
        print(writer(args.out, subset=args.subset))


if __name__ == "__main__":
    main()
