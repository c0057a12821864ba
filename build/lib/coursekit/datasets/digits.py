"""The embedded default data: scikit-learn's digits rendered as an Animals-style folder tree.

It lets ``python -m assignment animals`` run on a fresh machine with no download, through
exactly the same ``AnimalsDatasetManager.load`` path as real JPEG folders.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


def default_cache_dir() -> Path:
    """Where generated data goes: ``$COURSEKIT_CACHE`` or ``~/.cache/coursekit``."""
    root = os.environ.get("COURSEKIT_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "coursekit"
    return Path(root)


def render_digits_folder(root=None, size=32, seed=0) -> Path:
    """Write the 1,797 digits as ``size x size`` RGB PNGs under ``root/digit_<k>/`` and return that folder.

    Each digit gets a random foreground and background colour so the images are truly
    three-channel. The tree is written to a temporary folder and renamed into place,
    so an interrupted run never leaves a half-written data set; an existing complete
    tree is reused.
    """
    from sklearn.datasets import load_digits

    root = Path(root) if root is not None else default_cache_dir() / f"digits_animals_{size}px"
    marker = root / ".complete"
    if marker.exists():
        return root
    digits = load_digits()
    rng = np.random.default_rng(seed)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=root.name + ".", dir=root.parent))
    try:
        for i, (img8, label) in enumerate(zip(digits.images, digits.target)):
            ink = cv2.resize((img8 / 16.0).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
            ink = np.clip(ink, 0.0, 1.0)[..., None]
            fg = rng.uniform(0.55, 1.0, 3)
            bg = rng.uniform(0.0, 0.35, 3)
            rgb = np.rint((ink * fg + (1.0 - ink) * bg) * 255).astype(np.uint8)
            folder = tmp / f"digit_{label}"
            folder.mkdir(exist_ok=True)
            Image.fromarray(rgb).save(folder / f"digit_{label}_{i:04d}.png")
        (tmp / ".complete").write_text("rendered from sklearn.datasets.load_digits\n")
        if root.exists():  # an incomplete earlier attempt
            shutil.rmtree(root)
        os.replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return root
