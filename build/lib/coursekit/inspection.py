"""Looking at what a trained classifier gets wrong: predictions in order and the first mistakes."""
from __future__ import annotations

import numpy as np


def predict_classes(model, x, batch_size=512):
    """Predicted class ids (argmax of the model's outputs: logits, log-probabilities or probabilities)."""
    scores = model.predict(np.asarray(x, np.float32), batch_size=batch_size, verbose=0)
    return np.argmax(scores, axis=1)


def accuracy(model, x, y, batch_size=512) -> float:
    """Plain accuracy of ``model`` (inference mode) on ``x`` against integer labels ``y``."""
    return float(np.mean(predict_classes(model, x, batch_size) == np.asarray(y)))


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
