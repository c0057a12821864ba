"""RecVis A2 Part 1 in numpy: a two-layer net trained by hand-written backpropagation on "double moon" data.

The network is ``Yo = Wo . ReLU(X Wi + bi) + bo`` with the logistic loss
``s(Y, Yo) = log(1 + exp(-Y Yo))`` for labels ``Y`` in {-1, 1}. Everything here is numpy, as
in the assignment: the point is to write the gradients by hand and check them numerically.

``train_loop`` keeps the seed's semantics (one randomly drawn example per SGD step; the full
training and validation error recorded after every step). ``sgd_runs`` runs many such
trainings side by side as one array program, which is what makes the sweeps fast.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coursekit.report.plots import finish_figure


def sigm(x):
    """The logistic sigmoid, for scalars and arrays, without overflow for any input."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def logistic_loss(Y, Yo):
    """``log(1 + exp(-Y * Yo))`` computed as ``logaddexp(0, -Y * Yo)``: finite for any ``Yo``."""
    return np.logaddexp(0.0, -np.asarray(Y, np.float64) * np.asarray(Yo, np.float64))


def nnet_forward_logloss(X, Y, Wi, bi, Wo, bo):
    """``(Po, Yo, loss)`` for inputs ``X`` (one point ``[2]`` or one per row ``[N x 2]``).

    ``Po = P(class = 1 | X)`` in [0, 1], ``Yo`` the network's output, ``loss`` the logistic loss
    against ``Y`` in {-1, 1} (per point). ``Wi`` is ``[d x h]``, ``bi`` and ``Wo`` ``[h]``, ``bo`` a scalar.
    """
    hidden = np.maximum(np.dot(X, Wi) + bi, 0.0)
    Yo = np.dot(hidden, Wo) + bo
    return sigm(Yo), Yo, logistic_loss(Y, Yo)


def gradient_nn(X, Y, Wi, bi, Wo, bo):
    """Analytic gradient of ``s(Y, Yo(X))`` for one example: ``(grad_Wi [dxh], grad_bi [h], grad_Wo [h], grad_bo)``.

    With ``H = ReLU(X Wi + bi)`` and ``delta = ds/dYo = -Y sigm(-Y Yo)``:
    ``grad_Wo = delta H``, ``grad_bo = delta``, ``grad_bi = delta Wo * [X Wi + bi > 0]``,
    ``grad_Wi = outer(X, grad_bi)``.
    """
    pre = np.dot(X, Wi) + bi
    H = np.maximum(pre, 0.0)
    delta = -Y * sigm(-Y * (np.dot(H, Wo) + bo))
    grad_bi = delta * Wo * (pre > 0)
    return np.outer(X, grad_bi), grad_bi, delta * H, delta


def gradient_nn_numerical(X, Y, Wi, bi, Wo, bo, eps=1e-6):
    """The same gradient by central differences: ``(s(theta + eps e_i) - s(theta - eps e_i)) / (2 eps)``."""
    params = [np.array(Wi, np.float64), np.array(bi, np.float64), np.array(Wo, np.float64),
              np.array(bo, np.float64)]
    grads = []
    for k, p in enumerate(params):
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            orig = p[i]
            p[i] = orig + eps
            plus = nnet_forward_logloss(X, Y, *params)[2]
            p[i] = orig - eps
            minus = nnet_forward_logloss(X, Y, *params)[2]
            p[i] = orig
            g[i] = (np.sum(plus) - np.sum(minus)) / (2 * eps)  # of the summed loss L = sum_n s
        grads.append(g)
    return tuple(grads)


