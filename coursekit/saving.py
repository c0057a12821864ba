"""Saving and loading ``.h5`` models atomically, in ``saved_models/`` by default."""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import keras

SAVED_MODELS_DIR = Path("saved_models")


def resolve_model_path(path) -> Path:
    """A bare file name goes to ``saved_models/``; ``.h5`` is added when no suffix is given."""
    path = Path(path)
    if path.suffix == "":
        path = path.with_suffix(".h5")
    if path.suffix != ".h5":
        raise ValueError(f"model files here are .h5 (the format the assignment asks for), got {path}")
    if path.parent == Path("."):
        path = SAVED_MODELS_DIR / path
    return path


def save_h5(model, path) -> Path:
    """Write ``model`` to ``path`` as ``.h5`` via a temporary file and an atomic rename.

    A crash or error mid-save leaves any previous file at ``path`` intact.
    """
    path = resolve_model_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".h5", prefix="." + path.stem + ".", dir=path.parent)
    os.close(fd)
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)  # .h5 is what the assignment asks for; skip Keras' "legacy format" nag
    try:
        model.save(tmp, overwrite=True)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    finally:
        absl.setLevel(level)
    return path


def load_h5(path):
    """Load an ``.h5`` model uncompiled (Keras 3 cannot train a model loaded compiled; recompile it)."""
    path = resolve_model_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path.resolve()}: train and save() one first, or pass the right path")
    return keras.models.load_model(path, compile=False)
