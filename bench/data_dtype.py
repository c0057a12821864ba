"""``python -m bench.data_dtype``: what float64 images (the template's dtype) cost against float32, side by side.

The data manager hands out float64 as the template did, so that tutorial code mixing float64 noise into
``X_test`` runs (issue 23). This measures the price on the paths that read the arrays, alternating the
two dtypes within each round and keeping each one's best: the library's training epoch
(``fit_classifier``, which converts once per call), ``DefaultModel.predict_proba``, PGD-10, and a
student's own ``model.fit`` on the numpy arrays (Keras converts each batch). Prints a table and writes
``bench/data_dtype.json``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import coursekit  # noqa: F401  (oneDNN kernels before keras loads)
import keras  # noqa: E402

from bench.timing import EpochTimer, random_images, steady_epoch  # noqa: E402


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(n=2000, epochs=2, repeats=2):
    from coursekit.attacks import pgd
    from coursekit.nets.architectures import default_cnn
    from coursekit.training.config import TrainConfig
    from coursekit.training.fit import fit_classifier
    from models import DefaultModel

    x32, y = random_images(n)
    data = {"float32": x32, "float64": x32.astype(np.float64)}
    rows = {name: {"MB": round(x.nbytes / 2 ** 20, 1)} for name, x in data.items()}
    keras.utils.set_random_seed(0)
    net = DefaultModel(num_classes=10, verbose=False)
    net.build_cnn()
    student = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(32, 3, activation="relu"),
                                keras.layers.AveragePooling2D(2), keras.layers.Flatten(),
                                keras.layers.Dense(10, activation="softmax")])
    student.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    for _ in range(repeats):
        for name, x in data.items():
            timer = EpochTimer()
            fit_classifier(default_cnn(num_classes=10), (x, y), None, TrainConfig(num_classes=10, batch_size=64,
                                                                                  epochs=epochs, verbose=False),
                           callbacks=[timer])
            best = lambda key, value: min(rows[name].get(key, float("inf")), value)  # noqa: E731
            rows[name]["fit_epoch_s"] = best("fit_epoch_s", steady_epoch(timer.times))
            net.predict_proba(x[:64])  # warm
            rows[name]["predict_s"] = best("predict_s", _timed(lambda: net.predict_proba(x)))
            pgd(net.model, x[:64], y[:64], steps=10)  # compile
            rows[name]["pgd10_s"] = best("pgd10_s", _timed(lambda: pgd(net.model, x[:500], y[:500], steps=10)))
            timer = EpochTimer()
            student.fit(x, y, batch_size=64, epochs=epochs, verbose=0, callbacks=[timer])
            rows[name]["student_fit_epoch_s"] = best("student_fit_epoch_s", steady_epoch(timer.times))
    ratios = {key: round(rows["float64"][key] / rows["float32"][key], 3) for key in rows["float32"]}
    return {"n_images": n, "float32": rows["float32"], "float64": rows["float64"], "float64_over_float32": ratios}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="images (32x32x3; the Animals set has about 3,000)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).with_name("data_dtype.json")))
    args = parser.parse_args(argv)
    result = measure(args.n, repeats=args.repeats)
    print(f"{'':22}{'float32':>10}{'float64':>10}{'ratio':>8}")
    for key, ratio in result["float64_over_float32"].items():
        print(f"{key:22}{result['float32'][key]:>10.3g}{result['float64'][key]:>10.3g}{ratio:>8.3f}")
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
