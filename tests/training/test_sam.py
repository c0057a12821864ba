import keras
import numpy as np
import tensorflow as tf

from coursekit.training.sam import sam_update


def _tiny(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dense(2)(inputs))


def _loss_np(w, b, x, y):
    logits = x @ w + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    loss = -np.mean(np.sum(y * np.log(p), axis=1))
    g_logits = (p - y) / len(x)
    return loss, x.T @ g_logits, g_logits.sum(0)


def test_one_sam_step_matches_a_hand_computation():
    model = _tiny()
    w0, b0 = (v.numpy().astype(np.float64) for v in model.trainable_variables)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[[0, 1, 1, 0, 1]]
    rho, lr = 0.5, 0.1
    ce = keras.losses.CategoricalCrossentropy(from_logits=True)
    loss, _ = sam_update(model, lambda yt, yp: ce(yt, yp), tf.constant(x), tf.constant(y), rho,
                         keras.optimizers.SGD(lr))

    l0, gw, gb = _loss_np(w0, b0, x, y)
    norm = np.sqrt((gw ** 2).sum() + (gb ** 2).sum())
    ew, eb = rho * gw / norm, rho * gb / norm
    _, gw2, gb2 = _loss_np(w0 + ew, b0 + eb, x, y)
    w_new, b_new = (v.numpy() for v in model.trainable_variables)
    np.testing.assert_allclose(float(loss), l0, rtol=1e-5)
    np.testing.assert_allclose(w_new, w0 - lr * gw2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b_new, b0 - lr * gb2, rtol=1e-5, atol=1e-6)
    assert not np.allclose(w_new, w0 - lr * gw, atol=1e-6)  # a plain SGD step would differ


def test_batch_norm_statistics_follow_the_first_pass_only():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    bn = keras.layers.BatchNormalization(momentum=0.5)
    model = keras.Model(inputs, keras.layers.Dense(2)(bn(keras.layers.Dense(4)(inputs))))
    x = tf.constant(np.random.default_rng(1).normal(size=(8, 4)).astype(np.float32))
    y = tf.one_hot([0, 1] * 4, 2)
    ce = keras.losses.CategoricalCrossentropy(from_logits=True)

    reference = keras.models.clone_model(model)
    reference.set_weights(model.get_weights())
    reference(x, training=True)  # one forward pass at w updates the moving statistics once
    expected = [v.numpy() for v in reference.non_trainable_variables]

    sam_update(model, lambda yt, yp: ce(yt, yp), x, y, 0.05, keras.optimizers.SGD(0.1))
    for got, want in zip(model.non_trainable_variables, expected):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


def test_trainer_with_sam_rho_takes_the_sam_step_not_a_plain_one():
    from coursekit.training.config import TrainConfig
    from coursekit.training.trainer import ClassifierTrainer

    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 3)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[[0, 1, 1, 0, 1, 0]]
    ce = keras.losses.CategoricalCrossentropy(from_logits=True)
    after = {}
    for rho in (0.0, 0.5):
        model = _tiny(seed=3)
        trainer = ClassifierTrainer(model, TrainConfig(num_classes=3, sam_rho=rho))
        trainer.compile(optimizer=keras.optimizers.SGD(0.1), loss=ce)
        trainer.train_on_batch(x, y)
        after[rho] = [v.numpy() for v in model.trainable_variables]
    by_hand = _tiny(seed=3)
    sam_update(by_hand, lambda yt, yp: ce(yt, yp), tf.constant(x), tf.constant(y), 0.5, keras.optimizers.SGD(0.1))
    for got, want, plain in zip(after[0.5], by_hand.trainable_variables, after[0.0]):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-6)
        assert not np.allclose(got, plain)


def _bn_model(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4,))
    bn = keras.layers.BatchNormalization(momentum=0.5)
    return keras.Model(inputs, keras.layers.Dense(2)(bn(keras.layers.Dense(4)(inputs))))


