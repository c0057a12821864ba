"""Reading image files robustly and turning model inputs back into viewable pictures."""
from __future__ import annotations

import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError


class ImageReadError(ValueError):
    """An image file could not be decoded (not an image, corrupt, truncated or unreadable)."""


def read_image_rgb(path) -> np.ndarray:
    """Read any common image file as an ``H x W x 3`` RGB ``uint8`` array.

    Grayscale, RGBA, palette and 16-bit images are converted to 8-bit RGB (16-bit
    values are scaled, not clipped; alpha is dropped). Raises ``ImageReadError``
    naming the file when it is not an image, is corrupt or truncated, or cannot be read.
    """
    try:
        with Image.open(path) as img:
            img.load()  # forces the full decode, so truncated files fail here, not later
            return _to_rgb_uint8(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"cannot read image {path}: {exc}") from exc


def _to_rgb_uint8(img: Image.Image) -> np.ndarray:
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        arr = np.clip(np.rint(arr * (255.0 / top)), 0, 255).astype(np.uint8)
        return np.repeat(arr[..., None], 3, axis=2)
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.uint8).copy()


def to_display(images, value_range=(-1.0, 1.0)) -> np.ndarray:
    """Map model inputs in ``value_range`` back to ``uint8`` pixels for ``imshow``.

    Values outside the range (e.g. from a careless attack) are clipped, so colours
    shown are the colours the model saw, whatever range the data was scaled to.
    """
    lo, hi = (float(v) for v in value_range)
    if hi <= lo:
        raise ValueError(f"value_range must be (low, high) with low < high, got {value_range}")
    arr = (np.asarray(images, dtype=np.float32) - lo) / (hi - lo)
    return np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)


def warn_skipped(skipped, what="image files") -> None:
    """Emit one warning that lists every file skipped while loading."""
    if skipped:
        listing = "\n  ".join(f"{p}: {why}" for p, why in skipped)
        warnings.warn(f"skipped {len(skipped)} unreadable {what}:\n  {listing}", stacklevel=3)
