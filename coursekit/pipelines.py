"""``tf.data`` input pipelines: float32 end to end, shuffled with a seed, prefetched."""
import numpy as np
import tensorflow as tf


def classification_dataset(x, y, num_classes, batch_size, shuffle=False, seed=0):
    """Batches of ``(float32 images, one-hot float32 labels)``.

    One-hot labels let mixup and label smoothing use the same loss as plain training.
    Shuffling reshuffles every epoch, repeatably for a given ``seed``.
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"{len(x)} inputs but {len(y)} labels")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels must be in [0, {num_classes - 1}] (num_classes={num_classes}), "
                         f"got values from {y.min()} to {y.max()}")
    onehot = np.eye(num_classes, dtype=np.float32)[y.astype(np.int64)]
    ds = tf.data.Dataset.from_tensor_slices((x, onehot))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(int(batch_size)).prefetch(tf.data.AUTOTUNE)
