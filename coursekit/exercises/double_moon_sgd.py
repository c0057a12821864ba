"""The double-moon SGD runs compiled with Numba: one run per call, the errors after every step exact.

A run is ``T`` one-example SGD steps of the RecVis two-layer ReLU net, and after each step the
training and validation errors over every point. Evaluated naively that is ``T x points x h``
hidden-unit evaluations (5e10 for the assignment's two sweeps), so the steps run in blocks:

1. the block's SGD steps run first (the errors never feed back into training), keeping the
   parameters after each step and a bound on how far each step can move any output
   (``|dYo(x)| <= |x~| c_t + e_t``, see ``_sgd_block``);
2. every point is evaluated exactly after the block's first step;
3. a point is evaluated again at step ``k`` only from the first step at which the summed bound
   could have reached its distance to zero, i.e. only while its sign could have changed.

The loops are compiled (``nogil``), so a run costs no Python per step and ``run_all`` runs
several runs on threads at once. The arithmetic is the seed's, in float64, in a fixed order:
the errors equal the one-example loop's step for step (``tests/exercises/test_double_moon.py``).
"""
from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit



def _compiled(function):
    """``numba.njit`` without the GIL, cached on disk where Numba finds a writable folder for its cache."""
    try:
        return njit(nogil=True, cache=True)(function)
    except RuntimeError:  # a read-only install and home: no cache folder, so compile once per process
        return njit(nogil=True)(function)


# the bound is compared with a float64 output: widen it by more than the rounding of either side
_SAFETY, _TINY = 1.0 + 1e-9, 1e-12


@_compiled
def _outputs(x0, x1, m, W0, W1, b, Wo, bo, h, out):
    """``out[:m] = Wo . ReLU(W0 x0 + W1 x1 + b) + bo``, units outermost so the points vectorise."""
    for q in range(m):
        out[q] = 0.0
    for j in range(h):
        w0, w1, bj, wo = W0[j], W1[j], b[j], Wo[j]
        for q in range(m):
            out[q] += max(x0[q] * w0 + x1[q] * w1 + bj, 0.0) * wo
    for q in range(m):
        out[q] += bo


@_compiled
def _sgd_block(xtr, ytr, draws, lr, h, W0, W1, b, Wo, bo, P0, P1, Pb, Po, Pbo, reach_x, reach_1, pre):
    """Run ``len(draws)`` SGD steps in place, keeping each step's parameters; return the new ``bo``.

    ``reach_x[k] |x~| + reach_1[k]`` bounds how far steps 1..k of the block moved the output at
    ``x`` (``x~ = (x, 1)``). One step moves it by at most
    ``|x~| (lr |x~_n| sum_j |Wo_j g_j| + sum_j |dWo_j| |w~_j'|) + lr |delta|``, ``g`` the hidden
    units' gradient and ``w~_j'`` unit ``j``'s new weights and bias: ``|ReLU(a + e) - ReLU(a)| <= |e|``
    and ``ReLU(a) <= |a|``.
    """
    for k in range(draws.shape[0]):
        n = draws[k]
        xa, xb, y = xtr[n, 0], xtr[n, 1], ytr[n]
        out = 0.0
        for j in range(h):
            pre[j] = xa * W0[j] + xb * W1[j] + b[j]
            out += max(pre[j], 0.0) * Wo[j]
        z = -y * (out + bo)  # delta = ds/dYo = -y sigm(z), the sigmoid without overflow
        if z >= 0.0:
            sig = 1.0 / (1.0 + math.exp(-z))
        else:
            e = math.exp(z)
            sig = e / (1.0 + e)
        delta = -y * sig
        move_in, move_out = 0.0, 0.0
        for j in range(h):
            if pre[j] > 0.0:  # ReLU'(0) = 0, as in the seed
                g = Wo[j] * delta
                move_in += abs(Wo[j] * g)
                W0[j] -= lr * xa * g
                W1[j] -= lr * xb * g
                b[j] -= lr * g
                dwo = lr * delta * pre[j]
                Wo[j] -= dwo
                move_out += abs(dwo) * math.sqrt(W0[j] * W0[j] + W1[j] * W1[j] + b[j] * b[j])
        bo -= lr * delta
        P0[k, :h], P1[k, :h], Pb[k, :h], Po[k, :h] = W0, W1, b, Wo
        Pbo[k] = bo
        if k == 0:
            reach_x[0], reach_1[0] = 0.0, 0.0
        else:
            reach_x[k] = reach_x[k - 1] + lr * math.sqrt(xa * xa + xb * xb + 1.0) * move_in + move_out
            reach_1[k] = reach_1[k - 1] + lr * abs(delta)
    return bo


