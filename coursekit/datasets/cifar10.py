"""CIFAR-10 (RecVis A2 Part 3): image folders (or a ``.tar.gz`` of them), the binary version, or Keras' own
loader; scaled to [-1, 1]."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from coursekit.datasets.archives import extract_once, is_archive
from coursekit.datasets.image_folders import read_class_folders

CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
DEFAULT_DIR = Path("datasets/cifar10")
BIN_TRAIN = [f"data_batch_{i}.bin" for i in range(1, 6)]
BIN_TEST = "test_batch.bin"
RECORD = 1 + 32 * 32 * 3
LAYOUTS = ("an image folder tree train/<class>/*.png|jpg and test/<class>/... (either tree may come as a "
           ".tar.gz holding train/ or test/, e.g. cifar10_train_jpeg.tar.gz, in the folder), or the binary version "
           "(cifar-10-batches-bin/ with data_batch_1.bin ... data_batch_5.bin and test_batch.bin) from "
           "https://www.cs.toronto.edu/~kriz/cifar.html")


def read_cifar_bin(path):
    """One file of the binary version: ``(images [N x 32 x 32 x 3] uint8, labels [N])``."""
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD:
        raise ValueError(f"{path} is not a CIFAR-10 binary batch: {raw.size} bytes is not a multiple of "
                         f"{RECORD} (1 label byte + 3072 pixel bytes per image); download it again")
    records = raw.reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise ValueError(f"{path}: label {labels.max()} is not a CIFAR-10 class (0-9); is this CIFAR-100?")
    return records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


def _bin_folder(folder):
    for candidate in (folder, folder / "cifar-10-batches-bin"):
        if (candidate / BIN_TEST).is_file():
            return candidate
    return None


def _read_bin(folder):
    missing = [n for n in BIN_TRAIN + [BIN_TEST] if not (folder / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)} of CIFAR-10's binary version")
    parts = [read_cifar_bin(folder / n) for n in BIN_TRAIN]
    train = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    return train, read_cifar_bin(folder / BIN_TEST)


def _read_folders(trees, limit_per_class=None):
    x_train, y_train, classes = read_class_folders(trees["train"], limit_per_class=limit_per_class,
                                                   desc="CIFAR-10 train")
    x_test, y_test, _ = read_class_folders(trees["test"], classes=classes, limit_per_class=limit_per_class,
                                           desc="CIFAR-10 test")
    if x_train.shape[1:] != (32, 32, 3):
        raise ValueError(f"{trees['train']}: images are {x_train.shape[1]}x{x_train.shape[2]}, CIFAR-10's are 32x32")
    return (x_train, y_train), (x_test, y_test), classes


def _folder_trees(folder, archives, cache_dir=None):
    """``{"train": dir, "test": dir}`` as far as found: sub-folders of ``folder`` first, then the trees inside
    ``archives`` (unpacked once into the cache), and where each came from."""
    trees, origin = {}, {}
    for split in ("train", "test"):
        if folder is not None and (folder / split).is_dir():
            trees[split], origin[split] = folder / split, f"{folder / split}"
    for archive in archives:
        if len(trees) == 2:
            break
        root = extract_once(archive, ("train", "test"), "an archive of CIFAR-10 image folders (train/<class>/*.jpg)",
                            cache_dir)
        for split in ("train", "test"):
            if split not in trees and (root / split).is_dir():
                trees[split], origin[split] = root / split, f"{archive.name}"
    return trees, origin


def _from_folder(folder, limit_per_class=None, cache_dir=None):
    if folder.is_file():
        if not is_archive(folder):
            raise FileNotFoundError(f"{folder} is a file but not a .tar.gz archive: pass a folder holding {LAYOUTS}")
        trees, origin = _folder_trees(folder.parent, [folder], cache_dir)
        folder = folder.parent
    else:
        trees, origin = _folder_trees(folder, sorted(p for p in folder.iterdir() if p.is_file() and is_archive(p)),
                                      cache_dir)
    if len(trees) == 2:
        where = f"image folders: train from {origin['train']}, test from {origin['test']}"
        return (*_read_folders(trees, limit_per_class), where)
    if len(trees) == 1:
        (found, src), = origin.items()
        missing = "test" if found == "train" else "train"
        raise FileNotFoundError(f"{folder}: found the {found} images ({src}) but no {missing}/<class>/*.png|jpg; "
                                f"put the {missing} images in {folder / missing}/ (one sub-folder per class)")
    bins = _bin_folder(folder)
    if bins is not None:
        return (*_read_bin(bins), CLASS_NAMES, f"the binary version in {bins}")
    if any((folder / sub / "data_batch_1").is_file() for sub in (".", "cifar-10-batches-py")):
        raise ValueError(f"{folder} holds CIFAR-10's python (pickle) batches; they are never unpickled from a "
                         f"user-given folder, since unpickling can run arbitrary code. Use {LAYOUTS}, or let "
                         "keras.datasets.cifar10 download its own copy (leave out --data)")
    raise FileNotFoundError(f"{folder} holds no CIFAR-10 data: expected {LAYOUTS}")


def load_cifar10(data_dir=None, allow_download=True, limit_per_class=None):
    """``((x_train, y_train), (x_test, y_test), class_names, source)``, images uint8 ``N x 32 x 32 x 3``.

    ``data_dir`` (or ``datasets/cifar10/`` when it exists) may hold image folders, ``.tar.gz`` archives of
    them (unpacked once into the cache), or the binary version; ``data_dir`` may also be such an archive, its
    missing tree taken from beside it. Otherwise ``keras.datasets.cifar10.load_data()`` is used (its cache,
    or a download).
    """
    folder = Path(data_dir) if data_dir is not None else (DEFAULT_DIR if DEFAULT_DIR.is_dir() else None)
    if folder is not None:
        if not folder.exists():
            raise FileNotFoundError(f"no folder {folder}: it should hold {LAYOUTS}")
        return _from_folder(folder, limit_per_class)
    reason = ""
    if allow_download:
        try:
            import keras
            (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
            return (x_train, y_train.ravel().astype(np.int64)), (x_test, y_test.ravel().astype(np.int64)), \
                CLASS_NAMES, "keras.datasets.cifar10"
        except Exception as exc:  # offline: Keras raises a bare "URL fetch failure"
            reason = f" (keras.datasets.cifar10 failed: {exc})"
    raise FileNotFoundError(f"CIFAR-10 not found{reason}. Put {LAYOUTS} in {DEFAULT_DIR}/ or pass --data DIR")


def to_unit_range(images):
    """uint8 pixels to float32 in [-1, 1]: ``(x / 255 - 0.5) / 0.5``, the seed's ``Normalize(0.5, 0.5)``."""
    return np.asarray(images, np.float32) / np.float32(127.5) - np.float32(1.0)
