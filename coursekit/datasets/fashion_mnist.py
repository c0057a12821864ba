"""Fashion-MNIST (FIT3181 A1 Part 2): loading from Keras, a local folder or the Keras cache; the split."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from coursekit.datasets.idx_sets import FILES, IdxSource, load_idx_dataset  # noqa: F401
from coursekit.datasets.splits import Splits

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
DEFAULT_DIR = Path("datasets/fashion_mnist")
SOURCE = IdxSource("Fashion-MNIST", DEFAULT_DIR, "fashion_mnist", "fashion-mnist",
                   "https://github.com/zalandoresearch/fashion-mnist (folder data/fashion)")


def load_fashion_mnist(data_dir=None, allow_download=True):
    """``((X_train_full_img, y_train_full), (X_test_img, y_test))`` as ``uint8`` images and labels.

    Looks in ``data_dir``, ``datasets/fashion_mnist/``, the Keras cache, then downloads
    (see ``coursekit.datasets.idx_sets.load_idx_dataset``).
    """
    return load_idx_dataset(SOURCE, data_dir, allow_download, default_dir=DEFAULT_DIR)


def prepare_splits(train_full, test, train_fraction=0.9, seed=1234):
    """Flatten to vectors, keep the first 90% (after a seeded shuffle) for training and the rest
    for validation, and scale pixels to [0, 1] (Q2.1-Q2.2).

    The shuffle makes the split fair for files stored in class order; Keras' own copy is
    already shuffled, for which it changes nothing statistically.
    """
    (x_full, y_full), (x_test, y_test) = train_full, test
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    order = np.random.default_rng(seed).permutation(len(y_full))
    x_full = x_full[order].reshape(len(order), -1)
    y_full = y_full[order].astype(np.int64)
    i = int(np.floor(train_fraction * len(y_full)))
    scale = np.float32(1.0 / 255.0)
    return Splits(x_full[:i].astype(np.float32) * scale, y_full[:i], x_full[i:].astype(np.float32) * scale,
                  y_full[i:], x_test.reshape(len(x_test), -1).astype(np.float32) * scale, y_test.astype(np.int64),
                  classes=np.array(CLASS_NAMES), value_range=(0.0, 1.0))
