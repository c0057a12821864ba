"""Label smoothing written by hand (FIT3181 Q2.6), not Keras' built-in option."""
import keras
from keras import ops


class SmoothedCrossEntropy(keras.losses.Loss):
    """Cross-entropy against smoothed targets ``(1 - alpha) * y + alpha / K`` (Szegedy et al., 2016).

    ``y_true`` is one-hot (or soft) with ``K`` classes. With ``from_logits`` the log-probabilities
    come from a stable log-softmax; otherwise probabilities are clipped away from 0 as Keras does.
    Its value equals ``keras.losses.CategoricalCrossentropy(label_smoothing=alpha)``.
    """

    def __init__(self, alpha=0.1, from_logits=False, name="smoothed_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0 <= alpha < 1:
            raise ValueError(f"label-smoothing alpha must be in [0, 1), got {alpha}")
        self.alpha = float(alpha)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        k = ops.cast(ops.shape(y_true)[-1], y_pred.dtype)
        targets = (1.0 - self.alpha) * y_true + self.alpha / k
        if self.from_logits:
            log_p = ops.log_softmax(y_pred, axis=-1)
        else:
            probs = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
            log_p = ops.log(ops.clip(probs, keras.config.epsilon(), 1.0 - keras.config.epsilon()))
        return -ops.sum(targets * log_p, axis=-1)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "from_logits": self.from_logits}


class OneHotBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy from a single logit, with the target given one-hot over two classes.

    Lets a one-logit network (``BCEWithLogitsLoss`` in PyTorch terms) train through the same
    pipeline as the multi-class ones: column 1 of the one-hot target is the positive class.
    """

    def __init__(self, label_smoothing=0.0, name="binary_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        return keras.losses.binary_crossentropy(ops.cast(y_true[:, 1:], y_pred.dtype), y_pred, from_logits=True,
                                                label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def _one_logit_accuracy(y_true, y_pred):
    return ops.cast(ops.equal(y_true[:, 1] > 0.5, y_pred[:, 0] > 0), "float32")


class OneHotBinaryAccuracy(keras.metrics.MeanMetricWrapper):
    """Accuracy of a one-logit classifier (positive when the logit is > 0) against one-hot targets."""

    def __init__(self, name="accuracy", **kwargs):
        super().__init__(fn=_one_logit_accuracy, name=name, **kwargs)
