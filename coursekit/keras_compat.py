"""The one place this project touches private names of Keras (3.15) and KerasTuner (1.4).

Each hook below exists because no public API does the job (the reason is given with it), and each has
its own test in ``tests/test_keras_compat.py``: after an upgrade, those tests fail first and name the
hook, instead of training or resuming going wrong somewhere else. Nothing outside this module may use a
``keras.src`` / ``keras_tuner.src`` import or a Keras object's underscore attribute.
"""
from __future__ import annotations

import keras

# Keras' own train_step divides the reported loss back by the number of replicas with this helper; a custom
# train_step that reports the loss must do the same, and Keras exports no public name for it.
from keras.src.losses.loss import unscale_loss_for_distribution  # noqa: F401


def declared_input_shape(layer):
    """The ``input_shape=`` a Keras-2-style first layer was given (batch axis dropped), or ``None``.

    Keras 3 keeps it only in the layer's build-shapes record; such a ``Sequential`` has no ``.input``."""
    shapes = getattr(layer, "_build_shapes_dict", None) or {}
    shape = next(iter(shapes.values()), None)
    return tuple(shape[1:]) if shape else None


def output_layer_input(model):
    """The tensor a functional ``model``'s output layer receives *in this graph*.

    ``layer.input`` is the tensor of the layer's first call, which differs when the layer is shared (a
    student's ``Sequential`` re-chained on a new ``keras.Input``); the graph's own node says which it is."""
    operation, node_index, _ = model.outputs[0]._keras_history
    return operation._inbound_nodes[node_index].input_tensors[0]


def all_layers(obj, include_self=False):
    """Every layer inside ``obj`` at any depth (nested models, layers held by a custom layer); ``[]`` for an
    object that is no Keras layer. ``model.layers`` lists only the top level."""
    flatten = getattr(obj, "_flatten_layers", None)
    return list(flatten(include_self=include_self, recursive=True)) if flatten is not None else []


def seed_generator_states(model):
    """The state variables of every random layer's seed generator (dropout, augmentation), in layer order.

    ``save_weights`` leaves them out; a resumed run restores them to draw the masks an uninterrupted run would."""
    return [generator.state for layer in all_layers(model, include_self=True)
            for generator in getattr(layer, "_seed_generators", [])]


def distribute_strategy_of(model):
    """The ``tf.distribute`` strategy ``model`` was created under, or ``None`` (``model.distribute_strategy``
    answers the default strategy instead of ``None``)."""
    return model._distribute_strategy


def in_multi_worker_mode(strategy):
    """Whether ``strategy`` spans several workers (MultiWorkerMirroredStrategy with a cluster)."""
    return strategy is not None and strategy.extended._in_multi_worker_mode()


class BuildFromExampleBatch(keras.Model):
    """A model that, under a ``tf.distribute`` strategy, builds from ``self.example_batch`` (numpy rows).

    Keras 3.15 builds a model from its first batch averaged across replicas with a cross-worker collective,
    which fails under MultiWorkerMirroredStrategy ("Attempt to convert a value (PerReplica..."); building
    from example rows needs no collective (and reads no batch's extra entries as sample weights). Without a
    strategy Keras builds when it traces, as usual."""

    example_batch = None

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        if self._distribute_strategy is not None and self.example_batch is not None and data_batch is None:
            with self.distribute_strategy.scope():
                self._symbolic_build(data_batch=self.example_batch)
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


