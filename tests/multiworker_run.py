"""One worker of the two-worker test: ``python tests/multiworker_run.py OUT`` with ``TF_CONFIG`` set,
or without it for the one-device run. Trains the default CNN for two epochs and saves the weights."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import coursekit  # noqa: E402,F401
from coursekit.training.distribute import get_strategy  # noqa: E402

# MultiWorkerMirroredStrategy must exist before any other TensorFlow op runs in the process.
strategy = get_strategy("multiworker") if "TF_CONFIG" in os.environ else None

import keras  # noqa: E402
import numpy as np  # noqa: E402

from coursekit.nets.architectures import default_cnn  # noqa: E402
from coursekit.training.config import TrainConfig  # noqa: E402
from coursekit.training.fit import fit_classifier  # noqa: E402

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (96, 16, 16, 3)).astype("float32")
y = rng.integers(0, 3, 96)
keras.utils.set_random_seed(1)
net = default_cnn(16, 16, 3, 3)
# Plain SGD: its step is proportional to the gradient, so a wrongly scaled (summed, not averaged) gradient
# shows, while kernel rounding stays at rounding size. (Adam's first steps are about lr * sign(gradient):
# with oneDNN's kernels, rounding flips the sign of near-zero gradients and moves weights by up to lr.)
history = fit_classifier(net, (x, y), (x[:32], y[:32]), TrainConfig(num_classes=3, batch_size=16, epochs=2,
                                                                    optimizer="sgd", learning_rate=0.05, seed=3,
                                                                    verbose=False), strategy=strategy)
replicas = strategy.num_replicas_in_sync if strategy is not None else 1
np.savez(sys.argv[1], *net.get_weights(), loss=np.array(history.history["loss"]), replicas=replicas)
