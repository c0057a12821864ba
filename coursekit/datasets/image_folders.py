"""Split folder trees of images (``<root>/<split>/<class>/<file>``), read in a fixed order into uint8 arrays.

Used for the CIFAR-10 image folders and Imagenette (``train/<wnid>/*.JPEG``, ``val/<wnid>/*.JPEG``).
Files are decoded in parallel (Pillow releases the GIL) but returned in sorted order.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from coursekit.datasets.images import ImageReadError, read_image_rgb
from coursekit.datasets.parallel import ordered_map
from coursekit.progress import progress

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def class_folders(folder):
    """The class sub-folders of ``folder``, sorted by name; a clear error when there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {folder}")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise FileNotFoundError(f"{folder} has no class sub-folders (expected {folder}/<class>/<image files>)")
    return classes


def _read(path, size):
    rgb = read_image_rgb(path)
    if size is not None and rgb.shape[:2] != (size[1], size[0]):
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR))
    return rgb


def read_class_folders(folder, classes=None, size=None, limit_per_class=None, desc=None, workers=None):
    """``(images [N x H x W x 3] uint8, labels [N], classes)`` from ``folder/<class>/<image>``.

    ``classes`` fixes the label order (default: the sorted sub-folder names); ``size=(w, h)``
    resizes (bilinear) images of another size. An unreadable image stops the load with an
    error naming the file: a data set with a broken file is worth a look, not a silent skip.
    """
    folder = Path(folder)
    classes = list(classes) if classes is not None else class_folders(folder)
    files, labels = [], []
    for label, name in enumerate(classes):
        sub = folder / name
        if not sub.is_dir():
            raise FileNotFoundError(f"{folder} has no folder {name}/ (classes: {', '.join(classes)})")
        found = sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise FileNotFoundError(f"{sub} holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
        found = found[:limit_per_class] if limit_per_class else found
        files += found
        labels += [label] * len(found)
    images = list(progress(ordered_map(lambda p: _read(p, size), files, workers=workers), total=len(files),
                           desc=desc or f"reading {folder}"))
    shapes = {img.shape for img in images}
    if len(shapes) > 1:
        raise ValueError(f"images in {folder} differ in size ({sorted(shapes)[:3]} ...): pass size=(w, h)")
    return np.stack(images), np.asarray(labels, np.int64), classes


__all__ = ["IMAGE_SUFFIXES", "ImageReadError", "class_folders", "read_class_folders"]
