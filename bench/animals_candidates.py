"""YourModel recipe candidates on an Animals folder: ``python -m bench.animals_candidates DIR NAME[@SEED] ...``.

Each candidate is ``YourModel``'s defaults of before 2026-12-06 (the template's augmentation set, no mixup) with the
changes in ``CANDIDATES``; ``@SEED`` sets the model's seed (the split stays the task's). The data is read as
``python -m assignment animals --data DIR`` reads it (500 images per class, split 80/10/10 by
``AnimalsDatasetManager``: 1,200 / 150 / 150 on the real set). Per
candidate it prints one JSON line: training seconds, validation and test accuracy, both with flip test-time
augmentation, the held-out accuracy (validation and test together), the last training accuracy and the validation
curve; ``--jsonl FILE`` appends the lines to FILE. ``bench/RESULTS.md`` ("YourModel's recipe on the real Animals")
has the table this made; ``python -m bench.shared_data animals DIR`` writes the real images.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

import coursekit  # noqa: F401  (oneDNN kernels before keras is imported)

OLD_DEFAULTS = dict(is_augmentation=True, mixup_alpha=0.0)
CANDIDATES = {
    "base": {},
    "crop": {"shift": 0.125},
    "crop_ema": {"shift": 0.125, "ema": 0.99},
    "crop_e100": {"shift": 0.125, "num_epochs": 100},
    "crop_mix": {"shift": 0.125, "mixup_alpha": 0.2},
    "crop_s19": {"shift": 0.1875},
    "crop_s19_mix": {"shift": 0.1875, "mixup_alpha": 0.2},  # the defaults since 2026-12-06
}


def _accuracy(probabilities, y):
    return float(np.mean(np.argmax(probabilities, 1) == np.asarray(y).ravel()))


def run(data_manager, spec):
    """Train one candidate and return its row."""
    import keras

    from coursekit.training import optimizers
    from coursekit.training.augmentation import Augmentation
    from models import YourModel

    name, _, seed = spec.partition("@")
    settings = {**OLD_DEFAULTS, **CANDIDATES[name]}
    shift, ema = settings.pop("shift", None), settings.pop("ema", None)
    if shift is not None:
        settings["is_augmentation"] = Augmentation.crops(shift)
    if seed:
        settings["seed"] = int(seed)
    callbacks, factory = (), optimizers._FACTORIES["adam"]
    if ema:  # Keras' own weight EMA, swapped in for each validation, the schedule kept
        optimizers._FACTORIES["adam"] = lambda lr, wd: keras.optimizers.Adam(learning_rate=lr, weight_decay=wd,
                                                                              use_ema=True, ema_momentum=ema)
        callbacks = (keras.callbacks.SwapEMAWeights(swap_on_epoch=True),)
    try:
        model = YourModel(name="candidate", num_classes=len(data_manager.classes), verbose=False, **settings)
        start = time.perf_counter()
        history = model.fit(data_manager, callbacks=callbacks)
        seconds = time.perf_counter() - start
    finally:
        optimizers._FACTORIES["adam"] = factory
    dm = data_manager
    row = {"name": spec, "seconds": round(seconds, 1)}
    for split, X, y in (("val", dm.X_valid, dm.y_valid), ("test", dm.X_test, dm.y_test)):
        row[split] = _accuracy(model.predict_proba(X), y)
        row[f"{split}_tta"] = _accuracy(model.predict_proba(X, flip_tta=True), y)
    n_val, n_test = len(dm.y_valid), len(dm.y_test)
    for suffix in ("", "_tta"):
        row[f"heldout{suffix}"] = (row[f"val{suffix}"] * n_val + row[f"test{suffix}"] * n_test) / (n_val + n_test)
    row["train_acc_last"] = float(history.history["accuracy"][-1])
    row["val_curve"] = [round(float(v), 3) for v in history.history["val_accuracy"]]
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="Animals folder (one sub-folder per class)")
    parser.add_argument("candidates", nargs="+", metavar="NAME[@SEED]", help=f"one of {', '.join(CANDIDATES)}")
    parser.add_argument("--max-images", type=int, default=500, help="images per class (default 500, the task's)")
    parser.add_argument("--epochs", type=int, default=None, help="override every candidate's epochs (a smoke run)")
    parser.add_argument("--jsonl", default=None, help="append each row to this file too")
    args = parser.parse_args(argv)
    unknown = [c for c in args.candidates if c.partition("@")[0] not in CANDIDATES]
    if unknown:
        parser.error(f"unknown candidates {unknown}: choose from {', '.join(CANDIDATES)}")
    if args.epochs:
        for settings in CANDIDATES.values():
            settings["num_epochs"] = args.epochs
    from assignment.animals import load_data

    data_manager = load_data(args.data, args.max_images, verbose=0)
    for spec in args.candidates:
        row = run(data_manager, spec)
        print(json.dumps(row), flush=True)
        if args.jsonl:
            with open(args.jsonl, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
