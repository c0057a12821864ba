"""Batched, compiled execution of the attack loops on a Keras model, on one device or several."""
from __future__ import annotations

import inspect
import weakref

import numpy as np
import tensorflow as tf

from coursekit.attacks.core import start_noise
from coursekit.attacks.utils import check_attack_inputs
from coursekit.datasets.labels import class_ids
from coursekit.nets.network import keras_model_of, network_view
from coursekit.progress import progress

_COMPILED = weakref.WeakKeyDictionary()  # Keras model -> {(core, strategy id): tf.function}


def _compiled(model, view, core, strategy):
    """One ``tf.function`` per attack core, model and strategy, traced once and reused across calls.

    The function takes ``(x, y, noise, params)``, ``params`` a dict of scalar tensors passed to ``core`` by
    keyword; ``noise`` (PGD's random start) is passed only to a core that takes it."""
    per_model = _COMPILED.setdefault(model, {})
    key = (core, id(strategy))
    if key not in per_model:
        takes_noise = "noise" in inspect.signature(core).parameters

        def attack(x, y, noise, params):
            extra = {"noise": noise} if takes_noise else {}
            return core(view.logits_fn, x, tf.one_hot(y, view.num_classes, dtype=x.dtype), **params, **extra)

        if strategy is None:
            per_model[key] = tf.function(attack, reduce_retracing=True)
        else:
            def distributed(x, y, noise, params):
                return strategy.gather(strategy.run(attack, args=(x, y, noise, params)), axis=0)
            per_model[key] = tf.function(distributed, reduce_retracing=True)
    return per_model[key]


def run_attack(core, model, x, y, *, eps, value_range, batch_size, seed, strategy=None, random_start=True,
               **params):
    """Attack ``x`` with ``core`` (``fgsm_core``, ``pgd_core``, ``mim_core`` or one like them) in batches of
    ``batch_size``; ``params`` (``steps``, ``step_size``, ``decay``) go to ``core`` by name. Returns an array
    of ``x``'s shape and dtype.

    ``model`` is a Keras model or a ``DefaultModel``/``YourModel`` (its ``.model`` is attacked). Under a
    ``tf.distribute`` ``strategy`` each batch is split across its replicas; the random start is drawn for
    the whole input first, so results do not depend on the split.
    """
    name = core.__name__.removesuffix("_core").upper()
    model = keras_model_of(model, f"{name.lower()}()")
    view = network_view(model, np.shape(x)[1:], np.asarray(x[:32], np.float32), warn=False)
    if np.ndim(y) == 2:  # one-hot rows (a categorical_crossentropy student's labels)
        y = class_ids(y, "y")
    check_attack_inputs(x, y, eps, value_range, view.num_classes, params.get("steps"), params.get("step_size"))
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    x = np.asarray(x)
    y = np.asarray(y)
    x32 = tf.convert_to_tensor(x, tf.float32)
    noise = start_noise(tf.shape(x32), tf.constant([int(seed) % (2 ** 31), 0], tf.int32))
    if not random_start:
        noise = tf.zeros_like(noise)
    scalars = {"eps": tf.constant(float(eps)), "clip_min": tf.constant(float(value_range[0])),
               "clip_max": tf.constant(float(value_range[1]))}
    scalars.update({k: tf.constant(int(v)) if k == "steps" else tf.constant(float(v)) for k, v in params.items()})
    ds = tf.data.Dataset.from_tensor_slices((x32, tf.cast(y, tf.int32), noise)).batch(int(batch_size))
    if strategy is not None:
        ds = strategy.experimental_distribute_dataset(ds)
    fn = _compiled(model, view, core, strategy)
    batches = progress(ds, total=-(-len(x) // int(batch_size)), desc=name, unit="batch", leave=False)
    out = [fn(xb, yb, nb, scalars).numpy() for xb, yb, nb in batches]
    if not out:
        return x.copy()
    x_adv = np.concatenate(out).astype(x.dtype, copy=False)
    if x.dtype.kind == "f" and x.dtype != np.float32:  # project again in the data's own precision (float64 data:
        # within eps to float64 rounding); integer images keep the plain cast
        x_adv = np.clip(x + np.clip(x_adv - x, -eps, eps), *value_range)
    return x_adv
