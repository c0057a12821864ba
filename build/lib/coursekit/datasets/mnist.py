"""MNIST (DS 5220 PS4): the four IDX files, pixel statistics, and ``tf.data`` batches for the epoch loops."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from coursekit.datasets.idx_sets import IdxSource, load_idx_dataset

DEFAULT_DIR = Path("datasets/mnist")
SOURCE = IdxSource("MNIST", DEFAULT_DIR, "mnist", "mnist.npz",
                   "https://ossci-datasets.s3.amazonaws.com/mnist/ (a mirror of yann.lecun.com/exdb/mnist)")
CLASS_NAMES = [str(d) for d in range(10)]


def load_mnist(data_dir=None, allow_download=True):
    """``((x_train, y_train), (x_test, y_test))`` as ``uint8``: ``data_dir``, ``datasets/mnist/``,
    the Keras cache (``mnist.npz``), then ``keras.datasets.mnist``; a clear error otherwise."""
    return load_idx_dataset(SOURCE, data_dir, allow_download, default_dir=DEFAULT_DIR)


def pixel_stats(images):
    """Mean and (unbiased) standard deviation of the pixels scaled to [0, 1], as the seed computes
    them from the training images (0.1307 and 0.3081 on MNIST's 60,000)."""
    x = np.asarray(images, dtype=np.float64) / 255.0
    return float(x.mean()), float(x.std(ddof=1))


def to_inputs(images, mean=None, std=None):
    """``N x 28 x 28`` uint8 -> ``N x 28 x 28 x 1`` float32 in [0, 1], then ``(x - mean) / std`` when given
    (the seed's ``ToTensor`` + optional ``Normalize``)."""
    x = np.asarray(images, dtype=np.float32)[..., None] / np.float32(255.0)
    if mean is not None:
        x = (x - np.float32(mean)) / np.float32(std)
    return x
