"""``BinaryMLP``: a fully connected binary classifier on feature vectors (Technion HW2 Task 2, MAGIC)."""
from __future__ import annotations

import keras
import numpy as np
from keras import layers

from coursekit.nets.classifier import KerasClassifier
from coursekit.training.config import TrainConfig
from coursekit.training.fit import fit_classifier


def binary_mlp(input_dim, hidden=(256, 128), activation="relu", dropout=0.1, kernel_initializer="glorot_uniform",
               name="binary_mlp"):
    """``input_dim -> hidden... (act, dropout) -> 1 logit``."""
    inputs = keras.Input((int(input_dim),), name="features")
    x = inputs
    for i, units in enumerate(hidden):
        x = layers.Dense(units, activation=activation, kernel_initializer=kernel_initializer,
                         name=f"hidden{i + 1}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout{i + 1}")(x)
    logit = layers.Dense(1, kernel_initializer=kernel_initializer, name="logit", dtype="float32")(x)  # float32 loss
    return keras.Model(inputs, logit, name=name)


class BinaryMLP(KerasClassifier):
    """An MLP trained with binary cross-entropy from its logit on the project's trainer.

    ``fit(data)`` trains on ``data.X_train`` and, with ``patience``, stops early on the
    validation accuracy (best weights restored). ``fit_arrays`` trains on given arrays for a fixed
    number of epochs (e.g. on train + validation once the hyper-parameters are chosen).
    ``kernel_initializer`` is any Keras initializer (name or object); ``strategy`` a ``tf.distribute``
    strategy, as for ``fit_classifier``. ``predict`` gives 0/1 (1 where the logit is positive).
    """

    predict_batch_size = 4096

    optimizer = "adam"  # assign another name or a Keras optimizer before fit to change it

    def __init__(self, input_dim=10, hidden=(256, 128), activation="relu", dropout=0.1, learning_rate=1e-3,
                 batch_size=256, num_epochs=100, patience=15, kernel_initializer="glorot_uniform", seed=0,
                 verbose=False, strategy=None):
        self.input_dim, self.hidden, self.activation, self.dropout = input_dim, tuple(hidden), activation, dropout
        self.learning_rate = learning_rate
        self.batch_size, self.num_epochs, self.patience = batch_size, num_epochs, patience
        self.kernel_initializer, self.seed, self.verbose, self.strategy = kernel_initializer, seed, verbose, strategy
        keras.utils.set_random_seed(seed)
        self.model = binary_mlp(input_dim, self.hidden, activation, dropout, kernel_initializer)
        self.history = None

    def _fit(self, X, y, X_valid, y_valid, epochs, patience, batch_size):
        config = TrainConfig(num_classes=2, batch_size=batch_size or self.batch_size, epochs=epochs,
                             optimizer=self.optimizer, learning_rate=self.learning_rate, patience=patience,
                             seed=self.seed, verbose=self.verbose)
        self.history = fit_classifier(self.model, (X, y), (X_valid, y_valid), config, strategy=self.strategy)
        return self.history

    def fit(self, data, batch_size=None, num_epochs=None):
        """Train with validation (and early stopping when ``patience`` is set); returns the ``History``."""
        return self._fit(data.X_train, data.y_train, data.X_valid, data.y_valid, num_epochs or self.num_epochs,
                         self.patience, batch_size)

    def fit_arrays(self, X, y, epochs, batch_size=None):
        """Train on ``X, y`` for exactly ``epochs`` epochs, without validation."""
        return self._fit(X, y, None, None, epochs, None, batch_size)

    @property
    def best_epoch(self):
        """The epoch (1-based) with the best validation accuracy of the last ``fit``."""
        return int(np.argmax(self.history.history["val_accuracy"])) + 1

