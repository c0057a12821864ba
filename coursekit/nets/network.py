"""One adapter for whatever network a student hands over: asked once per Keras model, then cached.

The trainer, the attacks and ``DefaultModel`` all need the same three answers about a network: a
functional graph with an input (a Keras-2-style ``Sequential`` has none), whether it outputs
probabilities or logits, and a model computing its logits. ``network_view`` works them out the
first time a Keras model is seen and hands back the same ``NetworkView`` afterwards, so no caller
works them out again (and the "cannot tell" warning comes once per network).
"""
from __future__ import annotations

import weakref

import keras

from coursekit.nets.architectures import logits_model
from coursekit.nets.student_models import as_functional, output_kind

_VIEWS = weakref.WeakKeyDictionary()


def keras_model_of(net, what="this function"):
    """The Keras model in ``net``: ``net`` itself, or the ``.model`` of a ``DefaultModel``/``YourModel``
    (or any object holding a Keras model in ``.model``). Anything else is refused by name."""
    if isinstance(net, keras.Model):
        return net
    inner = getattr(net, "model", None)
    if isinstance(inner, keras.Model):
        return inner
    if hasattr(net, "build_cnn"):
        raise ValueError(f"{what} was given {type(net).__name__} '{getattr(net, 'name', '?')}', whose .model is "
                         f"{type(inner).__name__}, not a Keras model: call build_cnn() (or load()) first")
    raise TypeError(f"{what} takes a keras.Model or a DefaultModel/YourModel holding one in .model; "
                    f"got {type(net).__name__}")


class NetworkView:
    """A student's network as the library uses it.

    ``model`` is the student's own Keras model (what gets saved), ``graph`` a functional model sharing
    its layers and weights, ``kind`` ``'probabilities'`` or ``'logits'``, ``logits`` a model computing the
    class scores before any softmax, and ``num_classes`` the width of its output.
    """

    def __init__(self, model, graph, kind):
        self.model, self.graph, self.kind = model, graph, kind
        self.logits = logits_model(graph, kind)
        self.num_classes = int(graph.output.shape[-1])

    def logits_fn(self, x):
        """Logits in inference mode (BatchNorm's moving statistics, no dropout): what attacks differentiate."""
        return self.logits(x, training=False)


def network_view(net, input_shape=None, sample=None, kind=None, warn=True):
    """The cached ``NetworkView`` of ``net`` (a Keras model or a ``DefaultModel``/``YourModel``).

    ``input_shape`` (one example's shape) is needed once for a network that declares none; ``sample``
    (a few inputs) decides the output kind when the last layer cannot tell, with a warning unless
    ``warn=False``. ``kind``, or the ``output_kind`` attribute of the object given, states it instead.
    """
    model = keras_model_of(net)
    kind = kind or getattr(net, "output_kind", None) or getattr(model, "output_kind", None)
    view = _VIEWS.get(model)
    if view is None or (kind and view.kind != kind):
        graph = view.graph if view is not None else as_functional(model, input_shape)
        view = NetworkView(model, graph, kind or output_kind(graph, sample, warn=warn))
        _VIEWS[model] = view
    return view
