"""Pieces the attacks share: the loss gradient, projection onto the eps-ball, input checks."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from coursekit.checks import require_finite


def loss_gradient(logits_fn, x, y_prob):
    """Gradient w.r.t. ``x`` of the summed cross-entropy computed from logits.

    Working from logits keeps gradients alive where a saturated softmax would round
    them to zero. Summing (not averaging) makes each example's gradient independent
    of the batch size.
    """
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = tf.cast(logits_fn(x), tf.float32)
        loss = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=y_prob, logits=logits))
    # a Flatten right after the input loses the static shape of the gradient, which tf.while_loop rejects
    return tf.ensure_shape(tape.gradient(loss, x), x.shape)


def clip_eta(x_adv, x, eps, lo, hi):
    """Project ``x_adv`` onto the L-inf ball of radius ``eps`` around ``x`` and into ``[lo, hi]``."""
    x_adv = x + tf.clip_by_value(x_adv - x, -eps, eps)
    return tf.clip_by_value(x_adv, lo, hi)


def check_attack_inputs(x, y, eps, value_range, num_classes=None, steps=None, step_size=None):
    """Validate attack arguments, raising ``ValueError`` that names the bad value and the fix."""
    lo, hi = value_range
    if not lo < hi:
        raise ValueError(f"value_range must be (low, high) with low < high, got {value_range}")
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0 (an L-inf radius in input units), got {eps}")
    if steps is not None and (int(steps) != steps or steps < 1):
        raise ValueError(f"steps must be a whole number >= 1, got {steps}")
    if step_size is not None and not step_size > 0:
        raise ValueError(f"step_size must be > 0, got {step_size}")
    x = np.asarray(x)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} examples but y has {len(y)} labels")
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(f"y must be a 1-D array of integer class ids, got dtype {y.dtype} and shape {y.shape}")
    if num_classes is not None and len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels must be in [0, {num_classes - 1}] for this model, "
                         f"got values from {y.min()} to {y.max()}")
    require_finite(x, "attack inputs x")
    tol = 1e-5 * (hi - lo)
    if x.size and (x.min() < lo - tol or x.max() > hi + tol):
        raise ValueError(f"inputs span [{x.min():.4g}, {x.max():.4g}], outside value_range {tuple(value_range)}: "
                         "pass the data's real range (AnimalsDatasetManager.value_range is (-1, 1)) "
                         "or scale the inputs first")
