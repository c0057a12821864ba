"""``python -m bench [--quick]``: the project's paths against a template-style reference, in one run.

Reference and project alternate, so other load on the machine hits both alike; each figure
is the best of ``--repeats`` rounds. Prints a table of ratios (project / reference) and the
fraction of the machine's float32 matmul throughput each path reaches, and writes
``bench/results.json``.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

import coursekit  # noqa: F401  (quiet TensorFlow start-up, oneDNN kernels: before keras is imported)
import keras  # noqa: E402

from bench.stock import stock_matmul_gflops, stock_reference_rate  # noqa: E402
from bench.timing import (EpochTimer, matmul_gflops, random_images, steady_epoch,  # noqa: E402
                          train_rate_reference)


def train_rate_project(build, x, y, batch_size, epochs, **variant):
    """Images/s and steady epoch time of ``fit_classifier``; ``variant`` adds e.g. ``adversarial``, ``sam_rho``."""
    from coursekit.training.config import TrainConfig
    from coursekit.training.fit import fit_classifier

    timer = EpochTimer()
    fit_classifier(build(), (x, y), None, TrainConfig(num_classes=10, batch_size=batch_size, epochs=epochs,
                                                      verbose=False, **variant), callbacks=[timer])
    return len(x) / steady_epoch(timer.times), steady_epoch(timer.times)


def attack_rate(fn, n):
    fn()  # compile / warm up
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def best_of(repeats, measure):
    """Run ``measure()`` -> (reference, project, ...) ``repeats`` times, the sides alternating within
    each round; keep each side's best."""
    rounds = [measure() for _ in range(repeats)]
    return [max(side) for side in zip(*rounds)]


def entry(reference, project, stock=None):
    """One row: ``ratio`` is against the reference in this process (the same TensorFlow kernels); with
    ``stock``, also against the reference on TensorFlow's own default kernels (``bench.stock``)."""
    row = {"project": round(project, 2), "reference": round(reference, 2), "ratio": round(project / reference, 3)}
    if stock is not None:
        row.update(stock_reference=round(stock, 2), ratio_vs_stock=round(project / stock, 3))
    return row


def has_bfloat16_hardware():
    """True on a GPU or a CPU with bfloat16 instructions (AVX-512 BF16 or AMX); elsewhere TensorFlow emulates
    bfloat16 at about a tenth of float32's speed, and the bf16 rows would take most of the run."""
    import tensorflow as tf

    from coursekit.cpu_kernels import cpu_bfloat16_flags

    return bool(tf.config.list_physical_devices("GPU")) or bool(cpu_bfloat16_flags())


