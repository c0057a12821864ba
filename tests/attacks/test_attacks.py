import keras
import numpy as np
import pytest

from coursekit.attacks.robustness import accuracy, robust_accuracy, robustness_report
from coursekit.nets.architectures import logits_model, residual_cnn
from models import fgsm, mim, pgd

EPS = 0.1
ITER = dict(steps=20, step_size=EPS / 8)


def _attacks():
    return [("fgsm", lambda m, x, y, **k: fgsm(m, x, y, EPS, **k)),
            ("pgd", lambda m, x, y, **k: pgd(m, x, y, EPS, **ITER, **k)),
            ("mim", lambda m, x, y, **k: mim(m, x, y, EPS, **ITER, **k))]


@pytest.mark.parametrize("name,attack", _attacks())
@pytest.mark.parametrize("which", ["random", "trained"])
def test_stays_in_the_eps_ball_and_value_range_keeping_shape_and_dtype(name, attack, which, trained, blobs_manager):
    model = trained.model if which == "trained" else residual_cnn(16, 16, 3, 2, 8, 3)
    x, y = blobs_manager.X_test, blobs_manager.y_test
    x_adv = attack(model, x, y)
    assert x_adv.shape == x.shape and x_adv.dtype == x.dtype
    assert np.abs(x_adv - x).max() <= EPS + 1e-6
    assert x_adv.min() >= -1.0 and x_adv.max() <= 1.0
    assert np.abs(x_adv - x).max() > EPS / 2  # it really moved


def test_clips_to_the_data_range_given_not_an_assumed_one(trained, blobs_manager):
    x01 = (blobs_manager.X_test + 1) / 2  # the same images in [0, 1]
    for adv in (fgsm(trained.model, x01, blobs_manager.y_test, 0.3, value_range=(0, 1)),
                pgd(trained.model, x01, blobs_manager.y_test, 0.3, value_range=(0, 1))):
        assert adv.min() >= 0.0 and adv.max() <= 1.0


def test_pgd_repeats_with_its_seed_and_varies_without(trained, blobs_manager):
    x, y = blobs_manager.X_test, blobs_manager.y_test
    a = pgd(trained.model, x, y, EPS, steps=2, step_size=0.01, seed=3)
    np.testing.assert_array_equal(a, pgd(trained.model, x, y, EPS, steps=2, step_size=0.01, seed=3))
    assert not np.array_equal(a, pgd(trained.model, x, y, EPS, steps=2, step_size=0.01, seed=4))
    np.testing.assert_array_equal(mim(trained.model, x, y, EPS), mim(trained.model, x, y, EPS))


def test_on_a_trained_model_pgd_hurts_at_least_as_much_as_fgsm(trained, blobs_manager):
    x, y = blobs_manager.X_test, blobs_manager.y_test
    clean = accuracy(trained.model, x, y)
    acc_fgsm = robust_accuracy(trained.model, x, y, "fgsm", eps=EPS)
    acc_pgd = robust_accuracy(trained.model, x, y, "pgd", eps=EPS, **ITER)
    acc_mim = robust_accuracy(trained.model, x, y, "mim", eps=EPS, **ITER)
    assert clean > 0.95
    assert acc_pgd <= acc_fgsm
    assert acc_pgd < clean - 0.5 and acc_mim < clean - 0.5


def test_gradients_come_from_logits_so_a_saturated_softmax_does_not_hide_them():
    import tensorflow as tf

    inputs = keras.Input((4,))
    dense = keras.layers.Dense(3, use_bias=False)
    model = keras.Model(inputs, keras.layers.Activation("softmax")(dense(inputs)))
    dense.kernel.assign(250.0 * np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5]], np.float32))
    x = np.array([[0.5, 0.0, 0.0, 0.1]] * 3, np.float32)
    y = np.ones(3, np.int64)  # confidently wrong: p(y) underflows to exactly 0 in float32
    assert (model.predict(x, verbose=0)[:, 1] == 0.0).all()
    xt = tf.constant(x)
    with tf.GradientTape() as tape:  # cross-entropy written on probabilities, as the template did
        tape.watch(xt)
        loss = -tf.reduce_sum(tf.one_hot(y, 3) * tf.math.log(model(xt)))
    assert not np.isfinite(tape.gradient(loss, xt).numpy()).all()
    adv = fgsm(model, x, y, 0.05)
    assert np.isfinite(adv).all()
    np.testing.assert_allclose(np.abs(adv - x)[:, :2], 0.05, atol=1e-6)  # from logits the gradient survives


def test_attacks_run_in_inference_mode():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    h = keras.layers.BatchNormalization()(keras.layers.Conv2D(4, 3)(inputs))
    h = keras.layers.Dropout(0.9)(keras.layers.Flatten()(h))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(h))
    stats = [v.numpy().copy() for v in model.non_trainable_variables]
    x = np.random.default_rng(0).uniform(-1, 1, (5, 8, 8, 3)).astype(np.float32)
    y = np.array([0, 1, 0, 1, 0])
    np.testing.assert_array_equal(fgsm(model, x, y, 0.1), fgsm(model, x, y, 0.1))  # no dropout noise
    for v, s in zip(model.non_trainable_variables, stats):
        np.testing.assert_array_equal(v.numpy(), s)  # BN moving statistics untouched


