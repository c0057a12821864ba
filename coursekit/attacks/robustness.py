"""Robust accuracy under attack, a report table, and a checkpoint that keeps the most robust model."""
from __future__ import annotations

import keras

from coursekit.attacks import ATTACKS
from coursekit.nets.classifier import accuracy  # noqa: F401  (one definition; imported from here too)
from coursekit.nets.saving import save_h5
from coursekit.report.tables import format_table


def robust_accuracy(model, X, y, attack, batch_size=256, **params) -> float:
    """Accuracy on adversarial versions of ``X`` made by ``attack`` ('fgsm', 'pgd', 'mim' or a function).

    ``params`` go to the attack (``eps``, ``steps``, ``step_size``, ``value_range``, ...).
    """
    fn = ATTACKS[attack] if isinstance(attack, str) else attack
    x_adv = fn(model, X, y, batch_size=batch_size, **params)
    return accuracy(model, x_adv, y, batch_size)


def robustness_report(model, X, y, eps=0.0313, steps=20, step_size=0.002, value_range=(-1.0, 1.0),
                      batch_size=256, seed=0, print_table=True) -> dict:
    """Clean, FGSM, PGD and MIM accuracy (the assignment's eps=0.0313, k=20, eta=0.002 by default)."""
    shared = dict(eps=eps, value_range=value_range, batch_size=batch_size)
    iterative = dict(shared, steps=steps, step_size=step_size)
    result = {
        "clean": accuracy(model, X, y, batch_size),
        "fgsm": robust_accuracy(model, X, y, "fgsm", **shared),
        "pgd": robust_accuracy(model, X, y, "pgd", seed=seed, **iterative),
        "mim": robust_accuracy(model, X, y, "mim", **iterative),
    }
    if print_table:
        print(format_table([{"attack": k, "accuracy": f"{v:.4f}"} for k, v in result.items()]))
    return result


class RobustCheckpoint(keras.callbacks.Callback):
    """After each epoch, measure PGD accuracy on validation data; save the best network as ``.h5``.

    Adds ``val_robust_accuracy`` to the epoch logs (so it is in the history) and, at the
    end of training, restores the most robust weights. Works on ``ClassifierTrainer``
    (saving its ``net``) and on plain models.
    """

    def __init__(self, x_valid, y_valid, filepath, eps=0.0313, steps=10, step_size=0.002,
                 value_range=(-1.0, 1.0), batch_size=256, seed=0, verbose=True):
        super().__init__()
        self.x_valid, self.y_valid = x_valid, y_valid
        self.filepath = filepath
        self.params_ = dict(eps=eps, steps=steps, step_size=step_size, value_range=value_range,
                            batch_size=batch_size, seed=seed)
        self.verbose = verbose
        self.best = -1.0
        self.best_epoch = None
        self._best_weights = None

    def _net(self):
        return getattr(self.model, "net", self.model)

    def on_epoch_end(self, epoch, logs=None):
        net = self._net()
        acc = robust_accuracy(net, self.x_valid, self.y_valid, "pgd", **self.params_)
        if logs is not None:
            logs["val_robust_accuracy"] = acc
        if acc > self.best:
            self.best, self.best_epoch = acc, epoch + 1
            self._best_weights = net.get_weights()
            path = save_h5(net, self.filepath)
            if self.verbose:
                print(f"epoch {epoch + 1}: PGD validation accuracy {acc:.4f} (best so far), saved {path}")
        elif self.verbose:
            print(f"epoch {epoch + 1}: PGD validation accuracy {acc:.4f} (best {self.best:.4f} at epoch "
                  f"{self.best_epoch})")

    def on_train_end(self, logs=None):
        if self._best_weights is not None:
            self._net().set_weights(self._best_weights)
