"""The MNIST loader family: four IDX ``.gz`` files from a folder, the Keras cache, or a Keras download.

MNIST and Fashion-MNIST ship as the same four files; each data set is an ``IdxSource``
saying where its files go and which ``keras.datasets`` module downloads it.
"""
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


@dataclass(frozen=True)
class IdxSource:
    """Where one IDX data set lives.

    ``cache_name`` is what ``keras.datasets.<keras_module>`` keeps under ``$KERAS_HOME/datasets/``:
    a folder of the four ``.gz`` files (Fashion-MNIST) or one ``.npz`` (MNIST).
    """
    name: str
    default_dir: Path
    keras_module: str
    cache_name: str
    source_url: str


def keras_cache_dirs():
    """Keras' data cache: ``$KERAS_HOME`` or ``~/.keras``, then ``/tmp/.keras`` (Keras' fallback)."""
    home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    return [Path(home) / "datasets", Path("/tmp/.keras/datasets")]


def _has_files(folder):
    return folder.is_dir() and all((folder / name).is_file() for name in FILES.values())


def _checked(source, where, data):
    for split in ("train", "test"):
        x, y = data[f"x_{split}"], data[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{where}: {source.name} {split} images have shape {x.shape} but the labels "
                             f"{y.shape}; the files do not belong together")
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def _read_folder(source, folder):
    return _checked(source, folder, {key: read_idx(folder / name) for key, name in FILES.items()})


def _read_npz(source, path):
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {key: z[key] for key in FILES}
    except (OSError, KeyError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable {source.name} .npz with x_train, y_train, x_test and y_test "
                         f"({exc}); delete it so Keras downloads it again") from exc
    return _checked(source, path, data)


def load_idx_dataset(source: IdxSource, data_dir=None, allow_download=True, default_dir=None):
    """``((x_train, y_train), (x_test, y_test))`` as ``uint8`` arrays, images ``N x 28 x 28``.

    Looks, in order, in ``data_dir`` (when given, it must hold the four files), in
    ``default_dir`` (``source.default_dir`` unless given), in the Keras cache, and finally asks
    ``keras.datasets`` to download (unless ``allow_download`` is False). Fails with a message
    listing the files and where to put them.
    """
    names = ", ".join(FILES.values())
    if data_dir is not None:
        folder = Path(data_dir)
        if not _has_files(folder):
            missing = [n for n in FILES.values() if not (folder / n).is_file()]
            raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}; put the four {source.name} files "
                                    f"there ({names}) from {source.source_url}")
        return _read_folder(source, folder)
    default_dir = Path(default_dir or source.default_dir)
    if _has_files(default_dir):
        return _read_folder(source, default_dir)
    for cache in keras_cache_dirs():
        cached = cache / source.cache_name
        if cached.suffix == ".npz" and cached.is_file():
            return _read_npz(source, cached)
        if _has_files(cached):
            return _read_folder(source, cached)
    reason = ""
    if allow_download:
        try:
            import keras
            return getattr(keras.datasets, source.keras_module).load_data()
        except Exception as exc:  # offline: Keras raises a bare "URL fetch failure"
            reason = f" (download failed: {exc})"
    raise FileNotFoundError(f"{source.name} not found{reason}. Put {names} from {source.source_url} in "
                            f"{default_dir}/ (or pass --data DIR), or Keras' own copy in "
                            f"{keras_cache_dirs()[0] / source.cache_name}")