def test_pgd_without_random_start_is_iterated_fgsm(trained, blobs_manager):
    x, y = blobs_manager.X_test, blobs_manager.y_test
    np.testing.assert_allclose(pgd(trained.model, x, y, eps=0.05, steps=1, step_size=0.05, random_start=False),
                               fgsm(trained.model, x, y, eps=0.05), atol=1e-6)
    assert not np.allclose(pgd(trained.model, x, y, eps=0.05, steps=1, step_size=0.05),
                           fgsm(trained.model, x, y, eps=0.05), atol=1e-6)


def test_mim_first_step_is_a_signed_gradient_step():
    model = residual_cnn(8, 8, 3, 1, 4, 2)
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (4, 8, 8, 3)).astype(np.float32)
    y = np.array([0, 1, 1, 0])
    one_mim = mim(model, x, y, eps=0.2, steps=1, step_size=0.05)
    one_fgsm = fgsm(model, x, y, eps=0.05)
    np.testing.assert_allclose(one_mim, one_fgsm, atol=1e-6)


def test_robustness_report_and_h5_round_trip_keep_robust_accuracy(trained, blobs_manager, tmp_path, capsys):
    x, y = blobs_manager.X_test, blobs_manager.y_test
    report = robustness_report(trained.model, x, y, eps=EPS, step_size=EPS / 8)
    assert set(report) == {"clean", "fgsm", "pgd", "mim"}
    assert "pgd" in capsys.readouterr().out
    loaded = keras.models.load_model(trained.save(tmp_path / "t.h5"), compile=False)
    assert robustness_report(loaded, x, y, eps=EPS, step_size=EPS / 8, print_table=False) == report


@pytest.mark.parametrize("kwargs,match", [
    (dict(eps=-0.1), "eps must be >= 0"),
    (dict(steps=0), "steps must be"),
    (dict(step_size=0), "step_size"),
    (dict(y=np.array([0, 1, 5])), r"labels must be in \[0, 2\]"),
    (dict(x=np.full((3, 16, 16, 3), 200.0, np.float32)), "outside value_range"),
    (dict(y=np.array([0.0, 1.0, 1.0])), "integer class ids"),
])
def test_bad_input_raises_clear_errors(trained, kwargs, match):
    args = dict(x=np.zeros((3, 16, 16, 3), np.float32), y=np.array([0, 1, 2]), eps=0.03, steps=5, step_size=0.01)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        pgd(trained.model, args["x"], args["y"], args["eps"], steps=args["steps"], step_size=args["step_size"])


def _linear_three_class(seed=16):
    """A 3-class linear model on 2x2x1 images, with the numbers the hand computation below uses."""
    import keras

    rng = np.random.default_rng(seed)
    W, b = rng.normal(0, 2, (4, 3)), rng.normal(0, 1, 3)
    x = rng.uniform(-0.5, 0.5, (6, 4))
    y = rng.integers(0, 3, 6)
    inputs = keras.Input((2, 2, 1))
    dense = keras.layers.Dense(3)
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    dense.set_weights([W.astype(np.float32), b.astype(np.float32)])
    return model, W, b, x, y


def _ce_grad(x, y, W, b):
    z = x @ W + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return (p - np.eye(3)[y]) @ W.T  # d/dx of the cross-entropy of softmax(x W + b)


def test_mim_two_steps_by_hand_where_momentum_flips_the_second_step():
    model, W, b, x, y = _linear_three_class()
    eps, step = 1.0, 0.3
    # Dong et al. (2018), two steps, decay 1: g_t = decay * g_{t-1} + grad / ||grad||_1; x_t = x_{t-1} + a sign(g_t)
    g1 = _ce_grad(x, y, W, b)
    m1 = g1 / np.abs(g1).sum(1, keepdims=True)
    x1 = np.clip(x + step * np.sign(m1), -1, 1)
    g2 = _ce_grad(x1, y, W, b)
    m2 = m1 + g2 / np.abs(g2).sum(1, keepdims=True)
    x2 = np.clip(x1 + step * np.sign(m2), -1, 1)
    assert (np.sign(m2) != np.sign(g2)).sum() >= 3  # momentum overrides the fresh gradient on some pixels
    ifgsm = np.clip(x1 + step * np.sign(g2), -1, 1)
    assert not np.allclose(x2, ifgsm)

    got = mim(model, x.reshape(6, 2, 2, 1).astype(np.float32), y, eps=eps, steps=2, step_size=step)
    np.testing.assert_allclose(got.reshape(6, 4), x2, atol=1e-5)
    without_momentum = pgd(model, x.reshape(6, 2, 2, 1).astype(np.float32), y, eps=eps, steps=2, step_size=step,
                           random_start=False)
    assert not np.allclose(got, without_momentum, atol=1e-5)


