import keras
import numpy as np
import tensorflow as tf

from coursekit.sam import sam_update


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
    from coursekit.trainer import ClassifierTrainer

    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 3)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[[0, 1, 1, 0, 1, 0]]
    ce = keras.losses.CategoricalCrossentropy(from_logits=True)
    after = {}
    for rho in (0.0, 0.5):
        model = _tiny(seed=3)
        trainer = ClassifierTrainer(model, sam_rho=rho)
        trainer.compile(optimizer=keras.optimizers.SGD(0.1), loss=ce)
        trainer.train_on_batch(x, y)
        after[rho] = [v.numpy() for v in model.trainable_variables]
    by_hand = _tiny(seed=3)
    sam_update(by_hand, lambda yt, yp: ce(yt, yp), tf.constant(x), tf.constant(y), 0.5, keras.optimizers.SGD(0.1))
    for got, want, plain in zip(after[0.5], by_hand.trainable_variables, after[0.0]):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-6)
        assert not np.allclose(got, plain)
