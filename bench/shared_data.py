"""Write the real copies in ``../shared/data`` in the layouts the tasks read, for measuring on real data.

``python -m bench.shared_data mnist DIR``: the 8,000 real MNIST test images there (the training
images are not in that copy) as four idx ``.gz`` files: the first 6,000 as "training" and the
last 2,000 as "test".
``python -m bench.shared_data cifar10 DIR``: the 5,000 training and 8,000 test images as
``train/<class>/*.png`` and ``test/<class>/*.png`` folders.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def write_mnist(out, n_train=6000):
    from coursekit.datasets.idx import write_idx
    from coursekit.datasets.idx_sets import FILES

    z = np.load(SHARED / "mnist" / "mnist_test_shared.npz")
    x, y = z["x"], z["y"].astype(np.uint8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for key, arr in (("x_train", x[:n_train]), ("y_train", y[:n_train]), ("x_test", x[n_train:]),
                     ("y_test", y[n_train:])):
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
    args = p.parse_args(argv)
    print({"mnist": write_mnist, "cifar10": write_cifar10}[args.dataset](args.out))


if __name__ == "__main__":
    main()
