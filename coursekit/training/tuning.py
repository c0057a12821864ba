"""Grid search over model parameters on KerasTuner, ranked by validation accuracy.

``grid_search`` runs a ``keras_tuner.Tuner`` over every grid combination (a small ``kt.Oracle``
that enumerates the grid: KerasTuner's own ``GridSearch`` cannot resume) whose trials train the project's own model
wrappers (``YourModel``, ``DenseClassifier``, ``BinaryMLP``: anything with ``fit(data, batch_size,
num_epochs)``, ``compute_accuracy`` and a Keras ``model``), so every trial uses the same training
path as a single run. KerasTuner brings two things a hand-written loop lacks:

* ``directory=DIR``: the search keeps its state there; a killed search started again with the
  same arguments skips the trials already finished.
* Several processes or machines: set ``KERASTUNER_TUNER_ID`` (``chief`` on one, ``tuner0``,
  ``tuner1``, ... on the others), ``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` (the
  chief's address) and a ``directory`` they all see; the chief hands out trials and prints the
  table, the workers train.
"""
from __future__ import annotations

import itertools
import json
import shutil
import tempfile
import time
from pathlib import Path

import keras

from coursekit.progress import interactive
from coursekit.report.tables import format_table

DEFAULT_ANIMALS_GRID = {"num_blocks": [2, 3, 4], "use_skip": [True, False], "learning_rate": [1e-3, 1e-4]}


def _keras_tuner():
    import keras_tuner

    return keras_tuner


def _encode_grid(grid):
    """KerasTuner's ``Choice`` holds only ints, floats, strings and bools: other values (e.g. layer-size
    tuples) are represented by their ``repr``. Returns the encoded grid and ``decode(values)``."""
    encoded, tables = {}, {}
    for key, values in grid.items():
        values = list(values)
        if all(isinstance(v, (bool, int, float, str)) for v in values):
            encoded[key] = values
        else:
            tables[key] = {repr(v): v for v in values}
            encoded[key] = list(tables[key])

    def decode(values):
        return {k: tables[k][v] if k in tables else v for k, v in values.items()}

    return encoded, decode


def build_wrapper(make_model, values):
    """``make_model(**values)`` with its network built."""
    wrapper = make_model(**values)
    if hasattr(wrapper, "build_cnn") and hasattr(wrapper, "_has_network") and not wrapper._has_network():
        wrapper.build_cnn()
    return wrapper


def _grid_tuner_class():
    kt = _keras_tuner()

    class WrapperHyperModel(kt.HyperModel):
        """One ``Choice`` per grid key; ``build`` returns the wrapper's Keras network, as KerasTuner needs."""

        def __init__(self, make_model, grid, decode):
            super().__init__()
            self.make_model, self.grid, self.decode = make_model, grid, decode

        def declare_hyperparameters(self, hp):
            for key, values in self.grid.items():
                hp.Choice(key, list(values))

        def build(self, hp):
            return build_wrapper(self.make_model, self.decode(hp.values)).model

    class GridOracle(kt.Oracle):
        """Every combination of the grid once, in order. (KerasTuner's own ``GridSearchOracle`` keeps its
        order in memory only, and fails with a ``KeyError`` when a stopped search is reloaded.)"""

        def __init__(self, grid, **kwargs):
            self.combinations = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
            super().__init__(objective=kt.Objective("val_accuracy", "max"), max_trials=len(self.combinations),
                             **kwargs)

        def populate_space(self, trial_id):
            taken = [t.hyperparameters.values for t in self.trials.values()
                     if t.status not in ("IDLE", "STOPPED")]
            for values in self.combinations:
                if values not in taken:
                    return {"status": "RUNNING", "values": values}
            return {"status": "IDLE" if self.ongoing_trials else "STOPPED", "values": None}

    class WrapperGridSearch(kt.Tuner):
        """A grid search whose trial is one ``fit`` of a project model wrapper."""

        def __init__(self, make_model, grid, **kwargs):
            grid, self.decode = _encode_grid(grid)
            super().__init__(hypermodel=WrapperHyperModel(make_model, grid, self.decode), oracle=GridOracle(grid),
                             **kwargs)
            self.make_model = make_model
            self.trained = {}  # trial_id -> wrapper, for trials run in this process

        def run_trial(self, trial, data_manager, batch_size, num_epochs, verbose=None):
            start = time.perf_counter()
            params = self.decode(trial.hyperparameters.values)
            wrapper = build_wrapper(self.make_model, params)
            wrapper.fit(data_manager, batch_size=batch_size, num_epochs=num_epochs)
            val = float(wrapper.compute_accuracy(data_manager.X_valid, data_manager.y_valid))
            history = wrapper.history
            folder = Path(self.get_trial_dir(trial.trial_id))
            folder.mkdir(parents=True, exist_ok=True)
            wrapper.model.save_weights(str(folder / "network.weights.h5"))
            (folder / "history.json").write_text(json.dumps(
                {"epoch": list(history.epoch), "history": {k: [float(v) for v in vs]
                                                           for k, vs in history.history.items()}}))
            self.trained[trial.trial_id] = wrapper
            seconds = time.perf_counter() - start
            if not interactive():
                print(f"[trial {trial.trial_id}] {params} -> val_accuracy {val:.4f}",
                      flush=True)
            return {"val_accuracy": val, "epochs": len(history.history["loss"]), "seconds": seconds}

        def restore_wrapper(self, trial):
            """The wrapper of a finished trial: kept from this process, or rebuilt from its saved weights."""
            if trial.trial_id in self.trained:
                return self.trained[trial.trial_id]
            folder = Path(self.get_trial_dir(trial.trial_id))
            wrapper = build_wrapper(self.make_model, self.decode(trial.hyperparameters.values))
            wrapper.model.load_weights(str(folder / "network.weights.h5"))
            saved = json.loads((folder / "history.json").read_text())
            history = keras.callbacks.History()
            history.epoch, history.history = saved["epoch"], saved["history"]
            wrapper.history = history
            return wrapper

    return WrapperGridSearch


