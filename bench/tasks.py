"""Bench rows for the ported assignments' main paths, each beside a seed-style version in the same run."""
from __future__ import annotations

import time

import numpy as np


def double_moon_sweeps(quick):
    """Both RecVis sweeps (10 settings x trials x epochs of one-example SGD steps) against the seed's loop.

    The seed-style loop is timed on one trial of each setting for a few epochs and scaled by the
    step count to the whole sweep (its cost per step is constant); the project runs the sweeps in full,
    after a first tiny call that compiles its loops (``first_call_seconds``: a few seconds on a fresh
    checkout, a fraction of one once Numba's cache holds them).
    """
    from bench.reference import seed_double_moon_loop
    from coursekit.exercises import double_moon as dm

    trials, epochs, seed_epochs = (2, 1, 1) if quick else (5, 40, 2)
    Xtr, Ytr, Xval, Yval, _ = dm.load_double_moon(seed=0)
    settings = [(7, lr) for lr in (2, 0.2, 0.02, 0.002)] + [(h, 0.02) for h in (1, 2, 5, 7, 10, 100)]
    start = time.perf_counter()  # the first call compiles the Numba loops (or loads them from their cache)
    dm.sweep(Xtr[:10], Ytr[:10], Xval[:10], Yval[:10], [(2, 0.1)], trials=1, nEpochs=1)
    first_call = time.perf_counter() - start
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
            "first_call_seconds": round(first_call, 2), "trials": trials, "epochs": epochs}


def mnist_epochs(quick, peak_gflops):
    """``train_one_epoch`` (one compiled graph per epoch) against an eager ``GradientTape`` loop, img/s."""
    import keras

    from bench.reference import eager_train_epoch
    from coursekit.exercises.epochs import train_one_epoch
    from coursekit.nets.flops import forward_flops
    from coursekit.nets.small_nets import mnist_cnn, mnist_mlp
    from coursekit.training.pipelines import labelled_dataset

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
    """The RecVis ConvNet on the project's trainer (SGD 0.01) against Keras' own ``fit`` on numpy (the seed's
    loop is a plain per-batch SGD loop; ``model.fit`` is the fastest plain-Keras stand-in), img/s."""
    from coursekit.nets.small_nets import cifar_convnet as build

    return _conv_row(build, 32, (256, 2) if quick else (4096, 3), quick, peak_gflops, "sgd")


def imagenette_cnn(quick, peak_gflops):
    """The Technion Imagenette CNN (64 px, GroupNorm, Adam) on the trainer against Keras' own ``fit``, img/s."""
    from coursekit.nets.small_nets import imagenette_cnn as build

    return _conv_row(build, 64, (64, 2) if quick else (1024, 3), quick, peak_gflops, "adam")


def _conv_row(build, size, n_epochs, quick, peak_gflops, optimizer):
    from bench import reference
    from bench.timing import random_images
    from coursekit.nets.flops import forward_flops

    n, epochs = n_epochs
    x, y = random_images(n, size)
    lr = 0.01 if optimizer == "sgd" else 1e-3
    best = [0.0, 0.0]
    for _ in range(1 if quick else 2):
        best[0] = max(best[0], reference_rate(reference, build, x, y, epochs, optimizer))
        best[1] = max(best[1], _fit_rate(build, x, y, 10, 64, epochs, optimizer=optimizer, learning_rate=lr))
    return {"project": round(best[1], 1), "reference": round(best[0], 1), "ratio": round(best[1] / best[0], 3),
            "peak_fraction": round(best[1] * 3 * forward_flops(build()) / (peak_gflops * 1e9), 4)}


def reference_rate(reference, build, x, y, epochs, optimizer="sgd"):
    import keras

    from bench.timing import EpochTimer, steady_epoch

    timer = EpochTimer()
    net = build()
    opt = keras.optimizers.SGD(0.01) if optimizer == "sgd" else keras.optimizers.Adam(1e-3)
    net.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    net.fit(x.astype(np.float64), y, batch_size=64, epochs=epochs, verbose=0, callbacks=[timer])
    return len(x) / steady_epoch(timer.times)


