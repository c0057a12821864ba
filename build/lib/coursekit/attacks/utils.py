"""Pieces the attacks share: the loss gradient, projection onto the eps-ball, input checks."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from coursekit.checks import require_finite


def loss_gradient(logits_fn, x, y_prob):
    """The direction of the gradient w.r.t. ``x`` of the cross-entropy computed from logits, per example.

    Each example's gradient is that of its own cross-entropy, multiplied by a positive factor of its own:
    the loss's gradient at the logits, ``softmax(logits) - y`` (in float32), is scaled to a largest entry of
    1 before it is sent back through the network. Signs (FGSM, PGD) and per-example normalised gradients
    (MIM) are unchanged by such a factor, while the backward pass no longer underflows: on a confident
    example that gradient is ~1e-13, which is 0 in float16 (a ``mixed_float16`` network's backward pass)
    and, past a logit margin of ~17, in float32 too. Working from logits, not a saturated softmax, keeps
    the other classes' share alive.
    """
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = tf.cast(logits_fn(x), tf.float32)
    y_prob = tf.cast(y_prob, tf.float32)
    dlogits = tf.nn.softmax(logits) - y_prob
    # the true class's entry 1 - p_y rounds to 0 near p_y = 1; it equals the other classes' total share
    # (for one-hot labels), which stays representable
    other = tf.reduce_sum(tf.nn.softmax(logits) * (1.0 - y_prob), axis=-1, keepdims=True)
    dlogits = tf.where(tf.equal(y_prob, 1.0), -other, dlogits)
    peak = tf.reduce_max(tf.abs(dlogits), axis=-1, keepdims=True)
    dlogits = dlogits / tf.where(peak > 0, peak, 1.0)
    grad = tape.gradient(logits, x, output_gradients=tf.stop_gradient(dlogits))
    # a Flatten right after the input loses the static shape of the gradient, which tf.while_loop rejects
    return tf.ensure_shape(grad, x.shape)


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
