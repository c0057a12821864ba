"""Checks for the other assignments' hand-written functions (``--assignment technion-hw2|ds5220|recvis-a2``).

A submission is a folder of ``.py`` files; the first (in name order) that defines the assignment's functions is
imported in the submission's isolated process. Each check's ``collect`` half calls the student's function on
inputs the kit chose and hands back the raw outputs; its ``judge`` half, in the grader's process, compares them
with the kit's own implementations in ``coursekit`` (``checks.Check``).
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from coursekit.grading.checks import Check, verdict

REQUIRED = {"technion-hw2": ("xavier_init", "kaiming_init"),
            "ds5220": ("train_one_epoch", "test_one_epoch"),
            "recvis-a2": ("gradient_nn", "train_loop")}
FAN_IN, FAN_OUT = 300, 200


def _array(a):
    return np.asarray(a, dtype=np.float64)


def collect_functions(ctx):
    return {"file": str(getattr(ctx.module, "__file__", "?")),
            "callable": [n for n in REQUIRED[ctx.assignment] if callable(getattr(ctx.module, n, None))]}


def judge_functions(replies, kit):
    reply = replies("functions")
    names = REQUIRED[kit.assignment]
    present = [n for n in names if n in reply.strings("callable")]
    missing = sorted(set(names) - set(present))
    return len(present) / len(names), f"{reply.text('file', 200)}: " + ("all present" if not missing
                                                                        else f"missing {', '.join(missing)}")


# ---------------------------------------------------------------------------------------- Technion HW2
def collect_xavier_init(ctx):
    return {"w": _array(ctx.module.xavier_init(FAN_IN, FAN_OUT))}


def judge_xavier_init(replies, kit):
    """``xavier_init(fan_in, fan_out)``: shape ``[fan_out, fan_in]``, inside ``±sqrt(6 / (fan_in + fan_out))``,
    mean 0 and variance ``2 / (fan_in + fan_out)`` (within 10%)."""
    w = replies("xavier_init").array("w").astype(np.float64)
    bound, var = math.sqrt(6 / (FAN_IN + FAN_OUT)), 2 / (FAN_IN + FAN_OUT)
    if not np.isfinite(w).all() or w.size == 0:
        return 0.0, f"an array of shape {w.shape} with no finite values to judge"
    return verdict([(w.shape == (FAN_OUT, FAN_IN), f"shape {w.shape} (want [fan_out, fan_in] = {(FAN_OUT, FAN_IN)})"),
                     (np.abs(w).max() <= bound + 1e-6, f"max |w| {np.abs(w).max():.4f} (bound {bound:.4f})"),
                     (abs(w.mean()) < 0.1 * math.sqrt(var), f"mean {w.mean():.5f} (want 0)"),
                     (abs(w.var() / var - 1) < 0.1, f"variance {w.var():.6f} (want {var:.6f})")])


def collect_kaiming_init(ctx):
    return {"w": _array(ctx.module.kaiming_init(FAN_IN, FAN_OUT))}


def judge_kaiming_init(replies, kit):
    """``kaiming_init(fan_in, fan_out)``: shape ``[fan_out, fan_in]``, mean 0, std ``sqrt(2 / fan_in)`` (within
    10%), and normal, not uniform (values beyond 2 std occur)."""
    w = replies("kaiming_init").array("w").astype(np.float64)
    if not np.isfinite(w).all() or w.size == 0:
        return 0.0, f"an array of shape {w.shape} with no finite values to judge"
    std = math.sqrt(2 / FAN_IN)
    tail = float(np.mean(np.abs(w) > 2 * std))
    return verdict([(w.shape == (FAN_OUT, FAN_IN), f"shape {w.shape} (want {(FAN_OUT, FAN_IN)})"),
                     (abs(w.mean()) < 0.1 * std, f"mean {w.mean():.5f} (want 0)"),
                     (abs(w.std() / std - 1) < 0.1, f"std {w.std():.5f} (want {std:.5f})"),
                     (0.02 < tail < 0.08, f"{tail:.3f} of the weights beyond 2 std (a normal law: 0.046)")])


# --------------------------------------------------------------------------------------------- DS 5220
def _mnist_like(seed):
    """The kit's small model and data (the same in the student's process and the grader's: seeded)."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (64, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    return model, tf.data.Dataset.from_tensor_slices((x, y)).batch(16), x, y


def collect_train_one_epoch(ctx):
    import keras

    model, ds, _, _ = _mnist_like(ctx.seed)
    before = np.concatenate([w.ravel() for w in model.get_weights()])
    losses, counter, correct = ctx.module.train_one_epoch(ds, model, keras.optimizers.SGD(0.1), 2, 1)
    moved = np.concatenate([w.ravel() for w in model.get_weights()])
    frozen_model, ds2, _, _ = _mnist_like(ctx.seed)
    ctx.module.train_one_epoch(ds2, frozen_model, keras.optimizers.SGD(0.0), 2, 0)
    frozen = np.concatenate([w.ravel() for w in frozen_model.get_weights()])
    return {"losses": _array([float(v) for v in losses]), "counter": _array([int(v) for v in counter]),
            "correct": _array(int(correct)), "before": before, "after_lr_0.1": moved, "after_lr_0": frozen}