def gradcheck(n=1000, h=3, tol=1e-6, seed=0, gradient=gradient_nn, verbose=True):
    """Compare ``gradient`` with ``gradient_nn_numerical`` on ``n`` random examples and parameter sets.

    Returns True when every mean absolute difference is within ``tol`` and prints SUCCESS or FAILURE.
    """
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(int(n)):
        X = rng.standard_normal(2)
        Y = 2 * int(rng.integers(2)) - 1
        Wi, bi, Wo, bo = rng.standard_normal((2, h)), rng.standard_normal(h), rng.standard_normal(h), \
            float(rng.standard_normal())
        analytic = gradient(X, Y, Wi, bi, Wo, bo)
        numeric = gradient_nn_numerical(X, Y, Wi, bi, Wo, bo)
        worst = max(worst, *(float(np.mean(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(analytic, numeric)))
    ok = worst <= tol
    if verbose:
        print("SUCCESS: Passed gradcheck." if ok else
              f"FAILURE: Fix gradient_nn and/or gradient_nn_numerical (largest mean difference {worst:.3g}).")
    return ok


# ---------------------------------------------------------------------------------------------
# Training: many runs side by side


@dataclass
class Runs:
    """The result of ``sgd_runs``: per-step errors (%) of every run and its final parameters."""
    tr_error: np.ndarray   # [runs x steps]
    val_error: np.ndarray  # [runs x steps]
    params: list           # per run: (Wi, bi, Wo, bo)


def _augmented(X):
    return np.concatenate([np.asarray(X, np.float64), np.ones((len(X), 1))], axis=1)


def sgd_runs(Xtr, Ytr, Xval, Yval, hs, lrs, draws, Wi0, block=16):
    """Train ``len(hs)`` networks by one-example SGD at once; record both errors after every step.

    ``hs`` and ``lrs`` give each run's hidden units and learning rate; ``draws[r, t]`` is the
    training example run ``r`` uses at step ``t``; ``Wi0[r]`` its initial ``[2 x h]`` weights
    (the other parameters start at zero). Each step is exactly the seed's update.

    The errors are exact but not recomputed from scratch for every point at every step: the
    steps run in blocks, and within a block a point is re-evaluated only if its output could
    have changed sign. That is decided by a bound on how far one update can move ``Yo(x)``:
    ``|dYo(x)| <= |x~| (lr |x~_n| sum_j |Wo_j| |g_j| + sum_j |dWo_j| |w~_j'|) + |dbo|`` (``x~ = (x, 1)``,
    ``g`` the hidden-unit gradient, ``w~_j'`` unit ``j``'s updated weights and bias), which
    follows from ``|ReLU(a + e) - ReLU(a)| <= |e|`` and ``ReLU(a) <= |a|``.
    """
    draws = np.asarray(draws)
    R, T = draws.shape
    hs = [int(h) for h in hs]
    lrs = np.asarray(lrs, np.float64)
    if len(hs) != R or len(lrs) != R or len(Wi0) != R:
        raise ValueError(f"{R} runs in draws but {len(hs)} hs, {len(lrs)} lrs and {len(Wi0)} initial weights")
    Hmax = max(hs)
    Xtr, Ytr = np.asarray(Xtr, np.float64), np.asarray(Ytr, np.float64)
    mask = np.zeros((R, Hmax))
    Wi = np.zeros((R, 2, Hmax))
    for r, h in enumerate(hs):
        mask[r, :h] = 1.0
        Wi[r, :, :h] = Wi0[r]
    bi, Wo, bo = np.zeros((R, Hmax)), np.zeros((R, Hmax)), np.zeros(R)
    sets = [(_augmented(Xtr), Ytr), (_augmented(Xval), np.asarray(Yval, np.float64))]
    norms = [np.linalg.norm(Xa, axis=1) for Xa, _ in sets]
    errors = [np.zeros((R, T)), np.zeros((R, T))]
    xa_draws = _augmented(Xtr)[draws]                 # [R x T x 3]
    x_norm = np.linalg.norm(xa_draws, axis=2)         # [R x T]
    rows = np.arange(R)

    for t0 in range(0, T, block):
        B = min(block, T - t0)
        Wb = np.empty((B, R, 3, Hmax))                 # parameters after each step: [Wi; bi]
        Wob, bob = np.empty((B, R, Hmax)), np.empty((B, R))
        bound_c, bound_e = np.empty((B, R)), np.empty((B, R))
        for k in range(B):
            t = t0 + k
            xa, y = xa_draws[:, t], Ytr[draws[:, t]]
            pre = np.einsum("rd,rdh->rh", xa[:, :2], Wi) + bi
            H = np.maximum(pre, 0.0) * mask
            Yo = np.einsum("rh,rh->r", H, Wo) + bo
            delta = -y * sigm(-y * Yo)
            g = (pre > 0) * Wo * delta[:, None]                  # d s / d pre (zero on padded units: Wo = 0)
            dWo = -lrs[:, None] * delta[:, None] * H
            Wi -= lrs[:, None, None] * xa[:, :2, None] * g[:, None, :]
            bi -= lrs[:, None] * g
            bound_c[k] = lrs * x_norm[rows, t] * np.sum(np.abs(Wo * g), axis=1)
            Wo += dWo
            bo -= lrs * delta
            Wb[k, :, :2], Wb[k, :, 2] = Wi, bi
            Wob[k], bob[k] = Wo, bo
            bound_c[k] += np.sum(np.abs(dWo) * np.sqrt(np.sum(Wb[k] ** 2, axis=1)), axis=1)
            bound_e[k] = lrs * np.abs(delta)
        cum_c, cum_e = np.cumsum(bound_c, axis=0), np.cumsum(bound_e, axis=0)
        for (Xa, Y), norm, err in zip(sets, norms, errors):
            for r, h in enumerate(hs):
                # exact outputs after the block's first step ...
                Yo0 = np.maximum(Xa @ Wb[0, r, :, :h], 0.0) @ Wob[0, r, :h] + bob[0, r]
                wrong0 = np.sign(Yo0) != Y
                # ... and, for the points whose sign the bound cannot vouch for, after every step
                reach = norm * (cum_c[-1, r] - cum_c[0, r]) + (cum_e[-1, r] - cum_e[0, r])
                unsure = np.flatnonzero(reach * (1 + 1e-9) + 1e-12 >= np.abs(Yo0))
                count = np.full(B, np.count_nonzero(wrong0), dtype=np.float64)
                if B > 1 and len(unsure):
                    Yo = np.einsum("kph,kh->kp", np.maximum(Xa[unsure] @ Wb[1:, r, :, :h], 0.0), Wob[1:, r, :h]) \
                        + bob[1:, r, None]
                    count[1:] += np.count_nonzero(np.sign(Yo) != Y[unsure], axis=1) \
                        - np.count_nonzero(wrong0[unsure])
                err[r, t0:t0 + B] = 100.0 * count / len(Y)
    params = [(Wi[r, :, :h].copy(), bi[r, :h].copy(), Wo[r, :h].copy(), float(bo[r])) for r, h in enumerate(hs)]
    return Runs(errors[0], errors[1], params)


def train_loop(Xtr, Ytr, Xval, Yval, h, lr, vis="all", nEpochs=100, seed=None, return_params=False):
    """Train one network as the seed's ``train_loop`` does and return ``(tr_error, val_error)``.

    ``nEpochs * len(Xtr)`` SGD steps, each on one randomly drawn example; ``Wi ~ N(0, 1)``,
    ``bi``, ``Wo``, ``bo`` start at zero; the training and validation errors (%) are recorded after
    every step. ``vis``: ``'all'`` draws the decision boundary and the error curves, ``'last'``
    the boundary only, ``'never'`` nothing.
    """
    rng = np.random.default_rng(seed)
    Wi0 = rng.standard_normal((np.shape(Xtr)[1], int(h)))
    draws = rng.integers(len(Xtr), size=(1, int(nEpochs) * len(Xtr)))
    runs = sgd_runs(Xtr, Ytr, Xval, Yval, [h], [lr], draws, [Wi0])
    tr_error, val_error = runs.tr_error[0], runs.val_error[0]
    if vis in ("all", "last"):
        plot_decision_boundary(Xtr, Ytr, *runs.params[0],
                               title=f"h = {h}, lr = {lr}: training error {tr_error[-1]:.2f}%")
    if vis == "all":
        plot_error_curves({f"h = {h}, lr = {lr}": (tr_error[None], val_error[None])})
    return (tr_error, val_error, runs.params[0]) if return_params else (tr_error, val_error)


def sweep(Xtr, Ytr, Xval, Yval, settings, trials=5, nEpochs=40, seed=0):
    """Train ``trials`` networks for each ``(h, lr)`` in ``settings``, all side by side.

    Returns ``{(h, lr): (tr_error [trials x steps], val_error [trials x steps])}``.
    """
    rng = np.random.default_rng(seed)
    steps = int(nEpochs) * len(Xtr)
    hs, lrs, Wi0, draws = [], [], [], []
    for h, lr in settings:
        for _ in range(trials):
            hs.append(h)
            lrs.append(lr)
            Wi0.append(rng.standard_normal((np.shape(Xtr)[1], int(h))))
            draws.append(rng.integers(len(Xtr), size=steps))
    runs = sgd_runs(Xtr, Ytr, Xval, Yval, hs, lrs, np.stack(draws), Wi0)
    return {s: (runs.tr_error[i * trials:(i + 1) * trials], runs.val_error[i * trials:(i + 1) * trials])
            for i, s in enumerate(settings)}


# ---------------------------------------------------------------------------------------------
# Data and plots


def load_double_moon(data_dir=None, n=1000, seed=0):  # pragma: no mutate block
    """``(Xtr, Ytr, Xval, Yval, source)``: the seed's ``.mat`` files from ``data_dir`` when they are there,
    otherwise a generated two-moons set of the same size, labels in {-1, 1}, said in ``source``."""
    if data_dir is not None:
        from scipy.io import loadmat

        folder = Path(data_dir)
        names = ("double_moon_train1000.mat", "double_moon_val1000.mat")
        missing = [name for name in names if not (folder / name).is_file()]
        if missing:
            raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}: put the assignment's files "
                                    f"({', '.join(names)}, keys X and Y) there, or leave out --data to use "
                                    "a generated two-moons set")
        out = []
        for name in names:
            try:
                mat = loadmat(folder / name, squeeze_me=True)
                X, Y = np.asarray(mat["X"], np.float64), np.asarray(mat["Y"], np.float64).ravel()
            except (KeyError, ValueError, OSError) as exc:
                raise ValueError(f"{folder / name} is not a .mat file with keys X and Y ({exc})") from exc
            if X.ndim != 2 or 2 not in X.shape:
                raise ValueError(f"{folder / name}: X has shape {X.shape}, expected N x 2")
            X = X if X.shape[1] == 2 else X.T
            out += [X, Y]
        return (*out, f"the assignment's .mat files in {folder}")
    from sklearn.datasets import make_moons

    rng = np.random.default_rng(seed)
    sets = []
    for _ in range(2):
        X, y = make_moons(n_samples=n, noise=0.1, random_state=int(rng.integers(2 ** 31)))
        # the seed's plots span x in [-2, 4], y in [-5, 3]: scale the moons into that window
        sets += [X * np.array([2.0, 2.5]) + np.array([-1.0, -1.5]), 2.0 * y - 1.0]
    return (*sets, f"a generated two-moons set ({n} training and {n} validation points; the assignment's "
                   ".mat files were not given)")