class BackupAndRestoreAt(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` whose state can be read from a folder of one's choosing.

    Keras reads one fixed pair of files; a backup kept as whole-epoch folders (written atomically) must
    point it at the newest. ``current_epoch`` is the epoch counter the callback writes into its next state."""

    def restore_from(self, weights_path, metadata_path):
        """Load the weights and the epoch counter Keras wrote into ``weights_path``/``metadata_path``; returns
        the epoch the running ``fit`` then starts from."""
        self._weights_path, self._training_metadata_path = str(weights_path), str(metadata_path)
        self._load_model()
        return self.model._initial_epoch

    @property
    def current_epoch(self):
        return self._current_epoch

    @current_epoch.setter
    def current_epoch(self, epoch):
        self._current_epoch = epoch


def keras_tuner_distribute_utils():
    """KerasTuner's ``distribute.utils`` (``has_chief_oracle``, ``is_chief_oracle``): whether this process is a
    worker of a distributed search; KerasTuner exports no public name for it."""
    from keras_tuner.src.distribute import utils

    return utils


# ------------------------------------------------------------------------------ files that cross Keras versions
# Keyword arguments Keras added after 3.10 (the oldest Keras this project supports), with the default that keeps
# the older meaning. Keras 3.10-3.14 refuse a stored config holding them ("GlorotUniform.__init__() got an
# unexpected keyword argument 'input_axes'"), so saved files leave them out while they hold that default, and a
# file written by a plain ``model.save`` on a newer Keras is loaded through a copy without them. Found by comparing
# the constructor signatures of the public classes of Keras 3.10.0, 3.13.2 and 3.15.1.
_AXES = {"input_axes": None, "output_axes": None}
_ATTENTION = {"sliding_window": None, "use_gate": False}
ADDED_AFTER_OLDEST = {
    **dict.fromkeys(("VarianceScaling", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal",
                     "LecunUniform"), _AXES),
    "BatchNormalization": {"renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99},
    **dict.fromkeys(("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"), {"output_padding": None}),
    "Dense": {"quantization_config": None},
    "Embedding": {"quantization_config": None},
    "EinsumDense": {"quantization_config": None, "gptq_unpacked_column_size": None},
    "MultiHeadAttention": _ATTENTION,
    "GroupQueryAttention": _ATTENTION,
    "IntegerLookup": {"oov_method": "floormod", "salt": None},
    "StringLookup": {"salt": None},
}


def portable_config(config):
    """``config`` (a stored model config) without the arguments of ``ADDED_AFTER_OLDEST`` that hold their default;
    returns ``(new_config, dropped)`` where ``dropped`` lists ``Class.argument`` names taken out."""
    dropped = []

    def walk(node):
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: walk(value) for key, value in node.items()}
        defaults = ADDED_AFTER_OLDEST.get(node.get("class_name"), {})
        inner = node.get("config")
        if defaults and isinstance(inner, dict):
            keep = {k: v for k, v in inner.items() if not (k in defaults and _same(v, defaults[k]))}
            dropped.extend(f"{node['class_name']}.{k}" for k in inner if k not in keep)
            node["config"] = keep
        return node

    return walk(config), dropped


def _same(value, default):
    return value == default and type(value) is type(default)


def running_keras_refuses(dropped):
    """Which of ``dropped`` (``Class.argument``) the running Keras has no such argument for (feature detection:
    the class's constructor signature, not a version number)."""
    import inspect

    missing = []
    for item in dropped:
        class_name, argument = item.split(".")
        cls = getattr(keras.layers, class_name, None) or getattr(keras.initializers, class_name, None)
        if cls is not None and argument not in inspect.signature(cls.__init__).parameters:
            missing.append(item)
    return missing


# The modules Keras 3 writes into a stored config for its layers and models (``keras.src.layers.…``): the
# internal package path, which no public name exposes. A model-file check uses it to name the layer a refusal
# concerns.
STORED_LAYER_MODULES = ("keras.layers", "keras.src.layers", "keras.src.models")


def is_loaded_keras_operation(module, name):
    """Whether ``module.name`` is a Keras operation class of a module Keras has already loaded, e.g. the
    ``GetItem`` a functional model's ``x[:, 0]`` stores under its internal module ``keras.src.ops.numpy`` (no
    public namespace exports these classes). Imports nothing."""
    import inspect
    import sys

    found = vars(sys.modules[module]).get(name) if module in sys.modules else None
    return inspect.isclass(found) and issubclass(found, keras.Operation)
