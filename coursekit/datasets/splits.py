"""``Splits``: a data set's train / validation / test arrays, named as the template's data manager names them."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Splits:
    """``X_train, y_train, X_valid, y_valid, X_test, y_test``, the class names and the inputs' value range.

    Anything taking a data manager (``DefaultModel.fit``, ``grid_search``, the small classifiers' ``fit``)
    takes one. ``value_range`` is the inputs' real (low, high), where attacks and augmentation clip."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray | None = None
    value_range: tuple | None = None
