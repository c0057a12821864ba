"""FIT3181 A1 Part 1 by hand: activations, their derivatives, and one forward/backward/SGD pass.

Everything is numpy in float64 so each number can be checked against TensorFlow's
``GradientTape`` (the tests do) and printed with its formula (``python -m assignment numerics``).
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit, log_softmax


def leaky_relu(x, slope=0.01):
    """``x`` for ``x >= 0``, ``slope * x`` otherwise. Output range: (-inf, inf)."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x >= 0, x, slope * x)


def leaky_relu_grad(x, slope=0.01):
    """d/dx LeakyReLU: 1 for ``x > 0``, ``slope`` for ``x < 0`` (at 0 we take 1, the right derivative,
    which is what TensorFlow's ``leaky_relu`` gradient returns). Range: {slope, 1}."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x >= 0, 1.0, slope)


def softplus(x):
    """``ln(1 + e^x)``, computed as ``logaddexp(0, x)`` so large ``|x|`` neither overflows nor loses
    precision. Output range: (0, inf)."""
    return np.logaddexp(0.0, np.asarray(x, dtype=np.float64))


def softplus_grad(x):
    """d/dx Softplus = ``e^x / (1 + e^x)`` = sigmoid(x), computed stably. Range: (0, 1)."""
    return expit(np.asarray(x, dtype=np.float64))


def relu(x):
    """``max(0, x)``. Output range: [0, inf)."""
    return np.maximum(0.0, np.asarray(x, dtype=np.float64))


def relu_grad(x):
    """1 for ``x > 0``, else 0 (TensorFlow's convention at 0). Range: {0, 1}."""
    return (np.asarray(x, dtype=np.float64) > 0).astype(np.float64)


ACTIVATIONS = {"leaky_relu": (leaky_relu, leaky_relu_grad), "relu": (relu, relu_grad),
               "softplus": (softplus, softplus_grad)}


def student_parameters(student_id):
    """The Q1.3 parameters: ``np.random.seed(id)`` then W1 (4x3), b1 (4x1), W2 (3x4), b2 (3x1) from ``rand``."""
    np.random.seed(int(student_id))
    W1 = np.random.rand(4, 3)
    b1 = np.random.rand(4, 1)
    W2 = np.random.rand(3, 4)
    b2 = np.random.rand(3, 1)
    return W1, b1, W2, b2


def smoothed_targets(label, num_classes, alpha):
    """Label smoothing (Szegedy et al.): ``(1 - alpha) * onehot + alpha / K``."""
    onehot = np.zeros((num_classes, 1))
    onehot[label, 0] = 1.0
    return (1.0 - alpha) * onehot + alpha / num_classes


def forward_backward(x, label, W1, b1, W2, b2, activation="leaky_relu", alpha=0.0, lr=0.01):
    """One pass through ``input -> W1 (activation) -> W2 -> softmax`` for a column vector ``x``.

    ``label`` is the 0-based class index. Returns a dict with the forward values (``h1_bar``,
    ``h1``, ``logits`` (= h2), ``probs``, ``loss``, ``loss_smoothed`` with label smoothing
    ``alpha``), the gradients of the plain cross-entropy loss (``dl_dh2``, ``dl_dW2``,
    ``dl_db2``, ``dl_dh1``, ``dl_dh1_bar``, ``dl_dW1``, ``dl_db1``) and the parameters after
    one SGD step with learning rate ``lr`` (``W1_new``, ``b1_new``, ``W2_new``, ``b2_new``).
    """
    act, act_grad = ACTIVATIONS[activation]
    x = np.asarray(x, dtype=np.float64).reshape(-1, 1)
    k = W2.shape[0]
    if not 0 <= label < k:
        raise ValueError(f"label must be a 0-based class index in [0, {k - 1}], got {label}")
    h1_bar = W1 @ x + b1
    h1 = act(h1_bar)
    logits = W2 @ h1 + b2
    log_p = log_softmax(logits, axis=0)
    probs = np.exp(log_p)
    onehot = smoothed_targets(label, k, 0.0)
    loss = float(-log_p[label, 0])
    loss_smoothed = float(-(smoothed_targets(label, k, alpha) * log_p).sum())
    dl_dh2 = probs - onehot
    dl_dW2 = dl_dh2 @ h1.T
    dl_db2 = dl_dh2
    dl_dh1 = W2.T @ dl_dh2
    dl_dh1_bar = dl_dh1 * act_grad(h1_bar)
    dl_dW1 = dl_dh1_bar @ x.T
    dl_db1 = dl_dh1_bar
    return dict(h1_bar=h1_bar, h1=h1, logits=logits, probs=probs, loss=loss, loss_smoothed=loss_smoothed,
                dl_dh2=dl_dh2, dl_dW2=dl_dW2, dl_db2=dl_db2, dl_dh1=dl_dh1, dl_dh1_bar=dl_dh1_bar,
                dl_dW1=dl_dW1, dl_db1=dl_db1, W1_new=W1 - lr * dl_dW1, b1_new=b1 - lr * dl_db1,
                W2_new=W2 - lr * dl_dW2, b2_new=b2 - lr * dl_db2)


def plot_activation(name, xs=None, save_path=None):  # pragma: no mutate block
    """The activation ``name`` beside its derivative (Q1.1)."""
    import matplotlib.pyplot as plt

    from coursekit.report.plots import finish_figure

    f, df = ACTIVATIONS[name]
    xs = np.linspace(-5, 5, 1001) if xs is None else xs
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
    a.plot(xs, f(xs))
    a.set_title(f"{name}(x)")
    b.plot(xs, df(xs), color="tab:orange")
    b.set_title(f"d/dx {name}(x)")
    for ax in (a, b):
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.set_xlabel("x")
    return finish_figure(fig, save_path)
