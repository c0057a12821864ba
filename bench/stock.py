"""The template's training as a student runs it without this project: TensorFlow's own CPU kernels.

``import coursekit`` asks TensorFlow for its oneDNN kernels, which TensorFlow by itself leaves off on
AVX2 CPUs (``coursekit.cpu_kernels``), and the setting holds for the whole process. So ``python -m
bench`` measures the template-style reference twice: in its own process, with the same kernels as the
project (the training loop against the training loop), and here, in a child process that never imports
``coursekit`` and starts without ``TF_ENABLE_ONEDNN_OPTS`` (what a student of the template gets).

``python -m bench.stock default|yourmodel N_TRAIN EPOCHS BATCH`` prints one JSON line with the images/s;
``python -m bench.stock matmul`` prints the float32 matmul GFLOP/s under the same settings.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SWITCH = "TF_ENABLE_ONEDNN_OPTS"


def _run_child(*args):
    env = {key: value for key, value in os.environ.items() if key != SWITCH}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    done = subprocess.run([sys.executable, "-m", "bench.stock", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"python -m bench.stock {' '.join(map(str, args))} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def stock_reference_rate(model, n_train, epochs, batch):
    """Images/s of the template-style ``fit`` of ``model`` ('default' or 'yourmodel') on stock TensorFlow."""
    return _run_child(model, n_train, epochs, batch)["images_per_s"]


def stock_matmul_gflops(quick=False):
    return _run_child("matmul", int(quick))["gflops"]


def main(argv):
    if SWITCH in os.environ or "coursekit" in sys.modules:
        raise SystemExit(f"bench.stock must start without {SWITCH} and without coursekit loaded")
    import tensorflow as tf  # noqa: F401  (loaded here, with TensorFlow's default settings)

    from bench import reference
    from bench.timing import matmul_gflops, random_images, train_rate_reference

    if argv[0] == "matmul":
        print(json.dumps({"gflops": matmul_gflops(2048, 10 if int(argv[1]) else 20)}))
        return 0
    builds = {"default": reference.default_cnn, "yourmodel": lambda: reference.residual_cnn(num_blocks=3)}
    model, n_train, epochs, batch = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    x, y = random_images(n_train)
    rate = train_rate_reference(builds[model], x, y, batch, epochs)
    print(json.dumps({"images_per_s": rate}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
