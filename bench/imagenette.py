"""The Imagenette recipe network's training speed: ``fit_classifier`` against plain Keras ``fit``, float32 and bfloat16.

``python -m bench.imagenette [--quick]`` trains ``imagenette_resnet`` (the network ``python -m assignment
imagenette`` trains by default) on random 64 px images, both ways, in both dtype policies, the two sides
alternating, and prints images/s, their ratio and the fraction of the float32 matmul limit the project's side
reaches (3 x the forward FLOPs per image: forward, and the backward pass's two products). The plain-Keras side is
``model.compile(AdamW) + model.fit`` on float32 numpy, batch 128, as a student would write it. bfloat16 rows run
only where the CPU has native bfloat16 kernels (``cpu_kernels.cpu_bfloat16_flags``) or a GPU is present.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import coursekit  # noqa: F401  (oneDNN kernels before TensorFlow loads)
import numpy as np

BATCH = 128


def keras_fit_rate(build, x, y, epochs):
    """Images/s of plain ``model.fit`` (AdamW, sparse labels, from logits) once compiled."""
    import keras

    from bench.timing import EpochTimer, steady_epoch

    timer = EpochTimer()
    net = build()
    net.compile(optimizer=keras.optimizers.AdamW(1e-3, weight_decay=0.05),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    net.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[timer])
    return len(x) / steady_epoch(timer.times)


def project_rate(build, x, y, epochs):
    """Images/s of ``fit_classifier`` with the task's recipe settings (AdamW, warm-up + cosine, smoothing)."""
    from bench.tasks import _fit_rate

    return _fit_rate(build, x, y, 10, BATCH, epochs, optimizer="adam", learning_rate=2e-3, weight_decay=0.05,
                     schedule="cosine", warmup_epochs=1, label_smoothing=0.1, value_range=(0.0, 1.0))


def measure(quick=False, peak_gflops=None, float32_only=False, repeats=None):
    """The rows: ``{"imagenette_resnet": {...}, "imagenette_resnet_bf16": {...}}`` (the second only with native
    bfloat16 and not ``float32_only``), each with ``project``, ``reference`` (img/s), ``ratio`` and
    ``peak_fraction``; ``repeats`` rounds (default 1 quick, 2 full), each side's best kept."""
    import keras

    from bench.timing import matmul_gflops
    from coursekit.cpu_kernels import cpu_bfloat16_flags
    from coursekit.nets.flops import forward_flops
    from coursekit.nets.small_nets import imagenette_resnet

    n, epochs, default_repeats = (256, 2, 1) if quick else (1536, 3, 2)
    repeats = repeats or default_repeats
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (n, 64, 64, 3)).astype(np.float32)
    y = rng.integers(0, 10, n)
    peak = peak_gflops or matmul_gflops(2048, 10 if quick else 20)
    flops = forward_flops(imagenette_resnet())
    import tensorflow as tf

    policies = ["float32"]
    if not float32_only and (cpu_bfloat16_flags() or tf.config.list_physical_devices("GPU")):
        policies.append("mixed_bfloat16")
    rows = {}
    for policy in policies:
        keras.mixed_precision.set_global_policy(policy)
        try:
            best = [0.0, 0.0]
            for _ in range(repeats):
                best[0] = max(best[0], keras_fit_rate(imagenette_resnet, x, y, epochs))
                best[1] = max(best[1], project_rate(imagenette_resnet, x, y, epochs))
        finally:
            keras.mixed_precision.set_global_policy("float32")
        key = "imagenette_resnet" + ("_bf16" if policy != "float32" else "")
        rows[key] = {"project": round(best[1], 1), "reference": round(best[0], 1),
                     "ratio": round(best[1] / best[0], 3),
                     "peak_fraction": round(best[1] * 3 * flops / (peak * 1e9), 4)}
    rows["imagenette_resnet_gflop_per_image"] = round(3 * flops / 1e9, 3)
    rows["matmul_gflops"] = round(peak, 1)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.imagenette", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a few small epochs (a smoke test, not a measurement)")
    p.add_argument("--float32-only", action="store_true",
                   help="skip the bfloat16 rows (e.g. under ONEDNN_MAX_CPU_ISA=AVX2, which stands in for an AVX2-only "
                        "CPU: its bfloat16 would be emulated)")
    p.add_argument("--repeats", type=int, default=None, help="rounds per row, best kept (default 1 quick, 2 full)")
    args = p.parse_args(argv)
    from coursekit.cpu_kernels import cpu_bfloat16_flags, cpu_model
    from coursekit.report.tables import format_table

    rows = measure(args.quick, float32_only=args.float32_only, repeats=args.repeats)
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA")
    print(f"CPU: {cpu_model()}{f' (oneDNN limited to {isa})' if isa else ''}; native bfloat16 flags: "
          f"{', '.join(cpu_bfloat16_flags()) or 'none'}; float32 matmul "
          f"limit {rows['matmul_gflops']} GFLOP/s; {rows['imagenette_resnet_gflop_per_image']} GFLOP per training "
          f"image")
    print(format_table([{"path": key, "plain Keras fit img/s": row["reference"], "project img/s": row["project"],
                         "ratio": row["ratio"], "of FLOP limit (float32)": row["peak_fraction"]}
                        for key, row in rows.items() if isinstance(row, dict)]))
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