def write_varied_jpegs(folder, per_class, seed=0):
    """Three class folders of photo-like JPEGs (smooth colour fields with grain) from 120 to 900 px a side."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for cls in ("cats", "dogs", "panda"):
        (folder / cls).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            h, w = (int(v) for v in rng.integers(120, 900, 2))
            yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
            base = np.stack([np.sin(6 * xx * rng.uniform(0.5, 2) + c) for c in range(3)], -1) * 90 + 128
            pixels = np.clip(base + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / cls / f"{i:04d}.jpg", quality=90)
    return folder


def load_animals(quick, repeats=2):
    """``AnimalsDatasetManager.load`` (threads, checks every file) against the template's ``cv2`` loop, img/s,
    on generated varied-size JPEGs and, when present, on ``../shared/data/animals_sample/``."""
    import tempfile
    import warnings
    from pathlib import Path

    from bench.reference import template_load
    from coursekit.datasets.animals import AnimalsDatasetManager, create_label_folder_dict
    from coursekit.datasets.preprocessing import SimplePreprocessor

    def rates(folder):
        folders = create_label_folder_dict(folder)
        template_load(folders)  # warm the file cache for both sides
        best = [0.0, 0.0]
        for _ in range(repeats):
            start = time.perf_counter()
            n = len(template_load(folders)[0])
            best[0] = max(best[0], n / (time.perf_counter() - start))
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                n = len(AnimalsDatasetManager([SimplePreprocessor(32, 32)]).load(folders).data)
            best[1] = max(best[1], n / (time.perf_counter() - start))
        return {"project": round(best[1], 1), "reference": round(best[0], 1), "ratio": round(best[1] / best[0], 3),
                "images": n}

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        rows["load_animals_generated"] = rates(write_varied_jpegs(Path(tmp), 12 if quick else 100))
    sample = Path(__file__).resolve().parents[2] / "shared" / "data" / "animals_sample"
    if sample.is_dir():
        rows["load_animals_sample"] = rates(sample)
    return rows


def _fit_rate(build, x, y, num_classes, batch_size, epochs, **kwargs):
    """Images (or rows) per second of ``fit_classifier`` once compiled: the fastest epoch after the first."""
    from bench.timing import EpochTimer, steady_epoch
    from coursekit.training.config import TrainConfig
    from coursekit.training.fit import fit_classifier

    timer = EpochTimer()
    fit_classifier(build(), (x, y), None, TrainConfig(num_classes=num_classes, batch_size=batch_size, epochs=epochs,
                                                      verbose=False, **kwargs), callbacks=[timer])
    return len(x) / steady_epoch(timer.times)


def magic_mlp(quick):
    """The MAGIC MLP (10 features -> 256 -> 128 -> 1 logit, batch 256) on the trainer against an eager
    per-batch loop like the seed's PyTorch one, rows/s."""
    import keras

    from bench.reference import eager_binary_epoch
    from coursekit.training.tabular import binary_mlp

    n = 2048 if quick else 13314  # the task's training split of the 19,020 rows
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (n, 10)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.normal(0, 1, n) > 0).astype(np.int64)
    best = [0.0, 0.0]
    for _ in range(1 if quick else 2):
        net, opt = binary_mlp(10), keras.optimizers.Adam(1e-3)
        eager_binary_epoch(x[:512], y[:512], net, opt, 256)  # build the optimizer
        start = time.perf_counter()
        eager_binary_epoch(x, y, net, opt, 256)
        best[0] = max(best[0], n / (time.perf_counter() - start))
        best[1] = max(best[1], _fit_rate(lambda: binary_mlp(10), x, y, 2, 256, 3))
    return {"project": round(best[1], 1), "reference": round(best[0], 1), "ratio": round(best[1] / best[0], 3)}

