"""Technion HW2 Task 1: what 100 layers of 512 units do to a signal under different initialisations."""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from coursekit.exercises.initializers import kaiming_init, scaled_normal_init, unit_normal_init, xavier_init
from coursekit.report.plots import finish_figure

ACTIVATIONS = {"none": tf.identity, "tanh": tf.tanh, "relu": tf.nn.relu}

# name -> (initialisation, activation, what the task calls it)
VARIANTS = {
    "normal": (unit_normal_init, "none", "(1) N(0, 1) weights, no activation"),
    "scaled": (scaled_normal_init, "none", "(3) N(0, 1) / sqrt(fan_in), no activation"),
    "normal_tanh": (unit_normal_init, "tanh", "(4) N(0, 1) weights, tanh"),
    "xavier_tanh": (xavier_init, "tanh", "(5) Xavier uniform, tanh"),
    "kaiming_relu": (kaiming_init, "relu", "(6) Kaiming normal (fan_in), ReLU"),
    "xavier_relu": (xavier_init, "relu", "(6) Xavier uniform, ReLU"),
}


def propagate(x, init, activation="none", depth=100, width=512, seed=0):
    """Push ``x`` through ``depth`` layers ``x <- act(W x)`` with ``W = init(width, width)`` (float32).

    Returns ``(x, per-layer std, per-layer mean, per-layer "all finite")``; the float32 values may
    become inf or NaN, as in the task (statistics are taken in float64, so they do not overflow first).
    """
    act = ACTIVATIONS[activation]
    stds, means, finite = [], [], []
    for layer in range(int(depth)):
        x = act(tf.linalg.matvec(init(width, width, seed=seed * 1000 + layer), x))
        values = x.numpy().astype(np.float64)
        finite.append(bool(np.all(np.isfinite(values))))
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: the NaN the task is about
            stds.append(float(values.std(ddof=1)))
            means.append(float(values.mean()))
    return x, np.array(stds), np.array(means), np.array(finite)


def first_nonfinite_layer(outputs):
    """The 1-based number of the first layer whose output holds NaN or inf, or ``None`` when none does.

    ``outputs`` is a sequence of per-layer outputs (arrays) or of per-layer "all finite" flags.
    """
    for i, out in enumerate(outputs):
        out = np.asarray(out)
        if (not bool(out)) if out.dtype == bool else not np.all(np.isfinite(out)):
            return i + 1
    return None


def std_of_ax(n=512, trials=10_000, seed=0, chunk=500):
    """``(mean, std)`` of ``y = a x`` over ``trials`` draws of ``a ~ N(0,1)^{n x n}`` and ``x ~ N(0,1)^n``.

    ``std = sqrt(sum_i (1/n sum_j y_ij^2) / trials)``, the task's estimate; it is close to ``sqrt(n)``.
    """
    from coursekit.progress import progress

    gen = tf.random.Generator.from_seed(seed)
    total_mean, total_sq = 0.0, 0.0
    done = 0
    bar = progress(None, total=trials, desc="a @ x draws")
    while done < trials:
        k = min(chunk, trials - done)
        y = tf.linalg.matvec(gen.normal((k, n, n)), gen.normal((k, n)))
        total_mean += float(tf.reduce_sum(tf.reduce_mean(y, axis=1)))
        total_sq += float(tf.reduce_sum(tf.reduce_mean(tf.square(y), axis=1)))
        done += k
        bar.update(k)
    bar.close()
    return total_mean / trials, math.sqrt(total_sq / trials)


def plot_layer_stds(curves, save_path=None):
    """Per-layer activation std of every variant on a log scale (non-finite values end a curve)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for label, stds in curves.items():
        stds = np.asarray(stds, np.float64)
        shown = np.where(np.isfinite(stds) & (stds > 0), stds, np.nan)
        ax.plot(np.arange(1, len(stds) + 1), shown, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("std of the layer's output")
    ax.set_title("activation scale through 100 layers of 512 units")
    ax.legend(fontsize=8)
    return finish_figure(fig, save_path)
