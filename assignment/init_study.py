"""Technion ECE 046211 HW2 Task 1: activation and initialisation through 100 layers of 512 units.

(1) unit-normal weights overflow float32: the first layer whose output holds NaN/inf;
(2) the std of y = a x over 10,000 draws, against sqrt(512);
(3) weights scaled by 1/sqrt(fan_in); (4) tanh after each layer; (5) Xavier uniform with tanh;
(6) Kaiming normal with ReLU, and Xavier with ReLU for contrast. One log-scale figure of every
variant's per-layer std.
"""
from __future__ import annotations

import math
from pathlib import Path

from assignment.common import add_common_arguments, out_dir, report, write_metrics

HELP = "Technion HW2 Task 1: the initialisation study (NaN layer, std of a.x, scaled, tanh, Xavier, Kaiming)"


def add_arguments(p):
    p.add_argument("--depth", type=int, default=100, help="layers (default 100)")
    p.add_argument("--width", type=int, default=512, help="units per layer and input size (default 512)")
    p.add_argument("--trials", type=int, default=10_000, help="draws of a and x for the std estimate (default 10,000)")
    add_common_arguments(p, out="outputs/init_study", seed=0,
                         seed_help="seeds the input and every weight matrix")


def run(args):
    import tensorflow as tf

    from coursekit.exercises.init_study import VARIANTS, first_nonfinite_layer, plot_layer_stds, propagate, std_of_ax

    out = out_dir(args.out)
    x = tf.random.stateless_normal((args.width,), tf.constant([args.seed, 1]))
    metrics, rows, curves = {"depth": args.depth, "width": args.width}, [], {}
    for name, (init, activation, description) in VARIANTS.items():
        final, stds, means, finite = propagate(x, init, activation, args.depth, args.width, args.seed)
        mean, std = float(tf.reduce_mean(final)), float(tf.math.reduce_std(final))
        curves[description] = stds
        metrics[name] = {"mean": mean, "std": std}
        rows.append({"variant": description, "mean": f"{mean:.4g}", "std": f"{std:.4g}"})
        if name == "normal":
            metrics["nan_layer"] = first_nonfinite_layer(finite)
            print(f"(1) N(0, 1) weights in float32: the output first holds NaN or inf at layer "
                  f"{metrics['nan_layer']}; after {args.depth} layers mean={mean}, std={std}")
    mean, std = std_of_ax(args.width, args.trials, seed=args.seed)
    metrics["std_ax"], metrics["mean_ax"], metrics["sqrt_fan_in"] = std, mean, math.sqrt(args.width)
    print(f"(2) y = a x over {args.trials} draws: mean {mean:.4f}, std {std:.4f}, sqrt({args.width}) = "
          f"{math.sqrt(args.width):.4f}")
    report(f"mean and std of the output after {args.depth} layers", rows, out, "variants")
    plot_layer_stds(curves, save_path=out / "layer_std.png")
    print(f"per-layer std of every variant: {out / 'layer_std.png'}")
    write_metrics(out, metrics)
    return 0
