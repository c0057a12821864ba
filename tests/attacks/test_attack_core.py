"""The graph-level attack loops (``coursekit.attacks.core``) against plain references.

Small hand-made logits functions keep these fast; each test pins one property that a
one-token change to the loops would break (found by ``mutmut``, see README).
"""
import numpy as np
import pytest
import tensorflow as tf

from coursekit.attacks.core import fgsm_core, mim_core, pgd_core, start_noise

LO, HI = -1.0, 1.0


def _tanh_net(scale=1.0, seed=0, pixels=12, classes=3):
    """A small nonlinear network on flattened inputs: its gradient changes direction and size as x moves."""
    rng = np.random.default_rng(seed)
    W1 = tf.constant(rng.normal(0, 1.5, (pixels, 8)), tf.float32)
    W2 = tf.constant(rng.normal(0, 1.0, (8, classes)), tf.float32)

    def logits(x):
        flat = tf.reshape(x, [tf.shape(x)[0], -1])
        return scale * tf.matmul(tf.tanh(tf.matmul(flat, W1)), W2)

    return logits


def _data(seed=1, n=6, shape=(2, 2, 3), classes=3):
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.uniform(-0.6, 0.6, (n, *shape)), tf.float32)
    y = tf.one_hot(rng.integers(0, classes, n), classes)
    return x, y


def _grad(logits_fn, x, y):
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits_fn(x)))
    return tape.gradient(loss, x)


def _project(x_adv, x, eps):
    return np.clip(x + np.clip(x_adv - x, -eps, eps), LO, HI)


@pytest.mark.parametrize("steps", [1, 3])
def test_pgd_equals_a_step_by_step_reference(steps):
    """Madry et al.: start at x + eps * noise, then `steps` ascent steps of size a, each projected."""
    logits, (x, y) = _tanh_net(), _data()
    eps, step = 0.3, 0.04  # the ball is not reached in 3 steps, so every step counts
    noise = start_noise(x.shape, tf.constant([3, 4]))
    ref = _project(x.numpy() + eps * noise.numpy(), x.numpy(), eps)
    for _ in range(steps):
        ref = _project(ref + step * np.sign(_grad(logits, tf.constant(ref), y).numpy()), x.numpy(), eps)
    got = pgd_core(logits, x, y, eps=tf.constant(eps), steps=tf.constant(steps), step_size=tf.constant(step),
                   clip_min=LO, clip_max=HI, noise=noise)
    np.testing.assert_allclose(got.numpy(), ref, atol=1e-6)
    loss = lambda v: tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits(v)))
    start = _project(x.numpy() + eps * noise.numpy(), x.numpy(), eps)
    assert float(loss(got)) > float(loss(tf.constant(start)))  # ascent, not descent


def test_pgd_with_no_steps_is_its_random_start():
    x, y = _data()
    noise = start_noise(x.shape, tf.constant([5, 6]))
    got = pgd_core(_tanh_net(), x, y, eps=tf.constant(0.2), steps=tf.constant(0), step_size=tf.constant(0.05),
                   clip_min=LO, clip_max=HI, noise=noise)
    np.testing.assert_allclose(got.numpy(), _project(x.numpy() + 0.2 * noise.numpy(), x.numpy(), 0.2), atol=1e-7)


def test_start_noise_is_uniform_on_minus_one_to_one_in_the_requested_dtype():
    noise = start_noise([20000], tf.constant([1, 2]), dtype=tf.float64)
    assert noise.dtype == tf.float64
    values = noise.numpy()
    assert -1.0 <= values.min() < -0.99 and 0.99 < values.max() < 1.0
    assert abs(values.mean()) < 0.02
    np.testing.assert_array_equal(values, start_noise([20000], tf.constant([1, 2]), dtype=tf.float64).numpy())


def _first_channel_only(x):
    """Logits that ignore every channel but the first: the loss gradient is exactly 0 on the others."""
    return tf.stack([tf.reduce_sum(x[..., 0], axis=[1, 2]), -tf.reduce_sum(x[..., 0], axis=[1, 2])], axis=1)


@pytest.mark.parametrize("attack", ["fgsm", "pgd", "mim"])
def test_pixels_with_zero_gradient_are_left_alone(attack):
    x, _ = _data(n=4)
    y = tf.one_hot([0, 1, 0, 1], 2)
    eps, step = tf.constant(0.1), tf.constant(0.03)
    if attack == "fgsm":
        got = fgsm_core(_first_channel_only, x, y, eps=eps, clip_min=LO, clip_max=HI)
    elif attack == "pgd":
        got = pgd_core(_first_channel_only, x, y, eps=eps, steps=tf.constant(3), step_size=step, clip_min=LO,
                           clip_max=HI, noise=tf.zeros_like(x))
    else:
        got = mim_core(_first_channel_only, x, y, eps=eps, steps=tf.constant(3), step_size=step,
                           decay=tf.constant(1.0), clip_min=LO, clip_max=HI)
    np.testing.assert_array_equal(got.numpy()[..., 1:], x.numpy()[..., 1:])  # sign(0) = 0: no step
    assert np.abs(got.numpy()[..., 0] - x.numpy()[..., 0]).min() > 0.02  # the used channel did move


def _mim_reference(logits, x, y, eps, steps, step, decay):
    """Dong et al. (2018), Algorithm 1: g = decay * g + grad / ||grad||_1 per example; x += a * sign(g)."""
    x_adv, g = x.numpy(), np.zeros(x.shape, np.float32)
    for _ in range(steps):
        grad = _grad(logits, tf.constant(x_adv), y).numpy()
        g = decay * g + grad / np.abs(grad).sum(axis=(1, 2, 3), keepdims=True)
        x_adv = _project(x_adv + step * np.sign(g), x.numpy(), eps)
    return x_adv


def test_mim_normalises_tiny_gradients_too():
    # logits scaled by 1e-3 give gradients with L1 norms far below 1, where a floor on the norm
    # (in place of a guard against division by zero) would weigh the steps differently
    logits, (x, y) = _tanh_net(scale=1e-3, seed=3), _data(seed=4, n=8)
    assert np.abs(_grad(logits, x, y).numpy()).sum(axis=(1, 2, 3)).max() < 0.1
    eps, steps, step, decay = 0.5, 6, 0.1, 0.7
    got = mim_core(logits, x, y, eps=tf.constant(eps), steps=tf.constant(steps), step_size=tf.constant(step),
                   decay=tf.constant(decay), clip_min=LO, clip_max=HI)
    np.testing.assert_allclose(got.numpy(), _mim_reference(logits, x, y, eps, steps, step, decay), atol=1e-6)


def test_mim_on_inputs_of_unknown_rank_normalises_per_example():
    """Inside a tf.function traced without a shape, MIM takes its L1 norms over the non-batch axes at run time."""
    logits, (x, y) = _tanh_net(seed=5), _data(seed=6, n=5)
    eps, steps, step, decay = 0.4, 4, 0.08, 0.9

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32), tf.TensorSpec(None, tf.float32)])
    def unknown_rank(x, y):
        return mim_core(logits, x, y, eps=tf.constant(eps), steps=tf.constant(steps), step_size=tf.constant(step),
                        decay=tf.constant(decay), clip_min=LO, clip_max=HI)

    np.testing.assert_allclose(unknown_rank(x, y).numpy(), _mim_reference(logits, x, y, eps, steps, step, decay),
                               atol=1e-6)
