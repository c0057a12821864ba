"""Resumable training: ``fit_classifier(..., backup_dir=DIR)`` survives a killed process (a Colab disconnect).

``TrainingBackup`` is Keras' ``BackupAndRestore`` with three additions a restart needs to end
exactly where an uninterrupted run would:

* Each epoch's state is written into a fresh folder that is renamed into place, so a kill
  mid-write leaves the previous epoch's complete state (Keras' own callback can pair new
  weights with the old epoch number).
* The history so far and the early-stopping state (wait count, best value, best weights) are
  saved with the weights and restored, so the returned ``History`` covers every epoch and the
  patience count carries on.
* A ``config.json`` fingerprint of the run (network, data, every training setting) is written
  once; a restart with anything different is refused instead of silently resuming.

The weights file includes the optimizer's state (its step counter seeds the mixup and PGD
draws); the random layers' seed states (dropout, augmentation), which ``save_weights`` leaves
out, are saved beside it; the training data stream restarts at the restored epoch's shuffle.
The folder is removed when the run completes.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import keras
import numpy as np

from coursekit.atomic_files import write_text_atomic
from coursekit.keras_compat import BackupAndRestoreAt, seed_generator_states

STATE_PREFIX = "epoch-"


def data_digest(x, y):
    """A short hash of the arrays' shapes, dtypes and bytes."""
    digest = hashlib.sha256()
    for array in (np.ascontiguousarray(x), np.ascontiguousarray(y)):
        digest.update(str((array.shape, array.dtype.str)).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def fingerprint(net, x, y, settings):
    """A JSON-able summary that changes when the network, the data or any setting changes."""
    config = json.dumps(keras.saving.serialize_keras_object(net), sort_keys=True, default=str)
    return {"network": hashlib.sha256(config.encode()).hexdigest()[:16], "data": data_digest(x, y),
            **{k: _plain(v) for k, v in settings.items()}}


def _plain(value):
    # Keras objects (an optimizer with its schedule, a loss) by their config: their repr holds a memory address,
    # which would refuse every resume of a run given one.
    # Their auto-numbered names ("adam_w_1") are left out too.
    def default(v):
        if not hasattr(v, "get_config"):
            return repr(v)
        config = keras.saving.serialize_keras_object(v)
        config.get("config", {}).pop("name", None)
        return config
    return json.loads(json.dumps(value, default=default))


def _state_dirs(backup_dir):
    found = []
    for path in Path(backup_dir).glob(STATE_PREFIX + "*"):
        suffix = path.name[len(STATE_PREFIX):]
        if path.is_dir() and suffix.isdigit() and (path / "state.json").is_file():
            found.append((int(suffix), path))
    return sorted(found)


def completed_epochs(backup_dir):
    """Epochs finished according to the newest complete state in ``backup_dir`` (0 when none)."""
    states = _state_dirs(backup_dir) if backup_dir and Path(backup_dir).is_dir() else []
    return states[-1][0] if states else 0


def check_backup(backup_dir, config):
    """Refuse a backup written by another configuration; write ``config.json`` for a new one."""
    backup_dir = Path(backup_dir)
    path = backup_dir / "config.json"
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved != config:
            differ = sorted(k for k in set(saved) | set(config) if saved.get(k) != config.get(k))
            detail = ", ".join(f"{k}: backup {saved.get(k)!r}, now {config.get(k)!r}" for k in differ)
            hint = (" A network built again in the same Python session gets new automatic layer names "
                    "(dense_1 -> dense_2) and counts as another network: restart the runtime first, or "
                    "name the layers." if "network" in differ else "")
            raise ValueError(f"{backup_dir} holds the backup of a different training run ({detail}). Resume with "
                             "the same network, data and settings, or delete that folder (or choose another "
                             f"backup_dir) to start afresh.{hint}")
        return
    if backup_dir.exists() and any(backup_dir.iterdir()):
        raise ValueError(f"{backup_dir} is not empty and holds no training backup: give backup_dir a folder of its "
                         "own (it is deleted when training completes)")
    backup_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(config, indent=1, sort_keys=True))


