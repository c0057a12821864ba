"""The networks of the Animals task, as plain functional Keras models.

Every classifier here ends in a ``Dense`` layer named ``logits`` followed by a
``softmax`` ``Activation`` named ``probabilities``: the saved ``.h5`` is an ordinary
functional model, and attacks and losses can reach the logits (see ``logits_model``).
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers

from coursekit.keras_compat import output_layer_input

LOGITS_LAYER = "logits"  # the layer names of the classifier head (kept in saved .h5 files)
SOFTMAX_LAYER = "probabilities"


def check_activation(name):
    """Raise a clear ``ValueError`` unless Keras knows the activation ``name``."""
    try:
        keras.activations.get(name)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"unknown activation_func {name!r}: use a Keras activation name such as "
                         "'relu', 'elu', 'leaky_relu', 'gelu', 'swish', 'tanh' or 'sigmoid'") from exc


def _classifier_head(x, num_classes):
    # float32 logits and softmax: under a mixed-precision policy the loss is still computed in float32
    logits = layers.Dense(num_classes, name=LOGITS_LAYER, dtype="float32")(x)
    return logits, layers.Activation("softmax", name=SOFTMAX_LAYER, dtype="float32")(logits)


def default_cnn(width=32, height=32, depth=3, num_classes=10, activation="relu", name="default_cnn"):
    """The template's baseline: conv32, conv32, avg-pool, conv64, conv64, avg-pool, flatten, dense.

    106,538 parameters for 32x32x3 inputs and 10 classes, as the template's summary shows.
    """
    inputs = keras.Input((height, width, depth), name="image")
    x = inputs
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation=activation)(x)
        x = layers.Conv2D(filters, 3, padding="same", activation=activation)(x)
        x = layers.AveragePooling2D(pool_size=2)(x)
    x = layers.Flatten()(x)
    _, probs = _classifier_head(x, num_classes)
    return keras.Model(inputs, probs, name=name)


class FeatureMaps(int):
    """The template's ``self.feature_maps``: the per-block widths that is also the first block's width.

    The 2022 template stores the list ``[feature_maps * (1 << i) for i in range(num_blocks)]`` and its
    notebook tells students to read ``feature_maps[0]`` and ``feature_maps[i]``; code written for the
    int (``feature_maps * 2``, ``f"fm{feature_maps}"``, ``Conv2D(feature_maps, 3)``) keeps working,
    because it is that int. Indexing, slicing, iterating and ``len`` see the widths.
    """

    def __new__(cls, widths):
        widths = [int(w) for w in widths]
        if not widths or any(w < 1 for w in widths):
            raise ValueError(f"feature_maps must be positive widths, one per block, got {widths}")
        obj = super().__new__(cls, widths[0])
        obj.widths = widths
        return obj

    @classmethod
    def per_block(cls, feature_maps, num_blocks):
        """Widths for ``num_blocks`` blocks: an int doubles per block; a list of widths is kept as given."""
        if isinstance(feature_maps, cls):
            feature_maps = feature_maps.widths if len(feature_maps.widths) != 1 else int(feature_maps)
        if isinstance(feature_maps, (list, tuple, np.ndarray)):
            return cls(feature_maps)
        return cls([int(feature_maps) * (1 << i) for i in range(int(num_blocks))])

    def __getitem__(self, index):
        return self.widths[index]

    def __iter__(self):
        return iter(self.widths)

    def __len__(self):
        return len(self.widths)

    def __reduce__(self):  # copy and pickle keep the widths
        return FeatureMaps, (self.widths,)


def residual_block(x, filters, index, activation="relu", batch_norm=True, use_skip=True, drop_rate=0.0):
    """[conv3x3, BN, act, conv3x3, BN, (+ skip), act, avg-pool 2x2/2 'same', dropout].

    The skip is added to the second BN's output (a 1x1 projection matches channels
    when they differ). Each block halves the spatial size.
    """
    p = f"block{index}_"
    shortcut = x
    x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name=p + "conv1")(x)
    if batch_norm:
        x = layers.BatchNormalization(name=p + "bn1")(x)
    x = layers.Activation(activation, name=p + "act1")(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name=p + "conv2")(x)
    if batch_norm:
        x = layers.BatchNormalization(name=p + "bn2")(x)
    if use_skip:
        if shortcut.shape[-1] != filters:
            shortcut = layers.Conv2D(filters, 1, padding="same", name=p + "projection")(shortcut)
        x = layers.Add(name=p + "skip")([x, shortcut])
    x = layers.Activation(activation, name=p + "act2")(x)
    x = layers.AveragePooling2D(pool_size=2, strides=2, padding="same", name=p + "pool")(x)
    if drop_rate > 0:
        x = layers.Dropout(drop_rate, name=p + "dropout")(x)
    return x


def residual_cnn(width=32, height=32, depth=3, num_blocks=2, feature_maps=32, num_classes=4, drop_rate=0.2,
                 batch_norm=True, activation="relu", use_skip=True, name="your_model"):
    """``num_blocks`` residual blocks, then a linear layer.

    ``feature_maps`` is the first block's width, doubled in each following block, or a list of
    widths, one per block (the template's ``self.feature_maps``).
    """
    widths = FeatureMaps.per_block(feature_maps, num_blocks)
    if len(widths) < num_blocks:
        raise ValueError(f"feature_maps lists {len(widths)} widths ({widths.widths}) for {num_blocks} blocks: "
                         f"give one width per block, or the first block's width as an int")
    inputs = keras.Input((height, width, depth), name="image")
    x = inputs
    for i in range(num_blocks):
        x = residual_block(x, widths[i], i + 1, activation, bool(batch_norm), use_skip, drop_rate)
    x = layers.Flatten(name="flatten")(x)
    _, probs = _classifier_head(x, num_classes)
    return keras.Model(inputs, probs, name=name)


def mlp(input_dim=784, hidden=(20, 40), activation="relu", num_classes=10, name="mlp"):
    """A fully connected classifier ``input_dim -> hidden[0] (act) -> hidden[1] (act) ... -> num_classes``."""
    inputs = keras.Input((input_dim,), name="features")
    x = inputs
    for i, units in enumerate(hidden):
        x = layers.Dense(units, activation=activation, name=f"hidden{i + 1}")(x)
    _, probs = _classifier_head(x, num_classes)
    return keras.Model(inputs, probs, name=name)


def logits_model(model: keras.Model, output_kind=None) -> keras.Model:
    """A model sharing ``model``'s weights that outputs class scores before the softmax.

    Works for this project's models (a layer named ``logits``), for models whose last layer
    is a softmax ``Activation`` or ``Softmax``, and for models ending in ``Dense(..., activation='softmax')``
    (the template's habit), whose logits are recomputed from the same kernel and bias.
    A model that already outputs logits is returned as is; ``output_kind='probabilities'`` on a
    model whose softmax cannot be found gives ``log(p)`` (the same cross-entropy and gradients).
    """
    from coursekit.nets.student_models import PROBABILITIES, LogProbabilities

    names = {layer.name for layer in model.layers}
    if LOGITS_LAYER in names:
        return keras.Model(model.input, model.get_layer(LOGITS_LAYER).output, name=model.name + "_logits")
    last = model.layers[-1]
    act = getattr(last, "activation", None)
    if act is not None and getattr(act, "__name__", "") == "softmax":
        if isinstance(last, layers.Activation):
            return keras.Model(model.input, output_layer_input(model), name=model.name + "_logits")
        if isinstance(last, layers.Dense):
            pre = keras.Model(model.input, output_layer_input(model))
            return _DenseLogits(pre, last)
    if isinstance(last, layers.Softmax):
        return keras.Model(model.input, output_layer_input(model), name=model.name + "_logits")
    if output_kind == PROBABILITIES:
        return LogProbabilities(model)
    return model


class _DenseLogits(keras.Model):
    """Logits of a model whose last layer is ``Dense(activation='softmax')``, sharing its weights."""

    def __init__(self, features, dense):
        super().__init__(name="dense_logits")
        self.features, self.dense = features, dense

    def call(self, x, training=False):
        h = self.features(x, training=training)
        out = keras.ops.matmul(h, self.dense.kernel)
        return out + self.dense.bias if self.dense.use_bias else out
