"""One process of the distributed grid-search test: ``python tests/tuning_run.py DIRECTORY``.

Its role comes from ``KERASTUNER_TUNER_ID`` / ``KERASTUNER_ORACLE_IP`` / ``KERASTUNER_ORACLE_PORT``;
the chief prints ``ROWS=<json>``, each worker prints a ``[trial ID]`` line per trial it trained.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import coursekit  # noqa: E402,F401
from coursekit.training.dnn import DenseClassifier  # noqa: E402
from coursekit.training.tuning import grid_search  # noqa: E402
from tests.conftest import ArrayDataManager, make_blobs_images  # noqa: E402

GRID = {"n1": [8, 16], "n2": [8], "activation": ["relu", "tanh", "sigmoid"]}

X, y = make_blobs_images(n_per_class=30, size=8)
X = X.reshape(len(X), -1)
data = ArrayDataManager(X[:60], y[:60], X[60:75], y[60:75], X[75:], y[75:], ["a", "b", "c"])
rows, best = grid_search(lambda **p: DenseClassifier(num_classes=3, input_dim=X.shape[1], verbose=False, **p), data,
                         grid=GRID, batch_size=16, num_epochs=2, directory=sys.argv[1], print_table=False)
if rows:
    print("ROWS=" + json.dumps(rows), flush=True)
