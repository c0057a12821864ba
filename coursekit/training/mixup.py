"""Mixup (Zhang et al., 2018): train on convex combinations of example pairs and their labels."""
import tensorflow as tf

#: Keys of the per-batch draws ``pipelines.training_dataset`` hands the training step.
MIXUP_LAM, MIXUP_KEY = "mixup_lam", "mixup_key"


def mix_batch(x, y, lam, perm):
    """``lam * x + (1 - lam) * x[perm]`` and the same mix of the (one-hot) labels ``y``.

    ``lam`` holds one mixing weight per example; ``perm`` pairs each example with another.
    """
    lam = tf.cast(lam, x.dtype)
    lam_x = tf.reshape(lam, tf.concat([[-1], tf.ones(tf.rank(x) - 1, tf.int32)], 0))
    lam_y = tf.cast(tf.reshape(lam, [-1, 1]), y.dtype)
    return (lam_x * x + (1 - lam_x) * tf.gather(x, perm),
            lam_y * y + (1 - lam_y) * tf.gather(y, perm))


def mixup_draws(n, alpha, seed):
    """The random part of mixup for ``n`` examples: ``lam ~ Beta(alpha, alpha)`` per example and a
    uniform ``key`` per example whose ``argsort`` pairs the examples.

    ``seed`` is a stateless seed (shape [2] int32): the same seed gives the same draws. Drawn in the
    input pipeline (``pipelines.training_dataset``), since the gamma sampler has no XLA kernel and
    Keras compiles the training step with XLA on a GPU; a key rather than a permutation keeps the
    pairing inside each replica's share of a batch split by a ``tf.distribute`` strategy.
    """
    s1, s2, s3 = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    g1 = tf.random.stateless_gamma([n], s1, alpha=alpha)
    g2 = tf.random.stateless_gamma([n], s2, alpha=alpha)
    lam = g1 / (g1 + g2)  # Beta(alpha, alpha) as a ratio of gammas
    return lam, tf.random.stateless_uniform([n], s3)


def sample_mixup(x, y, alpha, seed):
    """Draw ``lam ~ Beta(alpha, alpha)`` per example and a random pairing, then mix.

    ``seed`` is a stateless seed (shape [2] int32): the same seed gives the same draws
    (those of ``mixup_draws``). Returns ``(x_mixed, y_mixed, lam, perm)``. Not for XLA-compiled code
    (see ``mixup_draws``).
    """
    lam, key = mixup_draws(tf.shape(x)[0], alpha, seed)
    perm = tf.argsort(key)
    xm, ym = mix_batch(x, y, lam, perm)
    return xm, ym, lam, perm