def plot_decision_boundary(X, Y, Wi, bi, Wo, bo, title=None, save_path=None, ax=None):  # pragma: no mutate block
    """The regions where the network says +1 and -1, with the points on top (the seed's plot)."""
    import matplotlib.pyplot as plt

    lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
    _, Z, _ = nnet_forward_logloss(np.c_[xx.ravel(), yy.ravel()], 1.0, Wi, bi, Wo, bo)
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 5))
    ax.contourf(xx, yy, Z.reshape(xx.shape) > 0, cmap=plt.cm.Paired)
    ax.scatter(X[:, 0], X[:, 1], c=Y, cmap="winter", s=6)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return finish_figure(fig or ax.figure, save_path)


def plot_error_curves(curves, title="training and validation error", save_path=None):  # pragma: no mutate block
    """Mean error (%) across trials after every step, one colour per setting, the std as a band.

    ``curves`` maps a label to ``(tr_error [trials x steps], val_error [trials x steps])``.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for label, (tr, val) in curves.items():
        for ax, err in zip(axes, (tr, val)):
            mean, std = err.mean(axis=0), err.std(axis=0)
            steps = np.arange(1, err.shape[1] + 1)
            line, = ax.plot(steps, mean, label=label, linewidth=1)
            ax.fill_between(steps, mean - std, mean + std, color=line.get_color(), alpha=0.15)
    for ax, name in zip(axes, ("training", "validation")):
        ax.set_xlabel("iteration")
        ax.set_ylabel(f"{name} error (%)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return finish_figure(fig, save_path)


def plot_final_errors(results, values, xlabel, title=None, save_path=None):  # pragma: no mutate block
    """Final training and validation error (mean over trials, std as error bars) against a setting."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    pos = np.arange(len(values))
    for i, name in enumerate(("training", "validation")):
        finals = np.array([results[v][i][:, -1] for v in values])
        ax.errorbar(pos, finals.mean(axis=1), yerr=finals.std(axis=1), marker="o", capsize=4, label=name)
    ax.set_xticks(pos, [str(v) for v in values])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("final error (%)")
    ax.legend()
    if title:
        ax.set_title(title)
    return finish_figure(fig, save_path)

