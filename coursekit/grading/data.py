"""The grader's own images: a small folder-per-class set the checks load, with one corrupt file in it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("cats", "dogs", "panda")


def make_grader_images(folder, n_per_class=40, size=40, seed=0):
    """Write ``n_per_class`` JPEGs per class and one file that is not an image; returns ``folder``.

    Each class is a faint colour pattern under strong noise: a small network learns it in a few epochs, and an
    attack at the assignment's eps (0.0313 on [-1, 1]) can still flip most predictions, so a weak attack shows.
    """
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    shared = rng.uniform(90, 165, (size, size, 3))
    for c, name in enumerate(CLASSES):
        (folder / name).mkdir(parents=True, exist_ok=True)
        base = shared + rng.normal(0, 10, (size, size, 3))
        for i in range(n_per_class):
            image = np.clip(base + rng.normal(0, 25, base.shape), 0, 255).astype(np.uint8)
            image[:4, :4], image[:4, -4:] = 0, 255  # saturated corners: an attack must clip to the data's range
            Image.fromarray(image).save(folder / name / f"{name}_{i:03d}.jpg", quality=95)
    (folder / CLASSES[0] / "corrupt_download.jpg").write_bytes(b"<html>not an image</html>")
    return folder