def grid_search(make_model, data_manager, grid=None, batch_size=32, num_epochs=20, evaluate_best=True,
                print_table=True, directory=None, project_name="grid_search"):
    """Train ``make_model(**combination)`` for every combination of ``grid`` and rank them.

    ``make_model`` returns an unfitted model with ``fit(data_manager, batch_size, num_epochs)``
    and ``compute_accuracy``; it should be quiet (``verbose=False``). Returns
    ``(rows sorted by validation accuracy, best model)``; with ``evaluate_best`` the best
    model's test accuracy is in ``rows[0]['test_accuracy']``.

    With ``directory`` the search's state is kept in ``directory/project_name`` and a search
    started again there skips finished trials (the grid must be the same); without it a
    temporary folder is used and removed. In a distributed search (see the module's
    docstring) a worker returns ``([], None)`` once the chief has no trials left.
    """
    from coursekit.keras_compat import keras_tuner_distribute_utils

    dist_utils = keras_tuner_distribute_utils()

    grid = dict(grid or DEFAULT_ANIMALS_GRID)
    keys = list(grid)
    scratch = None
    if directory is None:
        scratch = directory = tempfile.mkdtemp(prefix="grid_search_")
    try:
        tuner = _grid_tuner_class()(make_model, grid, directory=str(directory), project_name=project_name,
                                    overwrite=False)
        tuner.search(data_manager, batch_size=batch_size, num_epochs=num_epochs, verbose=1 if interactive() else 0)
        if dist_utils.has_chief_oracle() and not dist_utils.is_chief_oracle():
            return [], None
        trials = sorted((t for t in tuner.oracle.trials.values() if t.status == "COMPLETED"),
                        key=lambda t: -round(float(t.metrics.get_last_value("val_accuracy")), 4))
        rows = [{**tuner.decode(t.hyperparameters.values),
                 "val_accuracy": round(float(t.metrics.get_last_value("val_accuracy")), 4),
                 "epochs": int(t.metrics.get_last_value("epochs")),
                 "seconds": round(float(t.metrics.get_last_value("seconds")), 1)} for t in trials]
        best = tuner.restore_wrapper(trials[0]) if trials else None
        if evaluate_best and best is not None:
            rows[0]["test_accuracy"] = round(best.compute_accuracy(data_manager.X_test, data_manager.y_test), 4)
        if print_table:
            print(format_table(rows, keys + ["val_accuracy", "epochs", "seconds", "test_accuracy"]))
        return rows, best
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