@_compiled
def _block_wrong(x0, x1, Y, norm, steps, h, P0, P1, Pb, Po, Pbo, reach_x, reach_1, wrong, work, first, gx, order):
    """``wrong[k]``: how many points the parameters after the block's step ``k`` misclassify."""
    n = x0.shape[0]
    yo0 = work[0]
    _outputs(x0, x1, n, P0[0], P1[0], Pb[0], Po[0], Pbo[0], h, yo0)
    wrong0 = 0
    for p in range(n):
        if not (yo0[p] * Y[p] > 0.0):  # sign(Yo) != Y, a zero output counting as wrong as in the seed
            wrong0 += 1
    wrong[0] = wrong0
    if steps == 1:
        return
    # the first step at which each point's sign could differ from step 0's (steps: never in this block)
    for k in range(steps + 1):
        order[k] = 0
    for p in range(n):
        dist = abs(yo0[p])
        k = steps
        if (norm[p] * reach_x[steps - 1] + reach_1[steps - 1]) * _SAFETY + _TINY >= dist:
            k = 1
            while (norm[p] * reach_x[k] + reach_1[k]) * _SAFETY + _TINY < dist:
                k += 1
        first[p] = k
        order[k] += 1
    start = 0
    for k in range(steps + 1):  # a counting sort by that step: the points unsure at step k come first
        count = order[k]
        order[k] = start
        start += count
    gx0, gx1, gy, gwas = gx[0], gx[1], gx[2], gx[3]
    for p in range(n):
        k = first[p]
        if k < steps:
            q = order[k]
            order[k] += 1
            gx0[q], gx1[q], gy[q] = x0[p], x1[p], Y[p]
            gwas[q] = 0.0 if yo0[p] * Y[p] > 0.0 else 1.0
    # order[k] is now the end of bucket k: the points unsure by step k are the first order[k]
    was_wrong, taken = 0.0, 0
    yo = work[1]
    for k in range(1, steps):
        m = order[k]
        while taken < m:
            was_wrong += gwas[taken]
            taken += 1
        if m == 0:
            wrong[k] = wrong0
            continue
        _outputs(gx0, gx1, m, P0[k], P1[k], Pb[k], Po[k], Pbo[k], h, yo)
        now_wrong = 0
        for q in range(m):
            if not (yo[q] * gy[q] > 0.0):
                now_wrong += 1
        wrong[k] = wrong0 - int(was_wrong) + now_wrong


@_compiled
def _train_run(xtr, ytr, xval, yval, h, lr, draws, Wi0, block, tr_error, val_error, params):
    """One run: ``len(draws)`` steps from ``Wi0`` (the rest at zero); fills both error rows and ``params``."""
    T = draws.shape[0]
    W0, W1 = Wi0[0, :h].copy(), Wi0[1, :h].copy()
    b, Wo, bo = np.zeros(h), np.zeros(h), 0.0
    P0, P1, Pb, Po = np.empty((block, h)), np.empty((block, h)), np.empty((block, h)), np.empty((block, h))
    Pbo, reach_x, reach_1, pre = np.empty(block), np.empty(block), np.empty(block), np.empty(h)
    sets = ((xtr[:, 0].copy(), xtr[:, 1].copy(), ytr, tr_error), (xval[:, 0].copy(), xval[:, 1].copy(), yval, val_error))
    norms = (np.sqrt(sets[0][0] ** 2 + sets[0][1] ** 2 + 1.0), np.sqrt(sets[1][0] ** 2 + sets[1][1] ** 2 + 1.0))
    most = max(xtr.shape[0], xval.shape[0])
    work, gx = np.empty((2, most)), np.empty((4, most))
    first, order = np.empty(most, np.int64), np.empty(block + 1, np.int64)
    wrong = np.empty(block, np.int64)
    for t0 in range(0, T, block):
        steps = min(block, T - t0)
        bo = _sgd_block(xtr, ytr, draws[t0:t0 + steps], lr, h, W0, W1, b, Wo, bo, P0, P1, Pb, Po, Pbo,
                        reach_x, reach_1, pre)
        for s in range(2):
            x0, x1, Y, error = sets[s]
            _block_wrong(x0, x1, Y, norms[s], steps, h, P0, P1, Pb, Po, Pbo, reach_x, reach_1, wrong, work,
                         first, gx, order)
            for k in range(steps):
                error[t0 + k] = 100.0 * wrong[k] / x0.shape[0]
    params[0, :h], params[1, :h], params[2, :h], params[3, :h] = W0, W1, b, Wo
    return bo


def run_all(Xtr, Ytr, Xval, Yval, hs, lrs, draws, Wi0, block, threads=None):
    """Every run of ``sgd_runs`` (float64 arrays, already checked), widest first on ``threads`` threads.

    Returns ``(tr_error [R x T], val_error [R x T], params)``, ``params`` per run ``(Wi, bi, Wo, bo)``.
    """
    R, T = draws.shape
    tr_error, val_error = np.zeros((R, T)), np.zeros((R, T))
    finals = [np.zeros((4, h)) for h in hs]
    out_bias = [0.0] * R

    def one(r):
        out_bias[r] = _train_run(Xtr, Ytr, Xval, Yval, hs[r], float(lrs[r]), draws[r], Wi0[r], block,
                                 tr_error[r], val_error[r], finals[r])

    threads = threads or min(R, os.cpu_count() or 1)
    by_cost = sorted(range(R), key=lambda r: -hs[r])  # the widest first, so no thread is left with one at the end
    if threads == 1:
        for r in by_cost:
            one(r)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, by_cost))
    params = [(np.stack([f[0], f[1]]), f[2].copy(), f[3].copy(), float(out_bias[r])) for r, f in enumerate(finals)]
    return tr_error, val_error, params
