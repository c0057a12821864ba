"""Imagenette (Technion HW2 Task 3): fast.ai's 10-class ImageNet subset, from a folder or its ``.tgz``.

Layout: ``train/<wnid>/*.JPEG`` and ``val/<wnid>/*.JPEG``. Classes are in sorted wnid order (as
torchvision's ``Imagenette``), with readable names. Images are resized to ``size x size``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from coursekit.datasets.archives import extract_once
from coursekit.datasets.image_folders import read_class_folders

NAMES = {
    "n01440764": "tench", "n02102040": "English springer", "n02979186": "cassette player",
    "n03000684": "chain saw", "n03028079": "church", "n03394916": "French horn", "n03417042": "garbage truck",
    "n03425413": "gas pump", "n03445777": "golf ball", "n03888257": "parachute",
}
WNIDS = sorted(NAMES)
URL = "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-160.tgz"
DEFAULT_DIR = Path("datasets/imagenette2-160")


def extract_archive(archive, cache_dir=None):
    """Unpack an ``imagenette2-*.tgz`` once into ``cache_dir`` (atomically) and return the folder holding
    ``train/`` and ``val/``. A damaged archive or one without ``train/`` is a clear error."""
    return extract_once(archive, ("train",), f"an Imagenette archive ({URL})", cache_dir)


def _folder_of(source, allow_download):
    if source is not None:
        source = Path(source)
        if source.is_file():
            return extract_archive(source), f"the archive {source}"
        if not source.is_dir():
            raise FileNotFoundError(f"no folder or archive at {source}: pass the extracted imagenette2-160/ "
                                    f"folder or the imagenette2-160.tgz file ({URL})")
        return source, f"the folder {source}"
    if DEFAULT_DIR.is_dir():
        return DEFAULT_DIR, f"the folder {DEFAULT_DIR}"
    if allow_download:
        try:
            import keras
            archive = keras.utils.get_file("imagenette2-160.tgz", URL)
            return extract_archive(archive), f"{URL} (downloaded)"
        except Exception as exc:
            raise FileNotFoundError(f"Imagenette not found and the download failed ({exc}): put the extracted "
                                    f"imagenette2-160/ folder at {DEFAULT_DIR} or pass --data DIR|FILE.tgz") from exc
    raise FileNotFoundError(f"Imagenette not found: put the extracted imagenette2-160/ folder (train/, val/) at "
                            f"{DEFAULT_DIR} or pass --data DIR or the .tgz from {URL}")


def load_imagenette(source=None, size=64, allow_download=True, limit_per_class=None):
    """``((x_train, y_train), (x_val, y_val), wnids, names, where)``: uint8 images ``size x size x 3``.

    ``source`` is a folder with ``train/`` and ``val/`` or an ``imagenette2-*.tgz``; without it,
    ``datasets/imagenette2-160/`` or a download with ``keras.utils.get_file``.
    """
    folder, where = _folder_of(source, allow_download)
    for split in ("train", "val"):
        if not (folder / split).is_dir():
            raise FileNotFoundError(f"{folder} has no {split}/ folder: expected {folder}/train/<wnid>/*.JPEG and "
                                    f"{folder}/val/<wnid>/*.JPEG")
    wnids = sorted(p.name for p in (folder / "train").iterdir() if p.is_dir())
    train = read_class_folders(folder / "train", wnids, (size, size), limit_per_class, desc="Imagenette train")
    val = read_class_folders(folder / "val", wnids, (size, size), limit_per_class, desc="Imagenette val")
    names = [NAMES.get(w, w) for w in wnids]
    return train[:2], val[:2], wnids, names, where


def stratified_split(x, y, fraction=0.1, seed=0):
    """Carve a stratified ``fraction`` of ``(x, y)`` off as a validation set: ``(x_tr, y_tr), (x_va, y_va)``."""
    from sklearn.model_selection import train_test_split

    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=fraction, stratify=y, random_state=seed)
    return (x_tr, y_tr), (x_va, y_va)


def to_unit(images):
    """uint8 -> float32 in [0, 1] (``ToTensor``); the noise of Task 3.4 is added in these units."""
    return np.asarray(images, np.float32) / np.float32(255.0)
