"""Batched, compiled execution of the attack loops on a Keras model."""
from __future__ import annotations

import weakref

import numpy as np
import tensorflow as tf

from coursekit.architectures import logits_model
from coursekit.attacks.core import fgsm_core, mim_core, pgd_core
from coursekit.attacks.utils import check_attack_inputs

_COMPILED = weakref.WeakKeyDictionary()


def _compiled(model):
    """One ``tf.function`` per attack and model, built once and reused across calls."""
    if model not in _COMPILED:
        net = logits_model(model)
        n_classes = int(model.output_shape[-1])

        def logits_fn(x):
            return net(x, training=False)  # inference mode: BN moving statistics, no dropout

        def one_hot(y_int, x):
            return tf.one_hot(y_int, n_classes, dtype=x.dtype)

        _COMPILED[model] = {
            "fgsm": tf.function(lambda x, y, eps, lo, hi, seed: fgsm_core(
                logits_fn, x, one_hot(y, x), eps, lo, hi), reduce_retracing=True),
            "pgd": tf.function(lambda x, y, eps, lo, hi, seed, steps, step_size: pgd_core(
                logits_fn, x, one_hot(y, x), eps, steps, step_size, lo, hi, seed), reduce_retracing=True),
            "mim": tf.function(lambda x, y, eps, lo, hi, seed, steps, step_size, decay: mim_core(
                logits_fn, x, one_hot(y, x), eps, steps, step_size, decay, lo, hi), reduce_retracing=True),
            "num_classes": n_classes,
        }
    return _COMPILED[model]


def run_attack(name, model, x, y, eps, value_range, batch_size, seed, **params):
    """Attack ``x`` in batches of ``batch_size``; returns an array of ``x``'s shape and dtype."""
    fns = _compiled(model)
    check_attack_inputs(x, y, eps, value_range, fns["num_classes"], params.get("steps"), params.get("step_size"))
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    x = np.asarray(x)
    y = np.asarray(y)
    lo, hi = (tf.constant(float(v)) for v in value_range)
    scalars = {k: (tf.constant(int(v)) if k == "steps" else tf.constant(float(v))) for k, v in params.items()}
    out = np.empty_like(x)
    for b, start in enumerate(range(0, len(x), batch_size)):
        xb = tf.convert_to_tensor(x[start:start + batch_size], tf.float32)
        yb = tf.convert_to_tensor(y[start:start + batch_size], tf.int32)
        batch_seed = tf.constant([int(seed) % (2 ** 31), b], tf.int32)
        adv = fns[name](xb, yb, tf.constant(float(eps)), lo, hi, batch_seed, **scalars)
        out[start:start + batch_size] = adv.numpy().astype(x.dtype)
    return out
