"""``DenseClassifier``: the Part 2 feed-forward network with the fit/evaluate interface of the CNN models."""
from __future__ import annotations

import keras

from coursekit.nets.architectures import mlp
from coursekit.nets.classifier import KerasClassifier
from coursekit.training.config import TrainConfig
from coursekit.training.fit import fit_classifier
from coursekit.training.losses import SmoothedCrossEntropy


class DenseClassifier(KerasClassifier):
    """``input_dim -> n1 (act) -> n2 (act) -> num_classes (softmax)``, trained with Adam by default.

    ``label_smoothing`` > 0 trains with the hand-written ``SmoothedCrossEntropy``.
    ``fit(data, batch_size, num_epochs)`` takes any object with ``X_train, y_train,
    X_valid, y_valid`` (e.g. ``FashionSplits``), so ``coursekit.training.tuning.grid_search`` works on it.
    """

    optimizer = "adam"  # the assignment's; assign another name or a Keras optimizer before fit to change it

    def __init__(self, n1=20, n2=40, activation="relu", num_classes=10, input_dim=784, learning_rate=1e-3,
                 label_smoothing=0.0, batch_size=128, num_epochs=20, seed=1234, verbose=True, strategy=None):
        self.n1, self.n2, self.activation = n1, n2, activation
        self.num_classes, self.input_dim = num_classes, input_dim
        self.learning_rate = learning_rate
        self.label_smoothing = label_smoothing
        self.batch_size, self.num_epochs = batch_size, num_epochs
        self.seed, self.verbose, self.strategy = seed, verbose, strategy
        self.loss = SmoothedCrossEntropy(label_smoothing, from_logits=True) if label_smoothing else None
        keras.utils.set_random_seed(seed)
        self.model = mlp(input_dim, (n1, n2), activation, num_classes, name=f"mlp_{n1}_{n2}_{activation}")
        self.history = None

    def fit(self, data, batch_size=None, num_epochs=None):
        """Train on ``data.X_train`` with ``data.X_valid`` for validation; returns the Keras ``History``."""
        config = TrainConfig(num_classes=self.num_classes, batch_size=batch_size or self.batch_size,
                             epochs=num_epochs or self.num_epochs, optimizer=self.optimizer,
                             learning_rate=self.learning_rate, value_range=(0.0, 1.0), seed=self.seed,
                             verbose=self.verbose, loss=self.loss)
        self.history = fit_classifier(self.model, (data.X_train, data.y_train), (data.X_valid, data.y_valid), config,
                                      strategy=self.strategy)
        return self.history

