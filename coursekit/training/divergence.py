"""Stopping a training run whose loss has become NaN or infinite, and saying why.

A learning rate too large for the network (the template's default model with SGD at 0.5, on
images in [-1, 1]) makes the weights overflow: from then on every loss is NaN, and the rest of
the run is wasted time that ends in a model that predicts NaN. (The template-style model,
cross-entropy on clipped softmax outputs, stalls at a loss of 2.30 instead: once its
probabilities saturate the clip passes no gradient. Training on logits keeps the gradient, so
the same rate overflows.) :class:`StopOnDivergence` ends the run after the epoch in which it
happened, puts back the weights from before that epoch and prints what to change.

It looks at the epoch's mean loss, which is NaN when any batch's loss was, rather than at every
batch as ``keras.callbacks.TerminateOnNaN`` does: a per-batch check makes every step wait for
its loss to reach Python, which costs time on every run that never diverges.
"""
from __future__ import annotations

import math

import keras


class StopOnDivergence(keras.callbacks.Callback):
    """Stop after an epoch whose training loss is not finite and restore the weights from before it.

    ``diverged_epoch`` is then that epoch (1-based), else ``None``. Put it first among the
    callbacks, so that early stopping and backups see the restored weights.
    """

    def __init__(self, name="the network"):
        super().__init__()
        self.name = name
        self.diverged_epoch = None
        self._weights_before = None
        self._loss = None

    def on_train_begin(self, logs=None):
        self.diverged_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self._weights_before = self.model.get_weights()

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        self.diverged_epoch = epoch + 1
        self.model.set_weights(self._weights_before)
        self.model.stop_training = True
        self._loss = float(loss)

    def on_train_end(self, logs=None):
        if self.diverged_epoch is not None:  # here, so it follows the epoch's progress line
            print(self.message(self._loss))  # whatever the verbosity: a run that stopped here must say so

    def message(self, loss):
        """What happened, what was done about it and what to change."""
        optimizer = getattr(self.model, "optimizer", None)
        setting = ""
        if optimizer is not None:
            rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))  # the current rate of a schedule too
            kind = type(optimizer).__name__
            other = ", or an adaptive optimizer such as Adam at 1e-3" if kind == "SGD" else ""
            setting = f" ({kind} at learning rate {rate:g}: try {rate / 10:g}{other})"
        return (f"Epoch {self.diverged_epoch}: the training loss of {self.name} became {loss} (the weights "
                f"overflowed), so training stopped and the weights from before epoch {self.diverged_epoch} "
                f"were put back. The learning rate is too large for this network and data{setting}.")
