"""``backup_dir``: a run SIGKILLed mid-epoch and started again ends as if never interrupted."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coursekit.training.resume import completed_epochs

SCRIPT = Path(__file__).resolve().parents[1] / "resume_run.py"


def _run(backup, kill_at, out):
    return subprocess.run([sys.executable, str(SCRIPT), str(backup), str(kill_at), str(out)],
                          capture_output=True, text=True, timeout=600)


def _load(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


@pytest.mark.slow
def test_killed_twice_and_resumed_ends_like_an_uninterrupted_run(tmp_path):
    plain = _run("-", 0, tmp_path / "plain.npz")
    assert plain.returncode == 0, plain.stderr[-3000:]
    backup = tmp_path / "backup"
    first = _run(backup, 5, tmp_path / "never.npz")  # epoch 2 (of 3 batches each), batch 2
    assert first.returncode == -9 and completed_epochs(backup) == 1
    second = _run(backup, 4, tmp_path / "never.npz")  # resumed at epoch 2; dies in epoch 3
    assert second.returncode == -9 and completed_epochs(backup) == 2
    last = _run(backup, 0, tmp_path / "resumed.npz")
    assert last.returncode == 0, last.stderr[-3000:]
    assert not backup.exists()  # removed once the run completed
    want, got = _load(tmp_path / "plain.npz"), _load(tmp_path / "resumed.npz")
    assert sorted(want) == sorted(got)
    assert len(want["epochs"]) >= 4  # several epochs ran after the restarts
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.slow
def test_a_backup_of_another_configuration_is_refused(tmp_path):
    from coursekit.nets.architectures import residual_cnn
    from coursekit.training.config import TrainConfig
    from coursekit.training.fit import fit_classifier
    from coursekit.training.trainer import AdversarialTraining
    from tests.conftest import make_blobs_images

    backup = tmp_path / "backup"
    assert _run(backup, 4, tmp_path / "never.npz").returncode == -9
    X, y = make_blobs_images(n_per_class=20, size=16, seed=5)
    net = residual_cnn(16, 16, 3, num_blocks=2, feature_maps=8, num_classes=3, drop_rate=0.2, batch_norm=True)
    with pytest.raises(ValueError, match=r"different training run \(.*learning_rate: backup 0.01, now 0.001"):
        fit_classifier(net, (X[:48], y[:48]), (X[48:], y[48:]), TrainConfig(num_classes=3, batch_size=16, epochs=6,
                                                                            augment=True, mixup_alpha=0.2, patience=2,
                                                                            learning_rate=0.001, seed=3,
                                                                            verbose=False,
                                                                            adversarial=AdversarialTraining(0.03, 2,
                                                                                                            0.01)),
                       backup_dir=backup)
    assert completed_epochs(backup) == 1  # the backup is left as it was


def test_a_folder_with_other_files_is_not_taken_as_a_backup(tmp_path):
    from coursekit.training.resume import check_backup

    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty and holds no training backup"):
        check_backup(tmp_path, {"a": 1})


def test_early_stopping_patience_carries_over_a_restart(tmp_path):
    """Weights frozen (lr 1e-30), so validation accuracy never improves after epoch 1 and patience 3 ends the
    run after epoch 4. Interrupted after epoch 2, the resumed run must still stop after epoch 4: a
    stopper that forgot its wait count would run on to epoch 6."""
    import keras

    from coursekit.training.config import TrainConfig
    from coursekit.training.fit import fit_classifier
    from tests.conftest import make_blobs_images

    class Disconnect(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("runtime disconnected")

    X, y = make_blobs_images(n_per_class=10, size=4)
    X = X.reshape(len(X), -1)

    def run(backup_dir, callbacks=()):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((X.shape[1],), name="features")  # fixed names: the same network on every build
        net = keras.Model(inputs, keras.layers.Dense(3, name="scores")(inputs), name="linear")
        return fit_classifier(net, (X[:20], y[:20]), (X[20:], y[20:]), TrainConfig(num_classes=3, batch_size=10,
                                                                                   epochs=8, optimizer="sgd",
                                                                                   learning_rate=1e-30, patience=3,
                                                                                   verbose=False),
                              callbacks=list(callbacks), backup_dir=backup_dir)

    plain = run(None)
    assert len(plain.epoch) == 4 and plain.stopped_epoch == 4
    with pytest.raises(RuntimeError, match="disconnected"):
        run(tmp_path / "backup", [Disconnect()])
    assert completed_epochs(tmp_path / "backup") == 2
    resumed = run(tmp_path / "backup")
    assert resumed.epoch == plain.epoch and resumed.history == plain.history


def test_keras_objects_in_the_settings_are_fingerprinted_by_their_config():
    """An optimizer with a schedule, or a loss, passed again in a restarted run is the same setting (not its
    memory address), and a changed one is not."""
    import keras

    from coursekit.training.resume import _plain

    def settings(smoothing=0.1, steps=100):
        return {"optimizer": keras.optimizers.AdamW(keras.optimizers.schedules.CosineDecay(1e-3, steps)),
                "loss": keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing)}

    assert _plain(settings()) == _plain(settings())
    assert _plain(settings())["loss"] != _plain(settings(smoothing=0.2))["loss"]
    assert _plain(settings())["optimizer"] != _plain(settings(steps=200))["optimizer"]
