"""Networks students build their own way (2022-template habits): make any Keras model usable here.

Students fill ``self.model`` with a Keras-2-style ``Sequential`` (``input_shape=`` on the first
layer, which gives Keras 3 no ``.input``), a ``Sequential`` starting with ``keras.Input``, a
functional model or a ``keras.Model`` subclass, ending in a softmax or in logits. The library
trains, evaluates and attacks a functional graph, so ``as_functional`` makes one that shares the
student's layers and weights; the student's own model is what gets saved.
"""
from __future__ import annotations

import warnings

import keras
import numpy as np
from keras import layers

from coursekit.keras_compat import declared_input_shape

PROBABILITIES, LOGITS = "probabilities", "logits"


def _has_graph_input(model):
    try:
        model.input  # noqa: B018  (raises on a Sequential built from input_shape= and on subclassed models)
        return True
    except (AttributeError, ValueError):
        return False


def _declared_input_shape(model):
    """The ``input_shape=`` a Keras-2-style ``Sequential``'s first layer was given, or ``None``."""
    return declared_input_shape(model.layers[0]) if getattr(model, "layers", None) else None


def as_functional(model, input_shape=None):
    """A functional ``keras.Model`` computing ``model`` with the same layers and weights.

    A model that already has a graph input is returned as it is. A ``Sequential`` without one
    is re-chained layer by layer on a ``keras.Input`` (so its last layer stays reachable); a
    subclassed model is called on one. ``input_shape`` (one example's shape, e.g. the data's)
    is needed when the model does not declare it.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"self.model must be a keras.Model (Sequential, functional or subclassed), "
                        f"got {type(model).__name__}")
    if _has_graph_input(model):
        return model
    if isinstance(model, keras.Sequential) and not model.layers:
        raise ValueError(f"the Sequential model '{model.name}' has no layers yet: add them in build_cnn() "
                         "(self.model.add(...)) and call build_cnn() first")
    shape = tuple(input_shape) if input_shape is not None else _declared_input_shape(model)
    if shape is None:
        raise ValueError(f"cannot tell what input '{model.name}' takes: give its first layer input_shape=, start "
                         "it with keras.Input(shape), or fit it on data first")
    inputs = keras.Input(shape, name="image")
    try:
        if isinstance(model, keras.Sequential):
            x = inputs
            for layer in model.layers:
                x = layer(x)
        else:
            x = model(inputs)
    except Exception as exc:  # a layer built for another shape says so here
        raise ValueError(f"'{model.name}' cannot take inputs of shape {shape}: {exc}") from exc
    return keras.Model(inputs, x, name=model.name)


def output_kind(model, sample=None, warn=True):
    """``"probabilities"`` when ``model`` ends in a softmax, ``"logits"`` when it ends in a linear layer.

    When the last layer does not say (a subclassed model), the outputs on ``sample`` decide:
    non-negative rows summing to 1 are probabilities. That guess comes with one warning saying
    how to state the answer instead.
    """
    last = model.layers[-1] if getattr(model, "layers", None) else None
    if isinstance(last, layers.Softmax):
        return PROBABILITIES
    act = getattr(last, "activation", None)
    name = getattr(act, "__name__", None)
    if name == "softmax":
        return PROBABILITIES
    if name == "linear" and isinstance(last, (layers.Dense, layers.Activation, layers.Conv2D)):
        return LOGITS
    if sample is None:
        kind = LOGITS
        why = "no data to look at"
    else:
        out = np.asarray(model(np.asarray(sample, np.float32), training=False))
        probs = bool(np.all(out >= 0) and np.allclose(out.sum(axis=-1), 1.0, atol=1e-3))
        kind = PROBABILITIES if probs else LOGITS
        why = "its outputs " + ("are non-negative and sum to 1" if probs else "are not probabilities")
    if warn:
        warnings.warn(f"cannot tell from its last layer whether '{model.name}' outputs probabilities or logits; "
                      f"assuming {kind} ({why}). Say which with output_kind='logits' or 'probabilities' "
                      "(an attribute of DefaultModel/YourModel).", UserWarning, stacklevel=3)
    return kind


class LogProbabilities(keras.Model):
    """Class scores for a network that outputs probabilities and whose logits cannot be reached:
    ``log(p)`` differs from the logits by a per-example constant, so cross-entropy and its
    gradients are the same."""

    def __init__(self, net):
        super().__init__(name=net.name + "_log_probabilities")
        self.net = net

    def call(self, x, training=False):
        return keras.ops.log(keras.ops.clip(self.net(x, training=training), 1e-12, 1.0))
