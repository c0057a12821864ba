"""Batched, compiled execution of the attack loops on a Keras model, on one device or several."""
from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf

from coursekit.architectures import logits_model
from coursekit.attacks.core import fgsm_core, mim_core, pgd_core, start_noise
from coursekit.attacks.utils import check_attack_inputs
from coursekit.labels import class_ids
from coursekit.progress import progress
from coursekit.student_models import as_functional, output_kind

_COMPILED = weakref.WeakKeyDictionary()


def _attack_fns(model, input_shape, sample=None):
    """Per-batch attack functions for ``model``, taking ``(x, y, noise, eps, lo, hi, *params)``.

    Any Keras classifier works: a student's ``Sequential`` without an input or a subclassed model
    is first given a graph input of ``input_shape`` (``as_functional``).
    """
    if model not in _COMPILED:
        graph = as_functional(model, input_shape)
        net = logits_model(graph, getattr(model, "output_kind", None) or output_kind(graph, sample, warn=False))
        n_classes = int(graph.output.shape[-1])

        def logits_fn(x):
            return net(x, training=False)  # inference mode: BN moving statistics, no dropout

        def one_hot(y_int, x):
            return tf.one_hot(y_int, n_classes, dtype=x.dtype)

        _COMPILED[model] = {
            "fgsm": lambda x, y, noise, eps, lo, hi: fgsm_core(logits_fn, x, one_hot(y, x), eps, lo, hi),
            "pgd": lambda x, y, noise, eps, lo, hi, steps, step_size: pgd_core(
                logits_fn, x, one_hot(y, x), eps, steps, step_size, lo, hi, noise),
            "mim": lambda x, y, noise, eps, lo, hi, steps, step_size, decay: mim_core(
                logits_fn, x, one_hot(y, x), eps, steps, step_size, decay, lo, hi),
            "num_classes": n_classes,
            "compiled": {},
        }
    return _COMPILED[model]


def _compiled(fns, name, strategy):
    """One ``tf.function`` per attack, model and strategy, traced once and reused across calls."""
    key = (name, id(strategy))
    if key not in fns["compiled"]:
        fn = fns[name]
        if strategy is None:
            fns["compiled"][key] = tf.function(fn, reduce_retracing=True)
        else:
            def distributed(*args):
                return strategy.gather(strategy.run(fn, args=args), axis=0)
            fns["compiled"][key] = tf.function(distributed, reduce_retracing=True)
    return fns["compiled"][key]


def run_attack(name, model, x, y, eps, value_range, batch_size, seed, strategy=None, random_start=True, **params):
    """Attack ``x`` in batches of ``batch_size``; returns an array of ``x``'s shape and dtype.

    Under a ``tf.distribute`` ``strategy`` each batch is split across its replicas; the random
    start is drawn for the whole input first, so results do not depend on the split.
    """
    if not isinstance(model, keras.Model) and isinstance(getattr(model, "model", None), keras.Model):
        model = model.model  # a DefaultModel/YourModel given: attack its network
    fns = _attack_fns(model, np.shape(x)[1:], np.asarray(x[:32], np.float32))
    if np.ndim(y) == 2:  # one-hot rows (a categorical_crossentropy student's labels)
        y = class_ids(y, "y")
    check_attack_inputs(x, y, eps, value_range, fns["num_classes"], params.get("steps"), params.get("step_size"))
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    x = np.asarray(x)
    y = np.asarray(y)
    x32 = tf.convert_to_tensor(x, tf.float32)
    noise = start_noise(tf.shape(x32), tf.constant([int(seed) % (2 ** 31), 0], tf.int32))
    if not random_start:
        noise = tf.zeros_like(noise)
    scalars = [tf.constant(float(eps)), *(tf.constant(float(v)) for v in value_range)]
    scalars += [tf.constant(int(v)) if k == "steps" else tf.constant(float(v)) for k, v in params.items()]
    ds = tf.data.Dataset.from_tensor_slices((x32, tf.cast(y, tf.int32), noise)).batch(int(batch_size))
    if strategy is not None:
        ds = strategy.experimental_distribute_dataset(ds)
    fn = _compiled(fns, name, strategy)
    batches = progress(ds, total=-(-len(x) // int(batch_size)), desc=name.upper(), unit="batch", leave=False)
    out = [fn(xb, yb, nb, *scalars).numpy() for xb, yb, nb in batches]
    if not out:
        return x.copy()
    x_adv = np.concatenate(out).astype(x.dtype, copy=False)
    if x.dtype.kind == "f" and x.dtype != np.float32:  # project again in the data's own precision (float64 data:
        # within eps to float64 rounding); integer images keep the plain cast
        x_adv = np.clip(x + np.clip(x_adv - x, -eps, eps), *value_range)
    return x_adv
