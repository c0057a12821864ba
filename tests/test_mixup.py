import numpy as np
import tensorflow as tf

from coursekit.mixup import mix_batch, sample_mixup


def test_mixed_batch_matches_the_formula():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3, 3, 2)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 1]]
    lam = np.array([0.1, 0.5, 0.9, 1.0], np.float32)
    perm = np.array([2, 0, 3, 1])
    xm, ym = (np.asarray(t) for t in mix_batch(tf.constant(x), tf.constant(y), lam, perm))
    for i in range(4):
        np.testing.assert_allclose(xm[i], lam[i] * x[i] + (1 - lam[i]) * x[perm[i]], rtol=1e-6)
        np.testing.assert_allclose(ym[i], lam[i] * y[i] + (1 - lam[i]) * y[perm[i]], rtol=1e-6)
    np.testing.assert_allclose(ym.sum(axis=1), 1.0, rtol=1e-6)


def test_sampled_lambdas_follow_beta_alpha_alpha_and_repeat_with_the_seed():
    x = tf.zeros((20000, 1))
    y = tf.one_hot(tf.zeros(20000, tf.int32), 2)
    alpha = 0.2
    _, _, lam, perm = sample_mixup(x, y, alpha, tf.constant([1, 2]))
    lam = np.asarray(lam)
    assert lam.min() >= 0 and lam.max() <= 1
    assert abs(lam.mean() - 0.5) < 0.01
    assert abs(lam.var() - 1 / (4 * (2 * alpha + 1))) < 0.01  # Beta(a, a) variance
    assert sorted(np.asarray(perm).tolist()) == list(range(20000))
    _, _, lam2, _ = sample_mixup(x, y, alpha, tf.constant([1, 2]))
    np.testing.assert_array_equal(lam, np.asarray(lam2))


def test_trainer_trains_on_mixed_inputs_and_soft_targets():
    from coursekit.architectures import residual_cnn
    from coursekit.trainer import ClassifierTrainer
    import keras

    net = residual_cnn(8, 8, 3, num_blocks=1, feature_maps=4, num_classes=3)
    trainer = ClassifierTrainer(net, mixup_alpha=0.4, seed=5)
    trainer.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 3)).astype(np.float32))
    y = tf.one_hot(np.arange(16) % 3, 3)
    xm, _, ym = trainer.prepare_batch(x, y)
    assert not np.allclose(np.asarray(xm), np.asarray(x))
    soft = np.asarray(ym)
    assert ((soft > 0.01) & (soft < 0.99)).any()  # targets are no longer one-hot
