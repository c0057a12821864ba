"""Weight initialisations by hand (Technion HW2 Task 1): Xavier uniform and Kaiming normal.

Both return a ``[fan_out, fan_in]`` float32 tensor, the layout of ``y = W @ x`` (PyTorch's
``Linear.weight``); use ``tf.transpose`` for a Keras ``Dense`` kernel (``[fan_in, fan_out]``).
"""
from __future__ import annotations

import math

import tensorflow as tf


def _seed(seed):
    return tf.constant([int(seed), 17], tf.int32)  # a stateless seed pair; callers pass seed=None for fresh draws


def xavier_init(fan_in, fan_out, seed=None):
    """Xavier (Glorot) uniform: U(-b, b) with ``b = sqrt(6 / (fan_in + fan_out))``; variance ``2 / (fan_in + fan_out)``."""
    bound = math.sqrt(6.0 / (int(fan_in) + int(fan_out)))
    shape = (int(fan_out), int(fan_in))
    if seed is None:
        return tf.random.uniform(shape, -bound, bound)
    return tf.random.stateless_uniform(shape, _seed(seed), -bound, bound)


def kaiming_init(fan_in, fan_out, seed=None):
    """Kaiming (He) normal, fan-in mode: N(0, std^2) with ``std = sqrt(2 / fan_in)`` (for ReLU networks)."""
    std = math.sqrt(2.0 / int(fan_in))
    shape = (int(fan_out), int(fan_in))
    if seed is None:
        return tf.random.normal(shape, 0.0, std)
    return tf.random.stateless_normal(shape, _seed(seed), 0.0, std)


def unit_normal_init(fan_in, fan_out, seed=None):
    """N(0, 1) weights: the starting point of Task 1."""
    shape = (int(fan_out), int(fan_in))
    return tf.random.normal(shape) if seed is None else tf.random.stateless_normal(shape, _seed(seed))


def scaled_normal_init(fan_in, fan_out, seed=None):
    """N(0, 1) / sqrt(fan_in): unit-normal weights normalised by the number of inputs."""
    return unit_normal_init(fan_in, fan_out, seed) / math.sqrt(int(fan_in))


def keras_initializer(init, seed=0):
    """A Keras initializer for ``Dense`` kernels that draws with ``init(fan_in, fan_out, seed)``.

    Its k-th kernel (k = 1, 2, ...) is ``init(fan_in, fan_out, seed=1000 * seed + k)`` transposed,
    so each layer gets its own draw and any layer's weights can be redrawn by hand.
    """
    import keras

    class _Hand(keras.initializers.Initializer):
        def __init__(self):
            self.calls = 0

        def __call__(self, shape, dtype=None):
            fan_in, fan_out = shape
            self.calls += 1
            return tf.transpose(init(fan_in, fan_out, seed=seed * 1000 + self.calls))

    return _Hand()
