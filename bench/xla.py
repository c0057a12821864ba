"""``python -m bench.xla [--quick]``: training throughput with XLA on and off, side by side in one run.

On a GPU Keras' ``jit_compile='auto'`` turns XLA on; on a CPU it stays off. These rows measure the choice
for the default CNN and YourModel (3 residual blocks with batch norm) on this machine: ``ratio`` is
XLA-on images/s over XLA-off images/s (the ``reference`` column is XLA off). ``python -m bench`` includes
them; this module runs only them.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import coursekit  # noqa: F401  (oneDNN kernels before keras loads)
import keras  # noqa: E402

from bench.timing import random_images  # noqa: E402


def xla_rows(x, y, batch, epochs, repeats):
    """``{"xla_default": row, "xla_yourmodel": row}``: XLA off as the reference, on as the project."""
    from bench.__main__ import best_of, entry, train_rate_project
    from coursekit.nets.architectures import default_cnn, residual_cnn

    builds = {"xla_default": lambda: default_cnn(num_classes=10),
              "xla_yourmodel": lambda: residual_cnn(num_blocks=3, num_classes=10, batch_norm=True)}
    return {key: entry(*best_of(repeats, lambda: (
        train_rate_project(build, x, y, batch, epochs, jit_compile=False)[0],
        train_rate_project(build, x, y, batch, epochs, jit_compile=True)[0]))) for key, build in builds.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.xla", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "xla.json")
    args = parser.parse_args(argv)
    n, epochs = (256, 2) if args.quick else (4096, 3)
    x, y = random_images(n)
    keras.utils.set_random_seed(0)
    rows = xla_rows(x, y, 64, epochs, args.repeats)
    for key, row in rows.items():
        print(f"{key}: XLA off {row['reference']} img/s, on {row['project']} img/s, on/off {row['ratio']}")
    args.out.write_text(json.dumps({"n_train": n, "epochs": epochs, **rows}, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main()
