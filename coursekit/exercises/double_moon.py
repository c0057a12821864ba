"""RecVis A2 Part 1 in numpy: a two-layer net trained by hand-written backpropagation on "double moon" data.

The network is ``Yo = Wo . ReLU(X Wi + bi) + bo`` with the logistic loss
``s(Y, Yo) = log(1 + exp(-Y Yo))`` for labels ``Y`` in {-1, 1}. The gradients are numpy, as
in the assignment: the point is to write them by hand and check them numerically.

``train_loop`` keeps the seed's semantics (one randomly drawn example per SGD step; the full
training and validation error recorded after every step). ``sgd_runs`` runs many such
trainings on compiled loops (``double_moon_sgd``, Numba) that evaluate a point again only while
its sign could have changed, which is what makes the sweeps fast.
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


def sgd_runs(Xtr, Ytr, Xval, Yval, hs, lrs, draws, Wi0, block=16):
    """Train ``len(hs)`` networks by one-example SGD at once; record both errors after every step.

    ``hs`` and ``lrs`` give each run's hidden units and learning rate; ``draws[r, t]`` is the
    training example run ``r`` uses at step ``t``; ``Wi0[r]`` its initial ``[2 x h]`` weights
    (the other parameters start at zero). Each step is exactly the seed's update, in float64.

    The errors are exact but not recomputed from scratch for every point at every step: the
    steps run in blocks of ``block``, and within a block a point is evaluated again only while
    a bound on how far the updates can move its output says its sign could have changed
    (``coursekit.exercises.double_moon_sgd``, compiled with Numba; the runs share the cores).
    """
    from coursekit.exercises.double_moon_sgd import run_all

    draws = np.ascontiguousarray(draws, dtype=np.int64)
    if draws.ndim != 2:
        raise ValueError(f"draws has shape {draws.shape}; expected runs x steps")
    R = draws.shape[0]
    hs = [int(h) for h in hs]
    lrs = np.asarray(lrs, np.float64)
    if len(hs) != R or len(lrs) != R or len(Wi0) != R:
        raise ValueError(f"{R} runs in draws but {len(hs)} hs, {len(lrs)} lrs and {len(Wi0)} initial weights")
    if int(block) < 1:
        raise ValueError(f"block={block}: it must be at least 1 step")
    Xtr, Ytr, Xval, Yval = (np.ascontiguousarray(a, dtype=np.float64) for a in (Xtr, Ytr, Xval, Yval))
    if draws.size and (draws.min() < 0 or draws.max() >= len(Xtr)):
        raise ValueError(f"draws index examples {draws.min()}..{draws.max()}; there are {len(Xtr)} training examples")
    Wi0 = [np.ascontiguousarray(w, dtype=np.float64) for w in Wi0]
    for r, (w, h) in enumerate(zip(Wi0, hs)):
        if w.shape != (2, h):
            raise ValueError(f"Wi0[{r}] has shape {w.shape}; run {r} has h = {h}, so it must be (2, {h})")
    tr_error, val_error, params = run_all(Xtr, Ytr, Xval, Yval, hs, lrs, draws, Wi0, int(block))
    return Runs(tr_error, val_error, params)


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

