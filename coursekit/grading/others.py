"""Checks for the other assignments' hand-written functions (``--assignment technion-hw2|ds5220|recvis-a2``).

A submission is a folder of ``.py`` files; the first (in name order) that defines the assignment's functions is
imported. Each check returns ``(fraction, message)`` as in ``fit3181``; the kit's own implementations in
``coursekit`` are the references.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from coursekit.grading.fit3181 import verdict

REQUIRED = {"technion-hw2": ("xavier_init", "kaiming_init"),
            "ds5220": ("train_one_epoch", "test_one_epoch"),
            "recvis-a2": ("gradient_nn", "train_loop")}


def _array(a):
    return np.asarray(a, dtype=np.float64)


def check_functions(ctx):
    """The assignment's functions are defined (in the file the kit imported)."""
    names = REQUIRED[ctx.assignment]
    present = [n for n in names if callable(getattr(ctx.module, n, None))]
    missing = sorted(set(names) - set(present))
    return len(present) / len(names), f"{ctx.module.__file__}: " + ("all present" if not missing
                                                                   else f"missing {', '.join(missing)}")


# ---------------------------------------------------------------------------------------- Technion HW2
def check_xavier_init(ctx):
    """``xavier_init(fan_in, fan_out)``: shape ``[fan_out, fan_in]``, inside ``±sqrt(6 / (fan_in + fan_out))``,
    mean 0 and variance ``2 / (fan_in + fan_out)`` (within 10%)."""
    fan_in, fan_out = 300, 200
    w = _array(ctx.module.xavier_init(fan_in, fan_out))
    bound, var = math.sqrt(6 / (fan_in + fan_out)), 2 / (fan_in + fan_out)
    return verdict([(w.shape == (fan_out, fan_in), f"shape {w.shape} (want [fan_out, fan_in] = {(fan_out, fan_in)})"),
                     (np.abs(w).max() <= bound + 1e-6, f"max |w| {np.abs(w).max():.4f} (bound {bound:.4f})"),
                     (abs(w.mean()) < 0.1 * math.sqrt(var), f"mean {w.mean():.5f} (want 0)"),
                     (abs(w.var() / var - 1) < 0.1, f"variance {w.var():.6f} (want {var:.6f})")])


def check_kaiming_init(ctx):
    """``kaiming_init(fan_in, fan_out)``: shape ``[fan_out, fan_in]``, mean 0, std ``sqrt(2 / fan_in)`` (within
    10%), and normal, not uniform (values beyond 2 std occur)."""
    fan_in, fan_out = 300, 200
    w = _array(ctx.module.kaiming_init(fan_in, fan_out))
    std = math.sqrt(2 / fan_in)
    tail = float(np.mean(np.abs(w) > 2 * std))
    return verdict([(w.shape == (fan_out, fan_in), f"shape {w.shape} (want {(fan_out, fan_in)})"),
                     (abs(w.mean()) < 0.1 * std, f"mean {w.mean():.5f} (want 0)"),
                     (abs(w.std() / std - 1) < 0.1, f"std {w.std():.5f} (want {std:.5f})"),
                     (0.02 < tail < 0.08, f"{tail:.3f} of the weights beyond 2 std (a normal law: 0.046)")])


# --------------------------------------------------------------------------------------------- DS 5220
def _mnist_like(seed):
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (64, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    return model, tf.data.Dataset.from_tensor_slices((x, y)).batch(16), x, y


def check_train_one_epoch(ctx):
    """``train_one_epoch(dataset, model, optimizer, log_interval, epoch)``: the seed's returns (losses every
    ``log_interval`` batches, counters, correct count); weights move with lr > 0 and stay with lr = 0."""
    import keras

    model, ds, x, _ = _mnist_like(ctx.seed)
    before = [w.copy() for w in model.get_weights()]
    losses, counter, correct = ctx.module.train_one_epoch(ds, model, keras.optimizers.SGD(0.1), 2, 1)
    losses, counter = list(map(float, losses)), list(map(int, counter))
    moved = any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    frozen_model, ds2, _, _ = _mnist_like(ctx.seed)
    frozen = [w.copy() for w in frozen_model.get_weights()]
    ctx.module.train_one_epoch(ds2, frozen_model, keras.optimizers.SGD(0.0), 2, 0)
    still = all(np.allclose(a, b) for a, b in zip(frozen, frozen_model.get_weights()))
    return verdict([(len(losses) == 2 and all(map(math.isfinite, losses)),
                      f"{len(losses)} losses for 4 batches at log_interval 2 (want 2, finite)"),
                     (len(counter) == 2 and counter == sorted(counter) and counter[-1] > len(x),
                      f"counter {counter} (want increasing, counting the earlier epoch's {len(x)} examples)"),
                     (0 <= int(correct) <= len(x), f"{int(correct)} correct of {len(x)}"),
                     (moved, "lr 0.1 moves the weights"), (still, "lr 0 leaves them")])


def check_test_one_epoch(ctx):
    """``test_one_epoch(dataset, model)``: the average cross-entropy per example and the number correct."""
    import keras

    model, ds, x, y = _mnist_like(ctx.seed)
    loss, correct = ctx.module.test_one_epoch(ds, model)
    logits = _array(model.predict(x, verbose=0))
    want_loss = float(np.mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)))
    want_correct = int(np.sum(logits.argmax(1) == y))
    return verdict([(abs(float(loss) - want_loss) <= 1e-3 * max(1.0, want_loss),
                      f"loss {float(loss):.5f} (want the mean cross-entropy {want_loss:.5f})"),
                     (int(correct) == want_correct, f"{int(correct)} correct (want {want_correct})")])


