"""Fashion-MNIST (FIT3181 A1 Part 2): loading from Keras, a local folder or the Keras cache; the split."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coursekit.datasets.idx import read_idx

FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
DEFAULT_DIR = Path("datasets/fashion_mnist")
SOURCE_URL = "https://github.com/zalandoresearch/fashion-mnist (folder data/fashion)"


def keras_cache_dirs():
    """Where ``keras.datasets.fashion_mnist`` keeps its files: ``$KERAS_HOME`` or ``~/.keras``, then ``/tmp/.keras``."""
    home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    return [Path(home) / "datasets" / "fashion-mnist", Path("/tmp/.keras/datasets/fashion-mnist")]


def _has_files(folder):
    return folder.is_dir() and all((folder / name).is_file() for name in FILES.values())


def _read_folder(folder):
    data = {key: read_idx(folder / name) for key, name in FILES.items()}
    for split in ("train", "test"):
        x, y = data[f"x_{split}"], data[f"y_{split}"]
        if x.ndim != 3 or len(x) != len(y):
            raise ValueError(f"{folder}: {FILES['x_' + split]} holds {x.shape} but {FILES['y_' + split]} "
                             f"holds {len(y)} labels; the files do not belong together")
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def load_fashion_mnist(data_dir=None, allow_download=True):
    """``((X_train_full_img, y_train_full), (X_test_img, y_test))`` as ``uint8`` images and labels.

    Looks, in order, in ``data_dir`` (when given, it must hold the four files), in
    ``datasets/fashion_mnist/``, in the Keras cache, and finally asks
    ``keras.datasets.fashion_mnist.load_data()`` to download (unless ``allow_download`` is
    False). Fails with a message listing the files and where to put them.
    """
    if data_dir is not None:
        folder = Path(data_dir)
        if not _has_files(folder):
            missing = [n for n in FILES.values() if not (folder / n).is_file()]
            raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}; put the four Fashion-MNIST files "
                                    f"there ({', '.join(FILES.values())}) from {SOURCE_URL}")
        return _read_folder(folder)
    for folder in [DEFAULT_DIR, *keras_cache_dirs()]:
        if _has_files(folder):
            return _read_folder(folder)
    if allow_download:
        try:
            import keras
            return keras.datasets.fashion_mnist.load_data()
        except Exception as exc:  # offline: Keras raises a bare "URL fetch failure"
            reason = f" (download failed: {exc})"
    else:
        reason = ""
    raise FileNotFoundError(f"Fashion-MNIST not found{reason}. Put {', '.join(FILES.values())} from "
                            f"{SOURCE_URL} in {DEFAULT_DIR}/ (or pass --data DIR), or in {keras_cache_dirs()[0]}/")


@dataclass
class FashionSplits:
    """The Q2.2 arrays: flattened, scaled to [0, 1] float32, train/validation/test."""
    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray
    value_range: tuple = (0.0, 1.0)


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
    return FashionSplits(x_full[:i].astype(np.float32) * scale, y_full[:i], x_full[i:].astype(np.float32) * scale,
                         y_full[i:], x_test.reshape(len(x_test), -1).astype(np.float32) * scale,
                         y_test.astype(np.int64), np.array(CLASS_NAMES))


def plot_image_grid(images, labels, n=36, seed=0, save_path=None):
    """``n`` random images in a square grid titled "k:Name" with 1-based class numbers (Q2.3)."""
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    idx = rng.choice(len(images), size=min(n, len(images)), replace=False)
    side = int(np.ceil(np.sqrt(len(idx))))
    fig, axes = plt.subplots(side, side, figsize=(1.6 * side, 1.8 * side), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), idx):
        ax.imshow(images[i], cmap="gray")
        ax.set_title(f"{labels[i] + 1}:{CLASS_NAMES[labels[i]]}", fontsize=7)
    fig.tight_layout()
    if save_path is not None:
        fig.savefig(save_path, dpi=110)
    return fig
