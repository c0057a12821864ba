"""Graph-friendly attack loops on a logits function; the public functions wrap these.

Each takes ``y_prob`` (one-hot or soft labels) and, by keyword only, scalar tensors (so no caller can
swap ``steps`` and ``step_size`` by their order); the same code runs inside a compiled training step
(adversarial training) and in batched evaluation. ``clip_min``/``clip_max`` are the data's value range.
"""
from __future__ import annotations

import tensorflow as tf

from coursekit.attacks.utils import clip_eta, loss_gradient


def fgsm_core(logits_fn, x, y_prob, *, eps, clip_min, clip_max):
    """One signed-gradient step of size ``eps`` (Goodfellow et al., 2015)."""
    grad = loss_gradient(logits_fn, x, y_prob)
    return tf.clip_by_value(x + eps * tf.sign(grad), clip_min, clip_max)


def start_noise(shape, seed, dtype=tf.float32):
    """Uniform noise in [-1, 1] for PGD's random start, from a stateless ``seed`` (shape [2] int32)."""
    return tf.random.stateless_uniform(shape, seed=seed, minval=-1.0, maxval=1.0, dtype=dtype)


def pgd_core(logits_fn, x, y_prob, *, eps, steps, step_size, clip_min, clip_max, noise):
    """Projected gradient descent from a uniform random start in the eps-ball (Madry et al., 2018).

    ``noise`` (uniform in [-1, 1], shaped like ``x``; see ``start_noise``) picks the start
    ``x + eps * noise``; passing it in keeps results identical however the batch is split.
    """
    x_adv = clip_eta(x + eps * tf.cast(noise, x.dtype), x, eps, clip_min, clip_max)

    def body(i, x_adv):
        grad = loss_gradient(logits_fn, x_adv, y_prob)
        return i + 1, clip_eta(x_adv + step_size * tf.sign(grad), x, eps, clip_min, clip_max)

    _, x_adv = tf.while_loop(lambda i, _: i < steps, body, (tf.constant(0), x_adv))
    return tf.stop_gradient(x_adv)


def mim_core(logits_fn, x, y_prob, *, eps, steps, step_size, decay, clip_min, clip_max):
    """Momentum iterative method (Dong et al., 2018): momentum over L1-normalised gradients."""
    # static axes keep the static shape (dynamic ones make a size-1 dimension unknown inside tf.while_loop)
    axes = list(range(1, x.shape.rank)) if x.shape.rank is not None else tf.range(1, tf.rank(x))

    def body(i, x_adv, momentum):
        grad = loss_gradient(logits_fn, x_adv, y_prob)
        grad = grad / tf.maximum(tf.reduce_sum(tf.abs(grad), axis=axes, keepdims=True), 1e-12)
        momentum = decay * momentum + grad
        return i + 1, clip_eta(x_adv + step_size * tf.sign(momentum), x, eps, clip_min, clip_max), momentum

    _, x_adv, _ = tf.while_loop(lambda i, *_: i < steps, body, (tf.constant(0), x, tf.zeros_like(x)))
    return tf.stop_gradient(x_adv)