# ----------------------------------------------------------------------------------------------- RecVis
def check_gradient_nn(ctx):
    """``gradient_nn(X, Y, Wi, bi, Wo, bo)`` against central differences of the logistic loss, one example at a
    time (relative error below 1e-5 on 20 random points)."""
    from coursekit.exercises.double_moon import gradient_nn_numerical

    rng = np.random.default_rng(ctx.seed)
    worst = 0.0
    for _ in range(20):
        X, Y = rng.normal(size=2), rng.choice([-1.0, 1.0])
        Wi, bi, Wo, bo = rng.normal(size=(2, 5)), rng.normal(size=5), rng.normal(size=5), rng.normal()
        got = [_array(g) for g in ctx.module.gradient_nn(X, Y, Wi, bi, Wo, bo)]
        want = [_array(g) for g in gradient_nn_numerical(X, Y, Wi, bi, Wo, bo)]
        for g, w in zip(got, want):
            if g.shape != w.shape:
                return 0.0, f"a gradient of shape {g.shape}, want {w.shape} (order: Wi, bi, Wo, bo)"
            worst = max(worst, float(np.abs(g - w).max() / max(np.abs(w).max(), 1e-8)))
    return float(worst < 1e-5), f"largest relative error against central differences {worst:.2e} (want < 1e-5)"


def check_train_loop(ctx):
    """``train_loop(Xtr, Ytr, Xval, Yval, h, lr, vis='never', nEpochs)``: error arrays as long as the seed's (one
    value per SGD step), in percent, and the training error falls on the double moon."""
    from coursekit.exercises import double_moon

    Xtr, Ytr, Xval, Yval, _ = double_moon.load_double_moon(None, n=200, seed=ctx.seed)
    tr, val = ctx.module.train_loop(Xtr, Ytr, Xval, Yval, 7, 0.02, vis="never", nEpochs=3)[:2]
    tr, val = _array(tr).ravel(), _array(val).ravel()
    ref_tr, _ = double_moon.train_loop(Xtr, Ytr, Xval, Yval, 7, 0.02, vis="never", nEpochs=3, seed=ctx.seed)
    n = len(np.ravel(ref_tr))
    return verdict([(len(tr) == n and len(val) == n, f"{len(tr)} training and {len(val)} validation errors "
                                                      f"(want {n}, one per step)"),
                     (bool(np.all((tr >= 0) & (tr <= 100))), "errors in percent"),
                     (len(tr) > 1 and tr[-1] < tr[0], f"training error {tr[0]:.1f}% -> {tr[-1]:.1f}% (want lower)")])


CHECKS = {
    "technion-hw2": [("functions", check_functions), ("xavier_init", check_xavier_init),
                     ("kaiming_init", check_kaiming_init)],
    "ds5220": [("functions", check_functions), ("train_one_epoch", check_train_one_epoch),
               ("test_one_epoch", check_test_one_epoch)],
    "recvis-a2": [("functions", check_functions), ("gradient_nn", check_gradient_nn),
                  ("train_loop", check_train_loop)],
}


def find_module(submission, assignment):
    """The first ``.py`` file (name order) in ``submission`` that mentions every required function."""
    for path in sorted(submission.glob("*.py")):
        text = path.read_text(errors="replace")
        if all(f"def {name}" in text for name in REQUIRED[assignment]):
            return path
    py = sorted(submission.glob("*.py"))
    return py[0] if py else None


def make_context(module, assignment, seed):
    return SimpleNamespace(module=module, assignment=assignment, seed=seed, rubric={})
