"""Shared fixtures: small data made on the fly, never downloaded."""
import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import coursekit  # noqa: E402,F401  (its TensorFlow settings before any test module loads TensorFlow)


def ArrayDataManager(X_train, y_train, X_valid, y_valid, X_test, y_test, classes):  # noqa: N802 (a stand-in class)
    """A stand-in for ``AnimalsDatasetManager`` holding ready-made arrays in [-1, 1]."""
    from coursekit.datasets.splits import Splits

    return Splits(X_train, y_train, X_valid, y_valid, X_test, y_test, np.asarray(classes), (-1.0, 1.0))


def make_blobs_images(n_per_class=40, num_classes=3, size=16, seed=0):
    """Easy synthetic images in [-1, 1]: each class has its own colour pattern plus noise."""
    rng = np.random.default_rng(seed)
    protos = rng.uniform(-0.8, 0.8, (num_classes, size, size, 3))
    xs, ys = [], []
    for c in range(num_classes):
        xs.append(np.clip(protos[c] + rng.normal(0, 0.15, (n_per_class, size, size, 3)), -1, 1))
        ys.append(np.full(n_per_class, c))
    X = np.concatenate(xs).astype(np.float32)
    y = np.concatenate(ys).astype(np.int64)
    order = rng.permutation(len(y))
    return X[order], y[order]


@pytest.fixture(scope="session")
def blobs_manager():
    """A 3-class, 16x16 data manager a small CNN learns in a couple of epochs."""
    X, y = make_blobs_images(n_per_class=60)
    n = len(y)
    a, b = int(0.7 * n), int(0.85 * n)
    return ArrayDataManager(X[:a], y[:a], X[a:b], y[a:b], X[b:], y[b:], ["red", "green", "blue"])


@pytest.fixture(scope="session")
def digits_manager(tmp_path_factory):
    """The embedded digits set (a few per class) loaded through the real loader."""
    from models import AnimalsDatasetManager, SimplePreprocessor, create_label_folder_dict, render_digits_folder

    root = render_digits_folder(tmp_path_factory.mktemp("digits") / "tree")
    dm = AnimalsDatasetManager([SimplePreprocessor(32, 32)])
    dm.load(create_label_folder_dict(root), max_num_images=40)
    dm.process_data_label()
    dm.train_valid_test_split()
    return dm
