import pytest

from coursekit.training.tuning import DEFAULT_ANIMALS_GRID, grid_search
from models import YourModel


def test_default_grid_is_the_assignments():
    assert DEFAULT_ANIMALS_GRID == {"num_blocks": [2, 3, 4], "use_skip": [True, False],
                                    "learning_rate": [1e-3, 1e-4]}


def test_grid_search_trains_every_combination_and_ranks_by_validation_accuracy(blobs_manager, capsys):
    made = []

    def make(**params):
        return _counting_fits(YourModel(width=16, height=16, num_classes=3, feature_maps=4, batch_norm=True,
                                        verbose=False, **params), made, params)

    rows, best = grid_search(make, blobs_manager, grid={"num_blocks": [1, 2], "learning_rate": [1e-2, 1e-7]},
                             batch_size=32, num_epochs=2)
    assert len(made) == 4 and len(rows) == 4
    accs = [r["val_accuracy"] for r in rows]
    assert accs == sorted(accs, reverse=True)
    assert rows[0]["learning_rate"] == 1e-2  # a 1e-7 learning rate cannot win
    assert 0.0 <= rows[0]["test_accuracy"] <= 1.0 and "test_accuracy" not in rows[1]
    assert best.num_blocks == rows[0]["num_blocks"]
    assert "val_accuracy" in capsys.readouterr().out


def _counting_fits(model, fits, params, stop_at=None):
    """``model`` whose ``fit`` appends ``params`` to ``fits`` (and raises KeyboardInterrupt at fit ``stop_at``)."""
    fit = model.fit

    def counted(*args, **kwargs):
        fits.append(params)
        if stop_at is not None and len(fits) == stop_at:
            raise KeyboardInterrupt  # the runtime disconnects during this trial
        return fit(*args, **kwargs)

    model.fit = counted
    return model


def _dense_data():
    from tests.conftest import ArrayDataManager, make_blobs_images

    X, y = make_blobs_images(n_per_class=30, size=8)
    X = X.reshape(len(X), -1)
    return ArrayDataManager(X[:60], y[:60], X[60:75], y[60:75], X[75:], y[75:], ["a", "b", "c"])


def test_a_search_stopped_midway_and_started_again_skips_finished_trials(tmp_path):
    from coursekit.training.dnn import DenseClassifier

    data = _dense_data()
    made = []

    def make(**params):
        return _counting_fits(DenseClassifier(num_classes=3, input_dim=192, verbose=False, **params), made, params,
                              stop_at=3 if stop else None)

    grid = {"n1": [8, 16], "activation": ["relu", "tanh"]}
    stop = True
    with pytest.raises(KeyboardInterrupt):
        grid_search(make, data, grid=grid, batch_size=16, num_epochs=2, directory=tmp_path)
    assert len(made) == 3
    stop = False
    rows, best = grid_search(make, data, grid=grid, batch_size=16, num_epochs=2, directory=tmp_path)
    assert len(rows) == 4 and sorted((r["n1"], r["activation"]) for r in rows) == [
        (8, "relu"), (8, "tanh"), (16, "relu"), (16, "tanh")]
    assert made[3:] == [made[2], {"n1": 16, "activation": "tanh"}]  # the unfinished trial again, then the last
    again, _ = grid_search(make, data, grid=grid, batch_size=16, num_epochs=2, directory=tmp_path)
    assert len(made) == 5 and [r["val_accuracy"] for r in again] == [r["val_accuracy"] for r in rows]


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_chief_and_two_workers_share_the_grid(tmp_path):
    """KerasTuner's distributed search on localhost: every trial runs once, on one worker, and the
    chief's table has every combination."""
    import json
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    script = str(Path(__file__).resolve().parents[1] / "tuning_run.py")
    port = str(_free_port())
    procs = {}
    for tuner_id in ("chief", "tuner0", "tuner1"):
        env = dict(os.environ, KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP="127.0.0.1",
                   KERASTUNER_ORACLE_PORT=port, TF_CPP_MIN_LOG_LEVEL="2")
        procs[tuner_id] = subprocess.Popen([sys.executable, script, str(tmp_path)], env=env, text=True,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    outs = {}
    for tuner_id, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{tuner_id}: {err[-3000:]}"
        outs[tuner_id] = out
    ran = {t: re.findall(r"\[trial (\d+)\]", outs[t]) for t in ("tuner0", "tuner1")}
    assert not re.findall(r"\[trial (\d+)\]", outs["chief"])  # the chief only hands out trials
    every = ran["tuner0"] + ran["tuner1"]
    assert len(every) == 6 and len(set(every)) == 6  # 2 x 1 x 3 combinations, each run once
    rows = json.loads(outs["chief"].split("ROWS=")[1].splitlines()[0])
    assert sorted((r["n1"], r["activation"]) for r in rows) == sorted(
        (n1, a) for n1 in (8, 16) for a in ("relu", "tanh", "sigmoid"))
    assert "test_accuracy" in rows[0] and [r["val_accuracy"] for r in rows] == sorted(
        [r["val_accuracy"] for r in rows], reverse=True)


def test_grid_values_keras_tuner_cannot_hold_are_passed_through(tmp_path):
    from coursekit.training.tabular import BinaryMLP

    data = _dense_data()
    seen = []

    def make(hidden, dropout):
        seen.append(hidden)
        return BinaryMLP(input_dim=192, hidden=hidden, dropout=dropout, num_epochs=1, patience=None)

    data.y_train, data.y_valid, data.y_test = (data.y_train > 0) * 1, (data.y_valid > 0) * 1, (data.y_test > 0) * 1
    rows, best = grid_search(make, data, grid={"hidden": [(8,), (8, 4)], "dropout": [0.1]}, batch_size=16,
                             num_epochs=1)
    assert sorted(r["hidden"] for r in rows) == [(8,), (8, 4)] and best.hidden in [(8,), (8, 4)]
    assert set(seen) == {(8,), (8, 4)}