def test_both_passes_run_in_training_mode():
    """With batch norm, the sharpness gradient is taken on batch statistics, as in the first pass."""
    model = _bn_model(seed=4)
    x = tf.constant(np.random.default_rng(5).normal(2.0, 3.0, size=(8, 4)).astype(np.float32))
    y = tf.one_hot([0, 1, 1, 0, 0, 1, 1, 1], 2)
    ce = keras.losses.CategoricalCrossentropy(from_logits=True)
    rho, lr = 0.3, 0.1
    reference = keras.models.clone_model(model)
    reference.set_weights(model.get_weights())
    tvars = reference.trainable_variables
    with tf.GradientTape() as tape:
        loss = ce(y, reference(x, training=True))
    grads = tape.gradient(loss, tvars)
    norm = tf.linalg.global_norm(grads)
    w0 = [v.numpy() for v in tvars]
    for v, g in zip(tvars, grads):
        v.assign_add(rho * g / norm)
    with tf.GradientTape() as tape:
        sharp = ce(y, reference(x, training=True))
    sharp_grads = tape.gradient(sharp, tvars)
    want = [w - lr * g.numpy() for w, g in zip(w0, sharp_grads)]

    sam_update(model, lambda yt, yp: ce(yt, yp), x, y, rho, keras.optimizers.SGD(lr))
    for got, w in zip(model.trainable_variables, want):
        np.testing.assert_allclose(got.numpy(), w, rtol=1e-5, atol=1e-6)


def test_only_the_statistics_named_in_stat_vars_are_restored():
    x = tf.constant(np.random.default_rng(6).normal(size=(8, 4)).astype(np.float32))
    y = tf.one_hot([0, 1] * 4, 2)
    ce = keras.losses.CategoricalCrossentropy(from_logits=True)
    after = {}
    for name, stat_vars in [("default", None), ("none", [])]:
        model = _bn_model(seed=7)
        sam_update(model, lambda yt, yp: ce(yt, yp), x, y, 0.5, keras.optimizers.SGD(0.1), stat_vars=stat_vars)
        after[name] = [v.numpy() for v in model.non_trainable_variables]
    # protecting nothing leaves the second pass's update of the moving statistics in place
    assert not all(np.allclose(a, b) for a, b in zip(after["default"], after["none"]))


def test_variables_the_loss_does_not_reach_get_a_zero_step():
    keras.utils.set_random_seed(8)
    inputs = keras.Input((3,))
    used, unused = keras.layers.Dense(2), keras.layers.Dense(2)
    model = keras.Model(inputs, [used(inputs), unused(inputs)])  # the loss reads the first output only
    before = [v.numpy() for v in unused.trainable_variables]
    used_before = used.kernel.numpy()
    x = tf.constant(np.random.default_rng(9).normal(size=(4, 3)).astype(np.float32))
    y = tf.one_hot([0, 1, 1, 0], 2)
    ce = keras.losses.CategoricalCrossentropy(from_logits=True)
    sam_update(model, lambda yt, yp: ce(yt, yp[0]), x, y, 0.5, keras.optimizers.SGD(0.1))
    for v, b in zip(unused.trainable_variables, before):
        np.testing.assert_array_equal(v.numpy(), b)
    assert not np.allclose(used.kernel.numpy(), used_before)


def test_an_overflowed_first_pass_is_skipped_by_the_loss_scale_not_written_into_the_weights():
    """A loss scale too large overflows the first gradient; the step must be skipped and the scale lowered
    (as for a plain step), and training must carry on once the scale fits: never NaN weights."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = _tiny()
        optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=2.0 ** 127)
        optimizer.build(model.trainable_variables)
        ce = keras.losses.CategoricalCrossentropy(from_logits=True)
        rng = np.random.default_rng(0)
        x = tf.constant(rng.normal(size=(8, 3)).astype(np.float32) * 100)
        y = tf.constant(np.eye(2, dtype=np.float32)[rng.integers(0, 2, 8)])
        start = [v.numpy().copy() for v in model.trainable_variables]
        sam_update(model, lambda yt, yp: ce(yt, yp), x, y, 0.05, optimizer)
        assert all(np.array_equal(a, v.numpy()) for a, v in zip(start, model.trainable_variables))  # skipped
        assert float(optimizer.dynamic_scale) == 2.0 ** 126
        for _ in range(120):
            sam_update(model, lambda yt, yp: ce(yt, yp), x, y, 0.05, optimizer)
        assert all(np.isfinite(v.numpy()).all() for v in model.trainable_variables)
        assert any(not np.array_equal(a, v.numpy()) for a, v in zip(start, model.trainable_variables))
    finally:
        keras.mixed_precision.set_global_policy("float32")
