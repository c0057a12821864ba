"""Looking at what a trained classifier gets wrong: predictions in order and the first mistakes."""
from __future__ import annotations

import numpy as np

from coursekit.classifier import accuracy


def first_misclassified(y_true, y_pred, n=20):
    """Indices of the first ``n`` examples, in data order, whose prediction differs from the label.

    (The seed's version counts the mistakes of a batch and then indexes images with that count.)
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{y_true.shape[0]} labels but {y_pred.shape[0]} predictions")
    return np.flatnonzero(y_true != y_pred)[:int(n)]


def accuracy_under_noise(model, x, y, scale, seed=0, batch_size=512):
    """Accuracy on ``x + scale * N(0, 1)`` (noise in the network's input units, not clipped), seeded."""
    noise = np.random.default_rng(seed).standard_normal(np.shape(x)).astype(np.float32)
    noisy = np.asarray(x, np.float32) + np.float32(scale) * noise
    return accuracy(model, noisy, y, batch_size)
