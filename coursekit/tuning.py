"""Grid search over model parameters, ranked by validation accuracy."""
from __future__ import annotations

import itertools
import time

from coursekit.progress import interactive, progress
from coursekit.tables import format_table

DEFAULT_ANIMALS_GRID = {"num_blocks": [2, 3, 4], "use_skip": [True, False], "learning_rate": [1e-3, 1e-4]}


def grid_search(make_model, data_manager, grid=None, batch_size=32, num_epochs=20, evaluate_best=True,
                print_table=True):
    """Train ``make_model(**combination)`` for every combination of ``grid`` and rank them.

    ``make_model`` returns an unfitted model with ``fit(data_manager, batch_size, num_epochs)``
    and ``compute_accuracy``; it should be quiet (``verbose=False``). Returns
    ``(rows sorted by validation accuracy, best model)``; with ``evaluate_best`` the best
    model's test accuracy is in ``rows[0]['test_accuracy']``.
    """
    grid = dict(grid or DEFAULT_ANIMALS_GRID)
    keys = list(grid)
    combos = [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]
    rows, models = [], []
    bar = progress(combos, desc="grid search", unit="model")
    for i, params in enumerate(bar):
        start = time.perf_counter()
        model = make_model(**params)
        model.fit(data_manager, batch_size=batch_size, num_epochs=num_epochs)
        val = model.compute_accuracy(data_manager.X_valid, data_manager.y_valid)
        row = {**params, "val_accuracy": round(val, 4), "epochs": len(model.history.history["loss"]),
               "seconds": round(time.perf_counter() - start, 1)}
        rows.append(row)
        models.append(model)
        if not interactive():
            print(f"[{i + 1}/{len(combos)}] {params} -> val_accuracy {val:.4f}", flush=True)
    order = sorted(range(len(rows)), key=lambda k: -rows[k]["val_accuracy"])
    rows = [rows[k] for k in order]
    best = models[order[0]]
    if evaluate_best:
        rows[0]["test_accuracy"] = round(best.compute_accuracy(data_manager.X_test, data_manager.y_test), 4)
    if print_table:
        print(format_table(rows, keys + ["val_accuracy", "epochs", "seconds", "test_accuracy"]))
    return rows, best