def judge_train_one_epoch(replies, kit):
    """``train_one_epoch(dataset, model, optimizer, log_interval, epoch)``: the seed's returns (losses every
    ``log_interval`` batches, counters, correct count); weights move with lr > 0 and stay with lr = 0."""
    reply = replies("train_one_epoch")
    n = 64
    losses, counter = reply.array("losses", (None,)), reply.array("counter", (None,))
    correct = float(reply.array("correct", ()))
    before = reply.array("before", (650,))
    moved = reply.array("after_lr_0.1", (650,))
    still = reply.array("after_lr_0", (650,))
    return verdict([(len(losses) == 2 and bool(np.isfinite(losses).all()),
                      f"{len(losses)} losses for 4 batches at log_interval 2 (want 2, finite)"),
                     (len(counter) == 2 and list(counter) == sorted(counter) and counter[-1] > n,
                      f"counter {[int(c) for c in counter]} (want increasing, counting the earlier epoch's {n} "
                      "examples)"),
                     (0 <= correct <= n, f"{int(correct)} correct of {n}"),
                     (not np.allclose(before, moved), "lr 0.1 moves the weights"),
                     (np.allclose(before, still), "lr 0 leaves them")])


def collect_test_one_epoch(ctx):
    model, ds, _, _ = _mnist_like(ctx.seed)
    loss, correct = ctx.module.test_one_epoch(ds, model)
    return {"loss": _array(float(loss)), "correct": _array(int(correct))}


def judge_test_one_epoch(replies, kit):
    """``test_one_epoch(dataset, model)``: the average cross-entropy per example and the number correct, against
    the same seeded model evaluated here."""
    import keras

    reply = replies("test_one_epoch")
    loss, correct = float(reply.array("loss", ())), float(reply.array("correct", ()))
    model, _, x, y = _mnist_like(kit.seed)
    logits = _array(model.predict(x, verbose=0))
    want_loss = float(np.mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)))
    want_correct = int(np.sum(logits.argmax(1) == y))
    return verdict([(abs(loss - want_loss) <= 1e-3 * max(1.0, want_loss),
                      f"loss {loss:.5f} (want the mean cross-entropy {want_loss:.5f})"),
                     (correct == want_correct, f"{int(correct)} correct (want {want_correct})")])


# ----------------------------------------------------------------------------------------------- RecVis
def _gradient_cases(seed, n=20):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=2), rng.choice([-1.0, 1.0]), rng.normal(size=(2, 5)), rng.normal(size=5),
             rng.normal(size=5), rng.normal()) for _ in range(n)]


def collect_gradient_nn(ctx):
    out = {}
    for i, case in enumerate(_gradient_cases(ctx.seed)):
        for j, g in enumerate(ctx.module.gradient_nn(*case)):
            out[f"g{i}_{j}"] = _array(g)
    return out


def judge_gradient_nn(replies, kit):
    """``gradient_nn(X, Y, Wi, bi, Wo, bo)`` against central differences of the logistic loss, one example at a
    time (relative error below 1e-5 on 20 random points)."""
    from coursekit.exercises.double_moon import gradient_nn_numerical

    reply = replies("gradient_nn")
    worst = 0.0
    for i, case in enumerate(_gradient_cases(kit.seed)):
        for j, want in enumerate(_array(g) for g in gradient_nn_numerical(*case)):
            if not reply.has(f"g{i}_{j}"):
                return 0.0, "gradient_nn returned fewer than four gradients (order: Wi, bi, Wo, bo)"
            got = reply.array(f"g{i}_{j}").astype(np.float64)
            if got.shape != want.shape:
                return 0.0, f"a gradient of shape {got.shape}, want {want.shape} (order: Wi, bi, Wo, bo)"
            worst = max(worst, float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-8)))
    worst = worst if math.isfinite(worst) else math.inf
    return float(worst < 1e-5), f"largest relative error against central differences {worst:.2e} (want < 1e-5)"


def collect_train_loop(ctx):
    from coursekit.exercises import double_moon

    Xtr, Ytr, Xval, Yval, _ = double_moon.load_double_moon(None, n=200, seed=ctx.seed)
    tr, val = ctx.module.train_loop(Xtr, Ytr, Xval, Yval, 7, 0.02, vis="never", nEpochs=3)[:2]
    return {"train": _array(tr).ravel(), "val": _array(val).ravel()}


def judge_train_loop(replies, kit):
    """``train_loop(Xtr, Ytr, Xval, Yval, h, lr, vis='never', nEpochs)``: error arrays as long as the seed's (one
    value per SGD step), in percent, and the training error falls on the double moon."""
    from coursekit.exercises import double_moon

    reply = replies("train_loop")
    tr, val = reply.array("train", (None,)), reply.array("val", (None,))
    Xtr, Ytr, Xval, Yval, _ = double_moon.load_double_moon(None, n=200, seed=kit.seed)
    ref_tr, _ = double_moon.train_loop(Xtr, Ytr, Xval, Yval, 7, 0.02, vis="never", nEpochs=3, seed=kit.seed)
    n = len(np.ravel(ref_tr))
    return verdict([(len(tr) == n and len(val) == n, f"{len(tr)} training and {len(val)} validation errors "
                                                      f"(want {n}, one per step)"),
                     (bool(np.all((tr >= 0) & (tr <= 100))), "errors in percent"),
                     (len(tr) > 1 and tr[-1] < tr[0], f"training error {tr[0] if len(tr) else math.nan:.1f}% -> "
                                                      f"{tr[-1] if len(tr) else math.nan:.1f}% (want lower)")])


def _check(name):
    return Check(name, globals()[f"collect_{name}"], globals()[f"judge_{name}"])


check_functions, check_xavier_init, check_kaiming_init = map(_check, ("functions", "xavier_init", "kaiming_init"))
check_train_one_epoch, check_test_one_epoch = map(_check, ("train_one_epoch", "test_one_epoch"))
check_gradient_nn, check_train_loop = map(_check, ("gradient_nn", "train_loop"))

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
    """What a check's two halves share for these assignments: the module (student side), the assignment and seed."""
    return SimpleNamespace(module=module, assignment=assignment, seed=seed, rubric={})