def test_mim_equals_an_eager_reference_on_a_small_network():
    import tensorflow as tf

    model = residual_cnn(8, 8, 3, 1, 4, 3)
    x = np.random.default_rng(2).uniform(-0.6, 0.6, (5, 8, 8, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 1, 0])
    eps, steps, step, decay = 0.3, 6, 0.08, 0.9
    logits = logits_model(model)
    onehot = tf.one_hot(y, 3)
    x_adv, g = tf.constant(x), tf.zeros_like(x)
    for _ in range(steps):  # Dong et al., Algorithm 1, written plainly
        with tf.GradientTape() as tape:
            tape.watch(x_adv)
            loss = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(onehot, logits(x_adv, training=False)))
        grad = tape.gradient(loss, x_adv)
        g = decay * g + grad / tf.reduce_sum(tf.abs(grad), axis=[1, 2, 3], keepdims=True)
        x_adv = tf.clip_by_value(x + tf.clip_by_value(x_adv + step * tf.sign(g) - x, -eps, eps), -1, 1)
    np.testing.assert_allclose(mim(model, x, y, eps=eps, steps=steps, step_size=step, decay=decay), x_adv.numpy(),
                               atol=1e-5)


@pytest.mark.parametrize("name, attack", _attacks())
def test_nan_attack_inputs_are_refused_by_count(name, attack, trained, blobs_manager):
    x = blobs_manager.X_test.copy()
    x[0, 0, 0, 0] = x[2, 3, 3, 1] = np.nan
    with pytest.raises(ValueError, match="attack inputs x holds 2 NaN and 0 infinite"):
        attack(trained.model, x, blobs_manager.y_test)


def _confident_digits_models():
    """A small CNN trained on scikit-learn's digits in float32, its logits scaled by 30 (confident: the loss
    gradient at the logits is ~1e-13), and the same weights in a mixed_float16 network."""
    import keras
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = (digits.images[..., None] / 16.0 * 2 - 1).astype(np.float32)
    y = digits.target

    def build():
        return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(16, 3, activation="relu"),
                                 keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])

    keras.utils.set_random_seed(0)
    full = build()
    full.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    full.fit(X[:1500], y[:1500], epochs=20, batch_size=64, verbose=0)
    weights = full.get_weights()
    weights[-2] *= 30
    weights[-1] *= 30
    full.set_weights(weights)
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        half = build()
        half.set_weights(weights)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return full, half, X[1500:], y[1500:]


def test_attacks_on_a_float16_network_are_as_strong_as_on_the_same_weights_in_float32():
    """The backward pass of a mixed_float16 network flushed a confident example's input gradient to 0, so
    those examples were never attacked (FGSM: 91.6% robust accuracy against 84.2% in float32)."""
    full, half, X, y = _confident_digits_models()
    assert half.layers[0].compute_dtype == "float16"
    clean = np.mean(np.argmax(full.predict(X, verbose=0), 1) == y)
    for name, attack, kw in (("fgsm", fgsm, {}), ("pgd", pgd, dict(steps=10, step_size=0.025)),
                             ("mim", mim, dict(steps=10, step_size=0.025))):
        adv_full = attack(full, X, y, eps=0.1, **kw)
        adv_half = attack(half, X, y, eps=0.1, **kw)
        robust_full = np.mean(np.argmax(full.predict(adv_full, verbose=0), 1) == y)
        robust_half = np.mean(np.argmax(half.predict(adv_half, verbose=0), 1) == y)
        assert robust_full < clean - 0.05, name  # the attack works at all
        assert abs(robust_half - robust_full) <= 0.01, (name, robust_full, robust_half)
        moved_full = np.mean(np.abs(adv_full - X) > 0.05)
        moved_half = np.mean(np.abs(adv_half - X) > 0.05)
        assert moved_half >= moved_full - 0.005, (name, moved_full, moved_half)


def test_integer_and_float64_images_keep_their_dtype_and_the_ball():
    net = residual_cnn(8, 8, 3, num_blocks=1, feature_maps=4, num_classes=3)
    rng = np.random.default_rng(0)
    x8 = rng.integers(0, 256, (6, 8, 8, 3)).astype(np.uint8)
    y = np.arange(6) % 3
    adv8 = fgsm(net, x8, y, eps=8.0, value_range=(0.0, 255.0))
    assert adv8.dtype == np.uint8 and np.abs(adv8.astype(int) - x8.astype(int)).max() <= 8  # no wrap-around
    x64 = x8 / 127.5 - 1.0
    adv64 = pgd(net, x64, y, eps=0.05, steps=3, step_size=0.03)
    assert adv64.dtype == np.float64 and np.abs(adv64 - x64).max() <= 0.05 + 1e-12
