"""A small training run for the kill-and-resume test: ``python tests/resume_run.py BACKUP_DIR|- KILL_AT OUT``.

With ``KILL_AT > 0`` the process SIGKILLs itself after that many training batches (no clean-up,
as a Colab disconnect); otherwise it writes the final weights and history to ``OUT`` (.npz).
"""
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import coursekit  # noqa: E402,F401
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from coursekit.nets.architectures import residual_cnn  # noqa: E402
from coursekit.training.config import TrainConfig  # noqa: E402
from coursekit.training.fit import fit_classifier  # noqa: E402
from coursekit.training.trainer import AdversarialTraining  # noqa: E402
from tests.conftest import make_blobs_images  # noqa: E402


class KillAfter(keras.callbacks.Callback):
    def __init__(self, batches):
        super().__init__()
        self.left = batches

    def on_train_batch_end(self, batch, logs=None):
        self.left -= 1
        if self.left == 0:
            os.kill(os.getpid(), signal.SIGKILL)


def main(backup_dir, kill_at, out):
    tf.config.experimental.enable_op_determinism()
    X, y = make_blobs_images(n_per_class=20, size=16, seed=5)
    keras.utils.set_random_seed(0)
    off = os.environ.get("RESUME_RUN_OFF", "").split(",")  # for diagnosis: parts to leave out
    net = residual_cnn(16, 16, 3, num_blocks=2, feature_maps=8, num_classes=3,
                       drop_rate=0.0 if "dropout" in off else 0.2, batch_norm=True)
    history = fit_classifier(net, (X[:48], y[:48]), (X[48:], y[48:]), TrainConfig(num_classes=3, batch_size=16,
                                                                                  epochs=6,
                                                                                  augment="augment" not in off,
                                                                                  mixup_alpha=0.0 if "mixup" in off else 0.2, adversarial=None if "pgd" in off else AdversarialTraining(0.03, 2, 0.01), patience=2, learning_rate=0.01, seed=3, verbose=False), callbacks=[KillAfter(kill_at)] if kill_at > 0 else [], backup_dir=None if backup_dir == "-" else backup_dir)
    np.savez(out, *net.get_weights(), epochs=np.array(history.epoch),
             **{f"h_{k}": np.array(v) for k, v in history.history.items()},
             stopped=np.array(history.stopped_epoch or 0))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
