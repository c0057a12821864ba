"""Timing helpers shared by ``python -m bench`` and its stock-TensorFlow child (``bench.stock``).

Nothing here imports ``coursekit``: the child must load TensorFlow with its own default settings.
"""
from __future__ import annotations

import time

import keras
import numpy as np


class EpochTimer(keras.callbacks.Callback):
    """Records each epoch's wall time."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def matmul_gflops(n=2048, reps=20):
    """Best float32 matmul throughput of a compiled loop, in GFLOP/s."""
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))

    @tf.function
    def run(a, b):  # arguments, not captured constants, so nothing is folded at trace time
        c = a
        for _ in range(reps):
            c = tf.matmul(c, b) * 1e-3
        return c

    run(a, b).numpy()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        run(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 * reps / best / 1e9


def steady_epoch(times):
    """An epoch's time once compiled: the fastest epoch after the first."""
    return min(times[1:]) if len(times) > 1 else times[0]


def random_images(n, size=32, seed=0):
    """The benchmark's training data: ``n`` uniform images in [-1, 1] and labels of 10 classes."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, size, size, 3)).astype(np.float32), rng.integers(0, 10, n)


def train_rate_reference(build, x, y, batch_size, epochs):
    """Images/s of the template's way: ``model.fit`` on float64 numpy (``bench.reference.compile_and_fit``)."""
    from bench import reference

    timer = EpochTimer()
    reference.compile_and_fit(build(), x, y, batch_size, epochs, callbacks=[timer])
    return len(x) / steady_epoch(timer.times)
