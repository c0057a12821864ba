"""``tf.data`` input pipelines: float32 end to end, shuffled repeatably, prefetched."""
import math

import numpy as np
import tensorflow as tf

from coursekit.checks import require_finite
from coursekit.datasets.labels import one_hot_or_ids
from coursekit.training.mixup import MIXUP_KEY, MIXUP_LAM, mixup_draws


def _arrays(x, y, num_classes, name="x"):
    x = np.asarray(x, dtype=np.float32)
    require_finite(x, name)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"{len(x)} inputs but {len(y)} labels")
    # One-hot labels let mixup and label smoothing use the same loss as plain training; one-hot rows
    # given (a student's to_categorical labels) are used as they are.
    return x, one_hot_or_ids(y, num_classes)


def classification_dataset(x, y, num_classes, batch_size, name="x"):
    """Batches of ``(float32 inputs, one-hot float32 labels)`` in order (for evaluation).

    ``name`` is how an error about non-finite inputs refers to ``x``."""
    x, onehot = _arrays(x, y, num_classes, name)
    return tf.data.Dataset.from_tensor_slices((x, onehot)).batch(int(batch_size)).prefetch(tf.data.AUTOTUNE)


def training_dataset(x, y, num_classes, batch_size, seed=0, name="x", first_epoch=0, mixup_alpha=0.0):
    """An endless stream of shuffled training batches and the number of batches per epoch.

    Epoch ``e`` is ordered by a stateless shuffle seeded with ``(seed, e)``, so the order
    depends on nothing else: not on how many iterators Keras or a ``tf.distribute``
    strategy creates. Use it with ``fit(..., steps_per_epoch=steps)``. ``first_epoch`` starts the
    stream at that epoch's order (a resumed run).

    With ``mixup_alpha > 0`` each batch is ``(x, y, draws)``: ``draws`` holds the batch's mixup draws
    (``mixup.mixup_draws`` seeded with ``(seed + 1, global step)``, what ``ClassifierTrainer`` draws
    itself without them), made here because their sampler cannot run inside an XLA-compiled step.
    """
    x, onehot = _arrays(x, y, num_classes, name)
    n = len(x)
    if n == 0:
        raise ValueError("no training examples")
    xs, ys = tf.constant(x), tf.constant(onehot)
    seed = int(seed) % (2 ** 31)

    steps = math.ceil(n / int(batch_size))

    def epoch(e):
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64),
                                                         seed=tf.stack([tf.constant(seed, tf.int64), e]))
        batches = tf.data.Dataset.from_tensor_slices(order).batch(int(batch_size))
        return batches.enumerate(start=e * steps)  # (global step, indices)

    def gather(step, idx):
        batch = (tf.gather(xs, idx), tf.gather(ys, idx))
        if mixup_alpha > 0:
            lam, key = mixup_draws(tf.shape(idx)[0], float(mixup_alpha),
                                   tf.stack([tf.constant(seed + 1, tf.int32), tf.cast(step, tf.int32)]))
            batch += ({MIXUP_LAM: lam, MIXUP_KEY: key},)
        return batch

    ds = tf.data.Dataset.counter(start=int(first_epoch)).flat_map(epoch)
    ds = ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE), steps


def labelled_dataset(x, y, batch_size, shuffle_seed=None, name="x"):
    """A finite dataset of ``(float32 inputs, int64 labels)`` batches, for hand-written epoch loops.

    With ``shuffle_seed`` the order is reshuffled at every pass over it, repeatably: the
    ``k``-th pass has the same order in every run with the same seed (the seed's
    ``DataLoader(shuffle=True)`` after ``torch.manual_seed``).
    """
    x = np.asarray(x, dtype=np.float32)
    require_finite(x, name)
    y = np.asarray(y).astype(np.int64)
    if len(x) != len(y):
        raise ValueError(f"{len(x)} inputs but {len(y)} labels")
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(x), seed=int(shuffle_seed), reshuffle_each_iteration=True)
    return ds.batch(int(batch_size)).prefetch(tf.data.AUTOTUNE)
