"""Predictions, accuracy and mistakes of a Keras classifier, written once for every wrapper and task."""
from __future__ import annotations

import numpy as np

from coursekit.datasets.labels import class_ids


def predict_classes(model, x, batch_size=512):
    """Predicted class ids (int64) of a Keras ``model`` in inference mode: the argmax of its outputs (logits,
    log-probabilities or probabilities), or ``logit > 0`` for a one-logit binary classifier."""
    scores = np.asarray(model.predict(np.asarray(x, np.float32), batch_size=batch_size, verbose=0))
    if scores.ndim == 2 and scores.shape[1] == 1:
        return (scores[:, 0] > 0).astype(np.int64)
    return np.argmax(scores, axis=1).astype(np.int64)


def agreement(predictions, y) -> float:
    """The fraction of ``predictions`` (class ids) equal to ``y`` (class ids or one-hot rows)."""
    y = class_ids(y, "y")
    if len(y) != len(predictions):
        raise ValueError(f"{len(predictions)} inputs but {len(y)} labels")
    return float(np.mean(np.asarray(predictions) == y))


def accuracy(model, x, y, batch_size=512) -> float:
    """Accuracy of ``model`` (inference mode) on ``x`` against ``y`` (class ids or one-hot rows)."""
    return agreement(predict_classes(model, x, batch_size), y)


def softmax_rows(logits):
    """The softmax of each row of ``logits``, without overflow."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def mirror_averaged(probabilities, x):
    """``(probabilities(x) + probabilities(x mirrored left to right)) / 2`` for channels-last images ``x``: flip
    test-time augmentation."""
    return (probabilities(x) + probabilities(x[:, :, ::-1])) / 2


def flip_tta_accuracy(model, x, y, batch_size=512) -> float:
    """Accuracy with flip test-time augmentation: ``model``'s (a logits network's) softmax on each image and
    on its left-right mirror (``x`` channels-last), averaged, then the argmax."""
    def probabilities(view):
        return softmax_rows(np.asarray(model.predict(view, batch_size=batch_size, verbose=0), np.float64))

    return agreement(np.argmax(mirror_averaged(probabilities, np.asarray(x, np.float32)), axis=1), y)


class KerasClassifier:
    """Base of the wrappers that hold a Keras network in ``self.model``: ``predict`` and ``compute_accuracy``."""

    predict_batch_size = 512

    def predict(self, X, batch_size=None):
        """Predicted class ids (int64), one per input."""
        return predict_classes(self.model, X, batch_size or self.predict_batch_size)

    def compute_accuracy(self, X, y, batch_size=None):
        """Accuracy (a float in [0, 1]) of the predictions on ``X`` against ``y`` (class ids or one-hot rows)."""
        return agreement(self.predict(X, batch_size), y)


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
