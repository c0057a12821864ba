"""Part 1 numbers against TensorFlow's automatic differentiation (float64, 1e-6)."""
import numpy as np
import pytest
import tensorflow as tf

from coursekit.exercises.numerics import (forward_backward, leaky_relu, leaky_relu_grad, softplus, softplus_grad,
                                student_parameters)

def tf_leaky(x):
    """LeakyReLU in float64 (tf.nn.leaky_relu stores its slope as float32 0.0099999998)."""
    return tf.where(x >= 0, x, tf.constant(0.01, tf.float64) * x)


POINTS = np.concatenate([np.linspace(-50, 50, 401), [-1e-9, 0.0, 1e-9, -800.0, 800.0, 1e4, -1e4]])


def _autodiff(fn, xs):
    x = tf.constant(xs, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return y.numpy(), tape.gradient(y, x).numpy()


def test_leaky_relu_and_derivative_match_autodiff():
    y, dy = _autodiff(tf_leaky, POINTS)
    np.testing.assert_allclose(leaky_relu(POINTS), y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(leaky_relu_grad(POINTS), dy, rtol=1e-12, atol=1e-12)


def test_softplus_and_derivative_match_autodiff_without_overflow():
    y, dy = _autodiff(tf.nn.softplus, POINTS)
    with np.errstate(over="raise"):
        ours, ours_grad = softplus(POINTS), softplus_grad(POINTS)
    assert np.isfinite(ours).all() and np.isfinite(ours_grad).all()
    np.testing.assert_allclose(ours, y, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours_grad, dy, rtol=1e-9, atol=1e-12)
    assert softplus(1e4) == 1e4 and softplus(-1e4) >= 0.0
    assert (softplus(POINTS) >= 0).all() and ((softplus_grad(POINTS) >= 0) & (softplus_grad(POINTS) <= 1)).all()


def test_student_parameters_follow_the_notebooks_recipe():
    W1, b1, W2, b2 = student_parameters(1234)
    np.random.seed(1234)
    np.testing.assert_array_equal(W1, np.random.rand(4, 3))
    assert (b1.shape, W2.shape, b2.shape) == ((4, 1), (3, 4), (3, 1))


@pytest.mark.parametrize("student_id,activation", [(1234, "leaky_relu"), (31415926, "leaky_relu"), (7, "relu")])
def test_forward_backward_and_sgd_step_match_gradient_tape(student_id, activation):
    W1, b1, W2, b2 = student_parameters(student_id)
    W1, b1 = W1 - 0.6, b1 - 0.5  # some pre-activations negative, so the slope below 0 matters
    x = np.array([[1.0], [-1.0], [1.5]])
    label, alpha, lr = 2, 0.1, 0.01
    got = forward_backward(x, label, W1, b1, W2, b2, activation=activation, alpha=alpha, lr=lr)

    act = tf_leaky if activation == "leaky_relu" else tf.nn.relu
    tW1, tb1, tW2, tb2 = (tf.Variable(a, dtype=tf.float64) for a in (W1, b1, W2, b2))
    with tf.GradientTape(persistent=True) as tape:
        h1_bar = tW1 @ x + tb1
        tape.watch(h1_bar)
        h1 = act(h1_bar)
        tape.watch(h1)
        h2 = tW2 @ h1 + tb2
        tape.watch(h2)
        onehot = tf.one_hot([label], 3, dtype=tf.float64)
        loss = tf.keras.losses.categorical_crossentropy(onehot, tf.transpose(h2), from_logits=True)[0]
        smoothed = tf.keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=alpha)(
            onehot, tf.transpose(h2))
    want = dict(h1_bar=h1_bar, h1=h1, logits=h2, probs=tf.nn.softmax(h2, axis=0), loss=loss,
                loss_smoothed=smoothed)
    grads = dict(zip(["dl_dh2", "dl_dW2", "dl_db2", "dl_dh1", "dl_dh1_bar", "dl_dW1", "dl_db1"],
                     tape.gradient(loss, [h2, tW2, tb2, h1, h1_bar, tW1, tb1])))
    want.update(grads)
    want.update(W1_new=W1 - lr * grads["dl_dW1"], b1_new=b1 - lr * grads["dl_db1"],
                W2_new=W2 - lr * grads["dl_dW2"], b2_new=b2 - lr * grads["dl_db2"])
    assert set(want) == set(got)
    for key, value in want.items():
        np.testing.assert_allclose(got[key], np.asarray(value), rtol=0, atol=1e-6, err_msg=key)
    assert (got["h1_bar"] < 0).any()


def test_label_range_is_0_to_k_minus_1():
    params = student_parameters(1)
    with pytest.raises(ValueError, match=r"0-based class index in \[0, 2\], got 3"):
        forward_backward(np.ones(3), 3, *params)
    with pytest.raises(ValueError, match="got -1"):
        forward_backward(np.ones(3), -1, *params)
    assert forward_backward(np.ones(3), 0, *params)["loss"] > 0  # class 0 is a class


def test_defaults_are_no_smoothing_and_learning_rate_0_01_in_float64():
    W1, b1, W2, b2 = (p.astype(np.float32) for p in student_parameters(5))
    got = forward_backward(np.array([0.5, -1.0, 2.0], np.float32), 1, W1, b1, W2, b2)
    assert got["loss_smoothed"] == got["loss"]
    np.testing.assert_array_equal(got["W1_new"], W1 - 0.01 * got["dl_dW1"])
    np.testing.assert_array_equal(got["b2_new"], b2 - 0.01 * got["dl_db2"])
    assert all(value.dtype == np.float64 for value in got.values() if isinstance(value, np.ndarray))


@pytest.mark.parametrize("name", ["leaky_relu", "relu", "softplus"])
def test_activations_and_derivatives_compute_in_float64_whatever_the_input(name):
    # Part 1's numbers are printed to many digits: float32 inputs must not make float32 answers
    from coursekit.exercises.numerics import ACTIVATIONS

    xs = np.array([-2.5, -0.1, 0.0, 0.3, 4.0], np.float32)
    for fn in ACTIVATIONS[name]:
        out = fn(xs)
        assert out.dtype == np.float64, fn.__name__
        np.testing.assert_array_equal(out, fn(xs.astype(np.float64)))


def test_relu_derivative_at_zero_is_zero_as_in_tensorflow():
    from coursekit.exercises.numerics import relu_grad

    np.testing.assert_array_equal(relu_grad(np.array([-1.0, 0.0, 1e-12, 3.0])), [0.0, 0.0, 1.0, 1.0])
    _, dy = _autodiff(tf.nn.relu, np.array([0.0]))
    assert dy[0] == 0.0