class TrainingBackup(BackupAndRestoreAt):
    """``BackupAndRestore`` writing whole-epoch states atomically, with history and early stopping.

    Put it after the ``EarlyStopping`` callback (``stopper``) so its restore runs after the
    stopper resets itself. ``merge_history(history)`` prepends the epochs run before a restart.
    The folder holds nothing else: ``config.json`` and one ``epoch-NNNNN/`` state.
    """

    def __init__(self, backup_dir, stopper=None):
        super().__init__(backup_dir, save_freq="epoch", delete_checkpoint=True)
        self.stopper = stopper
        self.record = {"epoch": [], "history": {}}  # every finished epoch, those before a restart too

    def on_train_begin(self, logs=None):
        states = _state_dirs(self.backup_dir)
        if not states:
            return
        epoch, folder = states[-1]
        self.restore_from(folder / "latest.weights.h5", folder / "training_metadata.json")
        with np.load(folder / "seeds.npz") as f:
            for i, variable in enumerate(seed_generator_states(self.model)):
                variable.assign(f[f"s{i}"])
        state = json.loads((folder / "state.json").read_text())
        self.record = {"epoch": state["epoch_list"], "history": state["history"]}
        self.current_epoch = epoch
        if self.stopper is not None and state.get("stopper"):
            s = state["stopper"]
            self.stopper.wait, self.stopper.best_epoch = s["wait"], s["best_epoch"]
            self.stopper.best = s["best"]
            if s["has_best_weights"]:
                with np.load(folder / "best_weights.npz") as f:
                    self.stopper.best_weights = [f[f"w{i}"] for i in range(len(f.files))]

    def on_epoch_end(self, epoch, logs=None):
        self.current_epoch = epoch + 1
        self.record["epoch"].append(epoch)
        for key, value in (logs or {}).items():
            self.record["history"].setdefault(key, []).append(float(value))
        backup = Path(self.backup_dir)
        tmp = Path(tempfile.mkdtemp(dir=backup, prefix=".incomplete-"))
        self.model.save_weights(str(tmp / "latest.weights.h5"), overwrite=True)
        np.savez(tmp / "seeds.npz", **{f"s{i}": np.asarray(v) for i, v in enumerate(seed_generator_states(self.model))})
        (tmp / "training_metadata.json").write_text(json.dumps({"epoch": self.current_epoch, "batch": 0}))
        state = {"epoch_list": self.record["epoch"], "history": self.record["history"], "stopper": None}
        stopper = self.stopper
        if stopper is not None:
            best = None if stopper.best is None else float(stopper.best)
            state["stopper"] = {"wait": stopper.wait, "best": best,
                                "best_epoch": stopper.best_epoch, "has_best_weights": stopper.best_weights is not None}
            if stopper.best_weights is not None:
                np.savez(tmp / "best_weights.npz", **{f"w{i}": w for i, w in enumerate(stopper.best_weights)})
        (tmp / "state.json").write_text(json.dumps(state))  # written last: marks the state complete
        final = backup / f"{STATE_PREFIX}{self.current_epoch:05d}"
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        for number, older in _state_dirs(backup):
            if number < self.current_epoch:
                shutil.rmtree(older, ignore_errors=True)

    def on_train_end(self, logs=None):
        shutil.rmtree(self.backup_dir, ignore_errors=True)

    def merge_history(self, history):
        """Make ``history`` (this process's Keras ``History``) cover every epoch, those before a restart too."""
        ran = len(history.epoch)
        done = len(self.record["epoch"]) - ran
        if done > 0:
            history.epoch = self.record["epoch"][:done] + list(history.epoch)
            for key, values in self.record["history"].items():
                history.history[key] = values[:done] + list(history.history.get(key, []))
        return history


__all__ = ["TrainingBackup", "check_backup", "completed_epochs", "data_digest", "fingerprint"]
