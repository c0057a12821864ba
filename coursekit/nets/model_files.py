"""What a saved model file names, read and checked before Keras deserialises anything.

Keras before 3.11.3 ignores ``safe_mode`` for ``.h5`` files (CVE-2025-9905), and before 3.11.0 a ``.keras`` file
could get past it (CVE-2025-9906): on the Keras that Colab runtimes ship, loading such a file runs the Python code
of a ``Lambda`` layer, and a config may name any function of a module Keras imports. So every loader of this
project reads the model's stored config itself (the ``model_config`` attribute of an ``.h5`` file, ``config.json``
inside a ``.keras`` zip: plain JSON, no code) and refuses, with the same message on every Keras version:

- a ``Lambda`` layer (or any other object that carries Python code);
- any class or function that is neither a public Keras name nor supplied by the caller (``custom_objects``, or a
  class registered with ``@keras.saving.register_keras_serializable()``): ``os.system``, a private
  ``keras.src`` helper, a student's class that was not handed over.
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

# objects whose config holds Python code (bytecode or a function to look up) that runs when they are rebuilt
CODE_CARRYING = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda", "__lambda__"})
# Keras layers that, rebuilt from a config, load other code or files the config names (Keras 3.15's own safe
# mode refuses these too; the lookup layers only when their vocabulary is a file path)
LOADS_EXTERNAL = frozenset({"TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"})
VOCABULARY_LAYERS = frozenset({"StringLookup", "IntegerLookup", "TextVectorization"})
# Keras' own markers for values inside a config (tensors, arrays, slices, ...): data, never code
KERAS_VALUE_MARKERS = frozenset({"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__typespec__",
                                 "__ellipsis__", "__slice__", "__tuple__", "__passive_serialization__"})
# the public Keras namespaces a stored class or function name may come from (functions: those Keras itself
# searches for a function stored by name, and the tensor ops)
CLASS_NAMESPACES = ("layers", "initializers", "regularizers", "constraints", "losses", "metrics", "optimizers",
                    "optimizers.schedules", "dtype_policies", "models")
FUNCTION_NAMESPACES = ("activations", "losses", "metrics", "initializers", "regularizers", "constraints", "ops")
# model classes Keras writes under their internal names
KERAS_MODEL_CLASSES = frozenset({"Functional", "Sequential", "Model"})


class UnsafeModelFile(ValueError):
    """A model file refused before loading: it names code that would run, or a class nobody supplied."""


@dataclass(frozen=True)
class NamedObject:
    """One object a stored config names: its class (or ``"function"``), module, registered name and where."""

    class_name: str
    module: str | None
    registered_name: str | None
    function_name: str | None
    where: str
    vocabulary_file: bool = False

    @property
    def qualified(self):
        name = self.function_name if self.class_name == "function" else self.class_name
        return f"{self.module}.{name}" if self.module else name


def stored_config(path) -> dict:
    """The model config a ``.h5`` or ``.keras`` file stores (JSON), without the compile settings."""
    path = Path(path)
    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as archive:
            try:
                text = archive.read("config.json")
            except KeyError:
                raise UnsafeModelFile(f"{path} has no config.json: it is not a model saved by Keras 3; save the "
                                      "model again") from None
        config = json.loads(text)
        return {k: v for k, v in config.items() if k != "compile_config"}
    import h5py

    with h5py.File(path, "r") as f:
        text = f.attrs.get("model_config")
    if text is None:
        raise UnsafeModelFile(f"{path} holds no model config (a weights-only file?): load it with "
                              "model.load_weights() on the network that saved it")
    return json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)


def named_objects(config, where="model"):
    """Every object reference (a dict with ``class_name``) anywhere in ``config``, depth first."""
    if isinstance(config, list):
        for item in config:
            yield from named_objects(item, where)
        return
    if not isinstance(config, dict):
        return
    inner = config.get("config")
    if "class_name" in config:
        name = inner.get("name") if isinstance(inner, dict) else None
        where = f"layer '{name}'" if isinstance(name, str) and _is_layer_like(config) else where
        yield NamedObject(str(config["class_name"]), config.get("module"), config.get("registered_name"),
                          inner if isinstance(inner, str) else None, where,
                          isinstance(inner, dict) and isinstance(inner.get("vocabulary"), str))
    for key, value in config.items():
        if key != "class_name":
            yield from named_objects(value, where)


def _is_layer_like(config):
    """Whether an object reference is a layer or model (named in messages), not e.g. an initializer or policy."""
    from coursekit.keras_compat import STORED_LAYER_MODULES

    module = config.get("module") or ""
    return ("inbound_nodes" in config or "build_config" in config
            or module.startswith(STORED_LAYER_MODULES))


def refusal(obj: NamedObject, custom_objects=None):
    """Why ``obj`` may not be rebuilt, or ``None`` when it is Keras' own or the caller's."""
    custom_objects = custom_objects or {}
    if obj.class_name in CODE_CARRYING:
        return "lambda"
    if obj.class_name in LOADS_EXTERNAL or obj.class_name in VOCABULARY_LAYERS and obj.vocabulary_file:
        return "external"
    if obj.class_name.startswith("__") and obj.class_name.endswith("__"):
        return None if obj.class_name in KERAS_VALUE_MARKERS else "unknown"
    if _supplied(obj, custom_objects):
        return None
    from coursekit.keras_compat import is_loaded_keras_operation

    keras_module = obj.module is None or obj.module == "keras" or obj.module.startswith("keras.")
    if obj.class_name == "function":
        ok = (obj.module in (None, "builtins") or keras_module) and _public_keras(obj.function_name, functions=True)
        return None if ok else "unknown"
    if keras_module and (obj.class_name in KERAS_MODEL_CLASSES or _public_keras(obj.class_name, functions=False)
                         or is_loaded_keras_operation(obj.module, obj.class_name)):
        return None
    return "unknown"


def _supplied(obj, custom_objects):
    import keras

    names = {obj.class_name, obj.registered_name, obj.function_name} - {None, "function"}
    if any(name in custom_objects for name in names):
        return True
    return any(keras.saving.get_registered_object(name) is not None for name in names)


def _public_keras(name, functions):
    """Whether ``name`` is a public Keras function (``functions``) or class, e.g. ``relu``, ``Conv2D``."""
    import inspect

    import keras

    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        return False
    wanted = (lambda obj: callable(obj) and not inspect.isclass(obj)) if functions else inspect.isclass
    for namespace in FUNCTION_NAMESPACES if functions else CLASS_NAMESPACES:
        module = keras
        for part in namespace.split("."):
            module = getattr(module, part, None)
        if module is not None and wanted(getattr(module, name, None)):
            return True
    return not functions and wanted(getattr(keras, name, None))  # keras.DTypePolicy and the like


def check_model_file(path, custom_objects=None, config=None):
    """Refuse ``path`` (``UnsafeModelFile``, naming the file, the object and the fix) if its stored config names
    a ``Lambda`` layer or anything that is neither Keras nor in ``custom_objects``/registered. Reads only JSON
    (``config``, when given, is the file's ``stored_config`` read already)."""
    path = Path(path)
    for obj in named_objects(stored_config(path) if config is None else config):
        reason = refusal(obj, custom_objects)
        if reason == "lambda":
            raise UnsafeModelFile(
                f"{path} was refused before loading: it holds a Lambda layer ({obj.where}), whose Python code would "
                "run on loading (the same check on every Keras version). If you made this file yourself or trust "
                "its author, load it with load(path, safe_mode=False)")
        if reason == "external":
            raise UnsafeModelFile(
                f"{path} was refused before loading: its {obj.class_name} ({obj.where}) would load code or files "
                "the model file names. If you made this file yourself or trust its author, load it with "
                "load(path, safe_mode=False)")
        if reason == "unknown":
            name = obj.function_name if obj.class_name == "function" else obj.class_name
            raise UnsafeModelFile(
                f"{path} was refused before loading: it names {obj.qualified} ({obj.where}), which is neither part "
                f"of Keras nor supplied by you. If it is your own class or function, hand it over: "
                f"load_model(path, custom_objects={{'{name}': {name}}}) or decorate it with "
                "@keras.saving.register_keras_serializable(); load files from people you do not trust only this "
                "way")