def in_bfloat16(fn):
    """Run ``fn`` with Keras' mixed_bfloat16 policy (models built inside compute in bfloat16)."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        return fn()
    finally:
        keras.mixed_precision.set_global_policy("float32")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes for CI (seconds, figures not meaningful)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="alternating rounds per figure (default 2, quick 1)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results.json")
    args = parser.parse_args(argv)
    from bench import reference
    from coursekit.attacks import fgsm, mim, pgd
    from coursekit.nets.architectures import default_cnn, residual_cnn
    from coursekit.nets.flops import forward_flops
    from coursekit.report.tables import format_table
    from coursekit.training.trainer import AdversarialTraining

    quick = args.quick
    repeats = args.repeats or (1 if quick else 2)
    n_train, n_attack, epochs, batch = (256, 32, 2, 64) if quick else (4096, 512, 3, 64)
    x, y = random_images(n_train)
    keras.utils.set_random_seed(0)

    from coursekit.cpu_kernels import onednn_enabled

    # The FLOP limit: the faster of float32 matmul with this process's kernels and with stock TensorFlow's.
    peak_here, peak_stock = matmul_gflops(2048, 10 if quick else 20), stock_matmul_gflops(quick)
    peak = max(peak_here, peak_stock)
    onednn = onednn_enabled()
    print(f"float32 matmul: {peak_here:.1f} GFLOP/s here (oneDNN {'on' if onednn else 'off'}), "
          f"{peak_stock:.1f} with stock TensorFlow", flush=True)
    flops_default = forward_flops(default_cnn(num_classes=10))
    flops_yours = forward_flops(residual_cnn(num_blocks=3, num_classes=10))
    results = {"matmul_gflops": round(peak, 1), "matmul_gflops_here": round(peak_here, 1),
               "matmul_gflops_stock": round(peak_stock, 1), "onednn": onednn, "quick": quick, "n_train": n_train,
               "n_attack": n_attack,
               "batch_size": batch, "forward_mflop_default": round(flops_default / 1e6, 2),
               "forward_mflop_yourmodel": round(flops_yours / 1e6, 2), "python": platform.python_version(),
               "machine": platform.machine()}

    print("training throughput ...", flush=True)
    bf16 = has_bfloat16_hardware()
    results["bf16_rows"] = bf16
    ref, proj, stock, proj16 = best_of(repeats, lambda: (
        train_rate_reference(lambda: reference.default_cnn(), x, y, batch, epochs),
        train_rate_project(lambda: default_cnn(num_classes=10), x, y, batch, epochs)[0],
        stock_reference_rate("default", n_train, epochs, batch),
        in_bfloat16(lambda: train_rate_project(lambda: default_cnn(num_classes=10), x, y, batch, epochs)[0])
        if bf16 else 1.0))
    results["train_default"] = entry(ref, proj, stock)
    if bf16:
        results["train_default_bf16"] = entry(ref, proj16)
    results["train_yourmodel"] = entry(*best_of(repeats, lambda: (
        train_rate_reference(lambda: reference.residual_cnn(num_blocks=3), x, y, batch, epochs),
        train_rate_project(lambda: residual_cnn(num_blocks=3, num_classes=10, batch_norm=True, use_skip=True),
                           x, y, batch, epochs)[0],
        stock_reference_rate("yourmodel", n_train, epochs, batch))))

    print("XLA on / off ...", flush=True)  # what jit_compile='auto' picks on a GPU, measured on this machine
    from bench.xla import xla_rows
    results.update(xla_rows(x, y, batch, epochs, repeats))

    print("attack throughput ...", flush=True)
    net = default_cnn(num_classes=10)
    from coursekit.training.config import TrainConfig
    from coursekit.training.fit import fit_classifier
    fit_classifier(net, (x, y), None, TrainConfig(num_classes=10, batch_size=batch, epochs=1, verbose=False))
    ref_net = reference.default_cnn()
    ref_net.set_weights(net.get_weights())
    xa, ya = x[:n_attack], y[:n_attack]
    eps, k, eta = 0.0313, 20, 0.002
    results["fgsm"] = entry(*best_of(repeats, lambda: (
        attack_rate(lambda: reference.fgsm(ref_net, xa.astype(np.float64), ya, eps), n_attack),
        attack_rate(lambda: fgsm(net, xa, ya, eps), n_attack))))
    net16 = in_bfloat16(lambda: default_cnn(num_classes=10))
    net16.set_weights(net.get_weights())
    ref, proj, proj16 = best_of(repeats, lambda: (
        attack_rate(lambda: reference.pgd(ref_net, xa.astype(np.float64), ya, eps, k, eta), n_attack),
        attack_rate(lambda: pgd(net, xa, ya, eps, k, eta), n_attack),
        attack_rate(lambda: pgd(net16, xa, ya, eps, k, eta), n_attack) if bf16 else 1.0))
    results["pgd20"] = entry(ref, proj)
    if bf16:
        results["pgd20_bf16"] = entry(ref, proj16)
    results["mim20"] = entry(*best_of(repeats, lambda: (
        attack_rate(lambda: reference.mim(ref_net, xa.astype(np.float64), ya, eps, k, eta), n_attack),
        attack_rate(lambda: mim(net, xa, ya, eps, k, eta), n_attack))))

    print("adversarial-training and SAM epochs ...", flush=True)
    n_adv = min(n_train, 256 if quick else 1024)

    def epoch_time(**variant):
        return train_rate_project(lambda: default_cnn(num_classes=10), x[:n_adv], y[:n_adv], batch, 2, **variant)[1]

    clean, adv, sam = best_of(repeats, lambda: (
        -epoch_time(), -epoch_time(adversarial=AdversarialTraining(eps, 10, eta)), -epoch_time(sam_rho=0.05)))
    results["adv_epoch_over_clean"] = round(adv / clean, 3)  # negated times: best_of keeps the fastest
    results["sam_epoch_over_clean"] = round(sam / clean, 3)

    print("ported assignments' paths ...", flush=True)
    from bench import tasks
    results.update(tasks.mnist_epochs(quick, peak))
    results["cifar_convnet"] = tasks.cifar_convnet(quick, peak)
    results["double_moon_sweeps"] = tasks.double_moon_sweeps(quick)
    results["magic_mlp"] = tasks.magic_mlp(quick)
    results["imagenette_cnn"] = tasks.imagenette_cnn(quick, peak)
    from bench import imagenette as imagenette_bench
    results.update({key: row for key, row in imagenette_bench.measure(quick, peak).items() if isinstance(row, dict)})
    print("image loading ...", flush=True)
    results.update(tasks.load_animals(quick, repeats))

    limit = peak * 1e9
    results["train_default_peak_fraction"] = round(results["train_default"]["project"] * 3 * flops_default / limit, 3)
    results["train_yourmodel_peak_fraction"] = round(
        results["train_yourmodel"]["project"] * 3 * flops_yours / limit, 3)
    results["pgd20_peak_fraction"] = round(results["pgd20"]["project"] * k * 2 * flops_default / limit, 3)
    results["mim20_peak_fraction"] = round(results["mim20"]["project"] * k * 2 * flops_default / limit, 3)
    results["fgsm_peak_fraction"] = round(results["fgsm"]["project"] * 2 * flops_default / limit, 3)

    rows = [{"path": key, "reference img/s": results[key]["reference"], "project img/s": results[key]["project"],
             "ratio": results[key]["ratio"],
             "of FLOP limit": results[f"{key}_peak_fraction"],
             "stock-TF reference": results[key].get("stock_reference", "-"),
             "ratio vs stock": results[key].get("ratio_vs_stock", "-")}
            for key in ("train_default", "train_yourmodel", "fgsm", "pgd20", "mim20")]
    rows += [{"path": key, "reference img/s": results[key]["reference"],
              "project img/s": results[key]["project"], "ratio": results[key]["ratio"], "of FLOP limit": "-"}
             for key in ("train_default_bf16", "pgd20_bf16") if key in results]
    rows += [{"path": key, "reference img/s": results[key]["reference"], "project img/s": results[key]["project"],
              "ratio": results[key]["ratio"], "of FLOP limit": results[key]["peak_fraction"]}
             for key in ("mnist_mlp_epoch", "mnist_cnn_epoch", "cifar_convnet", "imagenette_cnn",
                         "imagenette_resnet", "imagenette_resnet_bf16") if key in results]
    rows.append({"path": "magic_mlp (rows/s)", "reference img/s": results["magic_mlp"]["reference"],
                 "project img/s": results["magic_mlp"]["project"], "ratio": results["magic_mlp"]["ratio"],
                 "of FLOP limit": "-"})
    rows += [{"path": key, "reference img/s": results[key]["reference"], "project img/s": results[key]["project"],
              "ratio": results[key]["ratio"], "of FLOP limit": "-"}
             for key in ("load_animals_generated", "load_animals_sample") if key in results]
    print()
    print(format_table(rows))
    moon = results["double_moon_sweeps"]
    print(f"double-moon sweeps ({moon['trials']} trials x 10 settings x {moon['epochs']} epochs): project "
          f"{moon['project_seconds']} s, seed-style loop {moon['seed_style_seconds']} s "
          f"(measured {moon['seed_style_measured_seconds']} s on a part, scaled by steps), {moon['speedup']}x; "
          f"the project's first call (compiling its loops or loading them) {moon['first_call_seconds']} s before")
    for key, what in (("xla_default", "default CNN"), ("xla_yourmodel", "YourModel (3 blocks, BN)")):
        row = results[key]
        print(f"XLA on / off, {what} training: {row['ratio']} ({row['project']} vs {row['reference']} img/s)")
    print(f"adversarial-training (PGD-10) epoch / clean epoch: {results['adv_epoch_over_clean']}")
    print(f"SAM (rho=0.05) epoch / plain epoch: {results['sam_epoch_over_clean']}")
    print(f"float32 matmul limit: {results['matmul_gflops']} GFLOP/s (the faster of {peak_here:.1f} here and "
          f"{peak_stock:.1f} on stock TensorFlow)")
    print("ratio: against the template-style reference in this process (same TensorFlow kernels); ratio vs stock: "
          "against it on stock TensorFlow's default kernels (python -m bench.stock), as the template runs without "
          "this project")
    if not bf16:
        print("bfloat16 rows skipped: no GPU and no bfloat16 instructions on this CPU (it would be emulated)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
