import numpy as np
import tensorflow as tf

from coursekit.training.config import TrainConfig
from coursekit.training.mixup import mix_batch, sample_mixup


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
    from coursekit.nets.architectures import residual_cnn
    from coursekit.training.trainer import ClassifierTrainer
    import keras

    net = residual_cnn(8, 8, 3, num_blocks=1, feature_maps=4, num_classes=3)
    trainer = ClassifierTrainer(net, TrainConfig(num_classes=3, mixup_alpha=0.4, seed=5))
    trainer.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 3)).astype(np.float32))
    y = tf.one_hot(np.arange(16) % 3, 3)
    xm, _, ym = trainer.prepare_batch(x, y)
    assert not np.allclose(np.asarray(xm), np.asarray(x))
    soft = np.asarray(ym)
    assert ((soft > 0.01) & (soft < 0.99)).any()  # targets are no longer one-hot


def test_the_input_pipeline_carries_the_draws_the_step_would_make():
    """Each batch's draws are mixup_draws seeded (seed + 1, global step), what the trainer draws itself
    without them; so the law and the per-seed run are those of the in-step version."""
    from coursekit.training.mixup import MIXUP_KEY, MIXUP_LAM, mixup_draws
    from coursekit.training.pipelines import training_dataset

    x = np.random.default_rng(1).uniform(-1, 1, (10, 2)).astype(np.float32)
    y = np.arange(10) % 2
    ds, steps = training_dataset(x, y, 2, batch_size=4, seed=9, mixup_alpha=0.3, first_epoch=1)
    assert steps == 3
    for step, (xb, _, draws) in zip(range(3, 9), ds):  # epoch 1 starts at global step 3
        want_lam, want_key = mixup_draws(len(xb), 0.3, tf.constant([10, step]))
        np.testing.assert_array_equal(draws[MIXUP_LAM], want_lam)
        np.testing.assert_array_equal(draws[MIXUP_KEY], want_key)
    plain, _ = training_dataset(x, y, 2, batch_size=4, seed=9)
    assert len(next(iter(plain))) == 2  # no draws without mixup


def test_a_step_given_the_draws_mixes_like_a_step_that_draws_them():
    from coursekit.nets.architectures import residual_cnn
    from coursekit.training.mixup import mixup_draws
    from coursekit.training.trainer import ClassifierTrainer
    import keras

    net = residual_cnn(8, 8, 3, num_blocks=1, feature_maps=4, num_classes=3)
    trainer = ClassifierTrainer(net, TrainConfig(num_classes=3, mixup_alpha=0.4, seed=5))
    trainer.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 3)).astype(np.float32))
    y = tf.one_hot(np.arange(16) % 3, 3)
    lam, key = mixup_draws(16, 0.4, tf.constant([6, 0]))  # seed + 1, step 0
    given, _, y_given = trainer.prepare_batch(x, y, {"mixup_lam": lam, "mixup_key": key})
    drawn, _, y_drawn = trainer.prepare_batch(x, y)
    np.testing.assert_array_equal(np.asarray(given), np.asarray(drawn))
    np.testing.assert_array_equal(np.asarray(y_given), np.asarray(y_drawn))


def test_mixup_under_xla_repeats_with_the_seed():
    from coursekit.nets.architectures import residual_cnn
    from coursekit.training.fit import fit_classifier
    from tests.conftest import make_blobs_images

    X, y = make_blobs_images(n_per_class=12, num_classes=3, size=8, seed=2)
    runs = []
    for _ in range(2):
        net = residual_cnn(8, 8, 3, num_blocks=1, feature_maps=4, num_classes=3, drop_rate=0.0)
        net.set_weights([np.full_like(w, 0.05) if w.ndim > 1 else w for w in net.get_weights()])
        history = fit_classifier(net, (X, y), None, TrainConfig(num_classes=3, batch_size=12, epochs=2,
                                                                mixup_alpha=0.4, seed=4, verbose=False,
                                                                jit_compile=True))
        assert history.trainer.jit_compile is True
        runs.append(net.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
