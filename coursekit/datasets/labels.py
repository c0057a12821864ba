"""Labels as template-era code hands them over: class ids, or one-hot rows for ``categorical_crossentropy``."""
from __future__ import annotations

import numpy as np


def class_ids(y, name="y"):
    """Integer class ids (int64, shape ``(n,)``) from class ids or from one-hot / probability rows.

    The template's ``compute_accuracy`` called ``model.evaluate``, which takes whichever labels the
    model was compiled for; students using ``categorical_crossentropy`` pass ``to_categorical(y)``.
    Rows of shape ``(n, classes)`` become their argmax; a column ``(n, 1)`` is read as ids.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2:
        if y.shape[1] < 2 or not np.issubdtype(y.dtype, np.number):
            raise ValueError(f"{name} has shape {y.shape}: one-hot labels need a column per class")
        return np.argmax(y, axis=1).astype(np.int64)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(f"{name} must be a 1-D array of integer class ids or one-hot rows of shape (n, classes), "
                         f"got dtype {y.dtype} and shape {y.shape}; use y.astype(int) for whole-number floats")
    return y.astype(np.int64, copy=False)


def one_hot_or_ids(y, num_classes, name="y"):
    """One-hot float32 rows for ``num_classes`` classes from class ids, or the rows themselves when ``y``
    already holds one-hot (or soft) rows of that width; checks the ids are in range."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == num_classes and num_classes > 1:
        return y.astype(np.float32, copy=False)
    ids = class_ids(y, name) if y.ndim != 1 else y.astype(np.int64)  # 1-D: whole-number floats too
    if len(ids) and (ids.min() < 0 or ids.max() >= num_classes):
        raise ValueError(f"labels must be in [0, {num_classes - 1}] (num_classes={num_classes}), "
                         f"got values from {ids.min()} to {ids.max()}")
    return np.eye(num_classes, dtype=np.float32)[ids]
