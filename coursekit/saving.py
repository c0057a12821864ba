"""Saving and loading ``.h5`` models atomically, in ``saved_models/`` by default."""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import keras

SAVED_MODELS_DIR = Path("saved_models")


def resolve_model_path(path) -> Path:
    """A bare file name goes to ``saved_models/``; ``.h5`` is added when no suffix is given.

    ``.h5`` is the format the assignment asks for; ``.keras`` (Keras' native format) is accepted
    too, and is the one that stores a subclassed ``keras.Model``.
    """
    path = Path(path)
    if path.suffix == "":
        path = path.with_suffix(".h5")
    if path.suffix not in (".h5", ".keras"):
        raise ValueError(f"model files here are .h5 (the format the assignment asks for) or .keras, got {path}")
    if path.parent == Path("."):
        path = SAVED_MODELS_DIR / path
    return path


def save_h5(model, path) -> Path:
    """Write ``model`` to ``path`` as ``.h5`` via a temporary file and an atomic rename.

    A crash or error mid-save leaves any previous file at ``path`` intact.
    """
    path = resolve_model_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".h5" and not _is_graph_model(model):
        raise ValueError(f"{type(model).__name__} is a subclassed keras.Model: .h5 stores layer graphs, not the "
                         f"code of call(). Save it as {path.with_suffix('.keras')} instead (its class must be "
                         "decorated with @keras.saving.register_keras_serializable() to load again)")
    fd, tmp = tempfile.mkstemp(suffix=path.suffix, prefix="." + path.stem + ".", dir=path.parent)
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


def _is_graph_model(model):
    return isinstance(model, keras.Sequential) or type(model).__name__ == "Functional"


def load_h5(path):
    """Load an ``.h5`` (or ``.keras``) model uncompiled (Keras 3 cannot train an ``.h5`` model loaded
    compiled; recompile it)."""
    path = resolve_model_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path.resolve()}: train and save() one first, or pass the right path")
    return keras.models.load_model(path, compile=False)
