"""Bench rows for the ported assignments' main paths, each beside a seed-style version in the same run."""
from __future__ import annotations

import time

import numpy as np


def double_moon_sweeps(quick):
    """Both RecVis sweeps (10 settings x trials x epochs of one-example SGD steps) against the seed's loop.

    The seed-style loop is timed on one trial of each setting for a few epochs and scaled by the
    step count to the whole sweep (its cost per step is constant); the project runs the sweeps in full.
    """
    from bench.reference import seed_double_moon_loop
    from coursekit import double_moon as dm

    trials, epochs, seed_epochs = (2, 1, 1) if quick else (5, 40, 2)
    Xtr, Ytr, Xval, Yval, _ = dm.load_double_moon(seed=0)
    settings = [(7, lr) for lr in (2, 0.2, 0.02, 0.002)] + [(h, 0.02) for h in (1, 2, 5, 7, 10, 100)]
    start = time.perf_counter()
    dm.sweep(Xtr, Ytr, Xval, Yval, settings[:4], trials, epochs, seed=1)
    dm.sweep(Xtr, Ytr, Xval, Yval, settings[4:], trials, epochs, seed=2)
    project = time.perf_counter() - start
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for h, lr in settings:
        seed_double_moon_loop(Xtr, Ytr, Xval, Yval, h, lr, seed_epochs * len(Xtr), rng)
    measured = time.perf_counter() - start
    seed_style = measured * trials * epochs / seed_epochs
    return {"project_seconds": round(project, 2), "seed_style_seconds": round(seed_style, 2),
            "seed_style_measured_seconds": round(measured, 2), "speedup": round(seed_style / project, 2),
            "trials": trials, "epochs": epochs}


def mnist_epochs(quick, peak_gflops):
    """``train_one_epoch`` (one compiled graph per epoch) against an eager ``GradientTape`` loop, img/s."""
    import keras

    from bench.reference import eager_train_epoch
    from coursekit.epochs import train_one_epoch
    from coursekit.flops import forward_flops
    from coursekit.pipelines import labelled_dataset
    from coursekit.small_nets import mnist_cnn, mnist_mlp

    n = 1024 if quick else 12800
    rng = np.random.default_rng(0)
    ds = labelled_dataset(rng.normal(0, 1, (n, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, n), 64)
    rows = {}
    for name, build in (("mlp", mnist_mlp), ("cnn", mnist_cnn)):
        keras.utils.set_random_seed(0)
        project_net, ref_net = build(), build()
        project_opt, ref_opt = keras.optimizers.SGD(0.01), keras.optimizers.SGD(0.01)
        train_one_epoch(ds, project_net, project_opt, 100, 0)  # compile
        eager_train_epoch(ds.take(2), ref_net, ref_opt)        # build the optimizer
        best = [0.0, 0.0]
        for _ in range(1 if quick else 2):
            start = time.perf_counter()
            eager_train_epoch(ds, ref_net, ref_opt)
            best[0] = max(best[0], n / (time.perf_counter() - start))
            start = time.perf_counter()
            train_one_epoch(ds, project_net, project_opt, 100, 0)
            best[1] = max(best[1], n / (time.perf_counter() - start))
        rows[f"mnist_{name}_epoch"] = {
            "project": round(best[1], 1), "reference": round(best[0], 1), "ratio": round(best[1] / best[0], 3),
            "peak_fraction": round(best[1] * 3 * forward_flops(project_net) / (peak_gflops * 1e9), 4)}
    return rows


def cifar_convnet(quick, peak_gflops):
    """The RecVis ConvNet on the project's trainer against Keras' own ``fit`` on numpy (the seed's loop is
    a plain per-batch SGD loop; ``model.fit`` is the fastest plain-Keras stand-in), img/s."""
    import keras

    from bench import reference
    from bench.__main__ import train_rate_project
    from coursekit.flops import forward_flops
    from coursekit.small_nets import cifar_convnet as build

    n, epochs = (256, 2) if quick else (4096, 3)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (n, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 10, n)
    best = [0.0, 0.0]
    for _ in range(1 if quick else 2):
        best[0] = max(best[0], reference_rate(reference, build, x, y, epochs))
        best[1] = max(best[1], train_rate_project(build, x, y, 64, epochs, optimizer="sgd", learning_rate=0.01)[0])
    keras.utils.set_random_seed(0)
    return {"project": round(best[1], 1), "reference": round(best[0], 1), "ratio": round(best[1] / best[0], 3),
            "peak_fraction": round(best[1] * 3 * forward_flops(build()) / (peak_gflops * 1e9), 4)}


def reference_rate(reference, build, x, y, epochs):
    import keras

    from bench.__main__ import EpochTimer, steady_epoch

    timer = EpochTimer()
    net = build()
    net.compile(optimizer=keras.optimizers.SGD(0.01), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    net.fit(x.astype(np.float64), y, batch_size=64, epochs=epochs, verbose=0, callbacks=[timer])
    return len(x) / steady_epoch(timer.times)
