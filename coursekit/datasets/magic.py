"""MAGIC Gamma Telescope (Technion HW2 Task 2): ``magic04.data`` read in full, split 70/10/20, standardised."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coursekit.datasets.splits import Splits

COLUMNS = ["fLength", "fWidth", "fSize", "fConc", "fConc1", "fAsym", "fM3Long", "fM3Trans", "fAlpha", "fDist",
           "class"]
FEATURES = COLUMNS[:-1]
LABELS = {"g": 0, "h": 1}  # gamma (signal) -> 0, hadron (background) -> 1
DEFAULT_FILE = Path("datasets/magic04.data")
URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/magic/magic04.data"


def read_magic(path):
    """``(X [N x 10] float64, y [N] int64)`` from a ``magic04.data`` file (no header, 11 fields a row)."""
    path = Path(path)
    X, y = [], []
    try:
        with open(path, newline="") as fh:
            for lineno, row in enumerate(csv.reader(fh), start=1):
                if not row:
                    continue
                if len(row) != len(COLUMNS) or row[-1].strip() not in LABELS:
                    if lineno == 1 and row and row[0].strip().lower() in ("flength", "x1"):
                        continue  # a header line some copies add
                    raise ValueError(f"{path}, line {lineno}: expected 10 numbers and the class g or h "
                                     f"({', '.join(COLUMNS)}), got {row[:12]}")
                X.append([float(v) for v in row[:-1]])
                y.append(LABELS[row[-1].strip()])
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    if not y:
        raise ValueError(f"{path} holds no rows")
    return np.asarray(X, np.float64), np.asarray(y, np.int64)


def load_magic(path=None, allow_download=True):
    """Read ``path``, else ``datasets/magic04.data``, else download it from UCI; a clear error otherwise."""
    if path is not None:
        if not Path(path).is_file():
            raise FileNotFoundError(f"no file {path}: pass the path of magic04.data ({URL})")
        return read_magic(path)
    if DEFAULT_FILE.is_file():
        return read_magic(DEFAULT_FILE)
    reason = ""
    if allow_download:
        try:
            import keras
            return read_magic(keras.utils.get_file("magic04.data", URL))
        except Exception as exc:
            reason = f" (download failed: {exc})"
    raise FileNotFoundError(f"magic04.data not found{reason}: put it at {DEFAULT_FILE} (from {URL}) or pass --data FILE")


@dataclass
class MagicSplits(Splits):
    """Standardised features (the scaler fitted on the training rows only) and 0/1 labels, with the fitted
    ``scaler`` and the training rows before it (``raw_train``)."""
    scaler: object = None
    raw_train: np.ndarray | None = None


def split_magic(X, y, valid=0.1, test=0.2, seed=0, transform="standard"):
    """Stratified, seeded 70/10/20 split, then a scaler fitted on the training rows only.

    ``transform``: ``"standard"`` (zero mean, unit variance) or ``"power"`` (Yeo-Johnson, then
    standardised: it also evens out the heavy-tailed features).
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import PowerTransformer, StandardScaler

    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=test, stratify=y, random_state=seed)
    X_train, X_valid, y_train, y_valid = train_test_split(X_rest, y_rest, test_size=valid / (1 - test),
                                                          stratify=y_rest, random_state=seed)
    if transform == "standard":
        scaler = StandardScaler()
    elif transform == "power":
        scaler = PowerTransformer(method="yeo-johnson", standardize=True)
    else:
        raise ValueError(f"transform must be 'standard' or 'power', got {transform!r}")
    scaler.fit(X_train)
    f32 = np.float32
    return MagicSplits(scaler.transform(X_train).astype(f32), y_train, scaler.transform(X_valid).astype(f32), y_valid,
                       scaler.transform(X_test).astype(f32), y_test, classes=np.array(["gamma", "hadron"]),
                       scaler=scaler, raw_train=X_train)
