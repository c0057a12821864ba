"""An opt-in for the Keras 2 calls 2022 notebooks make, which Keras 3 removed.

``keras2_habits()`` (one line at the top of a notebook, after ``import models``) restores:

- ``model.fit_generator``, ``evaluate_generator`` and ``predict_generator``, as ``fit``, ``evaluate``
  and ``predict`` (Keras 2's positional order kept; ``max_queue_size``, ``workers`` and
  ``use_multiprocessing``, which Keras 3 moved to ``PyDataset``, are dropped with one notice);
- Keras 2's layer constructor calls (``coursekit.keras2_layers``: dropped defaults such as
  ``AveragePooling2D``'s ``pool_size``, Keras 2's positional orders, removed arguments);
- ``model.save('./models/best_model')`` and ``keras.models.save_model`` to a path without a
  ``.keras``/``.h5`` ending (Keras 2's SavedModel folder): the folder is made and the model is
  saved in it as ``model.keras``, Keras 3's own format, which keeps everything needed to train
  further; where that file names layer classes that are not Keras' own, a SavedModel export is
  saved beside it, as Keras 2's folder held one; one line says so;
- ``keras.models.load_model(folder)`` of such a folder (it loads the ``model.keras`` inside, or, when
  its classes cannot be found by name, the SavedModel beside it), and of a real SavedModel folder
  (``saved_model.pb``, e.g. written by TensorFlow 2.x's Keras or by ``model.export``): that comes back
  as a Keras model wrapping the SavedModel's serving function, which predicts and can be attacked
  (gradients reach the inputs) but cannot be trained further, as a serving graph holds no training
  step; the notice says so. A SavedModel is read only if this process wrote it (unchanged since)
  or the caller trusts it (``safe_mode=False``): its graph can hold file and system operations;
- ``from keras.preprocessing.image import ImageDataGenerator`` (the legacy class TensorFlow keeps
  under ``tensorflow.keras.preprocessing.image``).

Nothing changes until it is called; ``keras2_habits(False)`` puts Keras back as it was.
"""
from __future__ import annotations

import os
from pathlib import Path

import keras
import tensorflow as tf

from coursekit.nets.model_files import UnsafeModelFile, check_model_file, named_objects, refusal, stored_config

SAVED_NAME = "model.keras"
_KERAS_ENDINGS = (".keras", ".h5", ".hdf5")
_ORIGINAL = {}
_MOVED_TO_PYDATASET = ("max_queue_size", "workers", "use_multiprocessing")
_FIT_GENERATOR_ORDER = ("steps_per_epoch", "epochs", "verbose", "callbacks", "validation_data", "validation_steps",
                        "validation_freq", "class_weight", "max_queue_size", "workers", "use_multiprocessing",
                        "shuffle", "initial_epoch")
_EVAL_GENERATOR_ORDER = ("steps", "callbacks", "max_queue_size", "workers", "use_multiprocessing", "verbose")


def _patch_points():
    """``(owner, attribute, replacement)`` for every place the habits change."""
    import keras.preprocessing.image as keras_image

    from coursekit import keras2_layers

    return keras2_layers.patches() + [
        (keras.Model, "fit_generator", _fit_generator),
        (keras.Model, "evaluate_generator", _evaluate_generator),
        (keras.Model, "predict_generator", _predict_generator),
        (keras.Model, "save", _model_save),
        (keras.Model, "export", _model_export),
        (keras.models, "save_model", _save_model),
        (keras.saving, "save_model", _save_model),
        (keras.models, "load_model", _load_model),
        (keras.saving, "load_model", _load_model),
        (keras_image, "ImageDataGenerator", tf.keras.preprocessing.image.ImageDataGenerator),
    ]


def keras2_habits(enable=True):
    """Turn the Keras 2 calls listed in this module's docstring on (or, with ``False``, off again).

    Call it before ``from keras.models import load_model`` binds the name. Returns ``enable``.
    """
    if enable and not _ORIGINAL:
        from coursekit.keras2_layers import reset_notices

        reset_notices()
        for owner, name, replacement in _patch_points():
            _ORIGINAL[(owner, name)] = owner.__dict__.get(name, _MISSING)
            setattr(owner, name, replacement)
    elif not enable and _ORIGINAL:
        for (owner, name), original in _ORIGINAL.items():
            if original is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        _ORIGINAL.clear()
    return enable


def is_enabled():
    """Whether ``keras2_habits()`` is on."""
    return bool(_ORIGINAL)


_MISSING = object()


def _original(owner, name):
    return _ORIGINAL[(owner, name)]


# ------------------------------------------------------------------ generators
def _keras3_kwargs(order, args, kwargs, call):
    """Keras 2 positional arguments by name, less those Keras 3 no longer takes (one notice)."""
    if len(args) > len(order):
        raise TypeError(f"{call} takes at most {len(order) + 1} positional arguments, got {len(args) + 1}")
    named = dict(zip(order, args))
    clash = set(named) & set(kwargs)
    if clash:
        raise TypeError(f"{call} got multiple values for {sorted(clash)}")
    named.update(kwargs)
    dropped = [k for k in _MOVED_TO_PYDATASET if named.pop(k, None) is not None]
    if dropped:
        print(f"keras2_habits: {call} ignores {', '.join(dropped)} (Keras 3 takes them on a keras.utils.PyDataset)")
    return named


def _fit_generator(self, generator, *args, **kwargs):
    """Keras 2's ``fit_generator``: Keras 3's ``fit`` takes generators and ``Sequence``/``PyDataset`` itself."""
    return self.fit(generator, **_keras3_kwargs(_FIT_GENERATOR_ORDER, args, kwargs, "fit_generator"))


def _evaluate_generator(self, generator, *args, **kwargs):
    """Keras 2's ``evaluate_generator``, as ``evaluate``."""
    return self.evaluate(generator, **_keras3_kwargs(_EVAL_GENERATOR_ORDER, args, kwargs, "evaluate_generator"))


def _predict_generator(self, generator, *args, **kwargs):
    """Keras 2's ``predict_generator``, as ``predict``."""
    return self.predict(generator, **_keras3_kwargs(_EVAL_GENERATOR_ORDER, args, kwargs, "predict_generator"))


# ---------------------------------------------------------------------- saving
def _folder_target(filepath, save_format=None):
    """The folder a Keras 2 SavedModel save meant, or ``None`` for a path Keras 3 saves itself."""
    if not isinstance(filepath, (str, os.PathLike)):
        return None  # a file object: Keras 3's own business
    path = Path(filepath)
    if save_format == "h5" or path.name.endswith(".weights.h5"):
        return None
    if path.suffix.lower() in _KERAS_ENDINGS and save_format != "tf":
        return None
    return path


def _save_into_folder(model, folder, overwrite=True, **kwargs):
    """Save ``model`` in ``folder`` as ``model.keras``; where that file names layer classes that are not Keras'
    own (a student's ``Block``, perhaps local to ``build_cnn``), also export a SavedModel beside it, as Keras 2's
    folder save held one: ``load_model(folder)`` falls back on it when the classes are not at hand."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / SAVED_NAME
    _remove_saved_model(folder)  # an earlier save's export must not outlive the model it was of
    try:
        _original(keras.Model, "save")(model, str(target), overwrite=overwrite, **kwargs)
    except NotImplementedError as error:  # a layer with constructor arguments Keras 3 cannot record, no get_config
        target.unlink(missing_ok=True)
        _export(model, folder)
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"keras2_habits: {folder} holds a SavedModel only ({reason}); load_model('{folder}') in this session "
              "gives the model back for prediction and attacks; give the layer a get_config to save it for "
              "training further")
        return folder
    foreign = _missing_classes(target, {})
    note = ""
    if foreign:
        try:
            _export(model, folder)
            note = (f"; it names {', '.join(foreign)}, not Keras' own, so a SavedModel export is saved beside it "
                    "(load_model reads it when those classes are not at hand)")
        except Exception as error:  # noqa: BLE001 - the .keras file is saved; the export is a fallback
            note = f"; the SavedModel export beside it failed ({type(error).__name__}: {error})"
    print(f"keras2_habits: Keras 3 writes no SavedModel folder for training; saved the model as {target} "
          f"(load_model('{folder}') reads it){note}")
    return target


def _remove_saved_model(folder):
    import shutil

    for name in ("saved_model.pb", "fingerprint.pb"):
        (folder / name).unlink(missing_ok=True)
    for name in ("variables", "assets"):
        if (folder / name).is_dir() and not (folder / name).is_symlink():
            shutil.rmtree(folder / name)
    _WRITTEN.pop(folder.resolve(), None)


def _export(model, folder):
    """``model.export(folder)`` (a SavedModel), remembered as written by this process (``trusted_saved_model``)."""
    _model_export(model, str(folder), verbose=False)


def _model_export(self, filepath, format="tf_saved_model", verbose=None, **kwargs):
    """``Model.export`` that remembers the SavedModel folders this process wrote (they load without
    ``safe_mode=False``)."""
    _original(keras.Model, "export")(self, filepath, format=format, verbose=verbose, **kwargs)
    if format == "tf_saved_model" and (Path(filepath) / "saved_model.pb").is_file():
        _WRITTEN[Path(filepath).resolve()] = _fingerprint(filepath)


# SavedModel folders this process wrote: resolved path -> sha256 of saved_model.pb (the graph: what would run)
_WRITTEN = {}


def _fingerprint(folder):
    import hashlib

    return hashlib.sha256((Path(folder) / "saved_model.pb").read_bytes()).hexdigest()


def trusted_saved_model(folder):
    """Whether ``folder``'s SavedModel is one this process wrote (``model.save``/``model.export`` under the habits)
    and unchanged since: a SavedModel graph can hold file and system operations, so others load only with
    ``load_model(folder, safe_mode=False)``."""
    folder = Path(folder).resolve()
    return folder in _WRITTEN and (folder / "saved_model.pb").is_file() and _WRITTEN[folder] == _fingerprint(folder)


def _model_save(self, filepath, overwrite=True, zipped=None, **kwargs):
    """``Model.save`` that also takes Keras 2's folder paths and ``save_format``."""
    save_format = kwargs.pop("save_format", None)
    kwargs.pop("include_optimizer", None)  # Keras 3 always keeps the optimizer in .keras files
    folder = _folder_target(filepath, save_format)
    if folder is not None:
        return _save_into_folder(self, folder, overwrite=overwrite, **kwargs)
    if save_format == "h5" and not str(filepath).lower().endswith((".h5", ".hdf5")):
        filepath = str(filepath) + ".h5"
    return _original(keras.Model, "save")(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)


def _save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """``keras.models.save_model`` with the same folder handling as ``Model.save``."""
    return _model_save(model, filepath, overwrite=overwrite, zipped=zipped, **kwargs)


# --------------------------------------------------------------------- loading
def _load_model(filepath, custom_objects=None, compile=True, safe_mode=True, **kwargs):
    """``load_model`` that also takes a folder: one saved by ``keras2_habits`` or a SavedModel.

    A ``.keras``/``.h5`` file is checked first (``model_files.check_model_file``: no ``Lambda``, nothing unknown);
    the student's own layer classes it names are taken from the notebook's namespace (``session_classes``), as
    Keras 2 revived such a model without them. Where they cannot be found (a class local to ``build_cnn``), the
    folder's SavedModel export is read instead, if this process wrote it or ``safe_mode=False`` says it is
    trusted; otherwise the refusal names the class and the fixes. Nothing is run from a file to decide this."""
    load = _original(keras.models, "load_model")
    path = Path(filepath) if isinstance(filepath, (str, os.PathLike)) else None
    export_beside = False  # a folder holding model.keras and the SavedModel export of the same model
    if path is not None and path.is_dir():
        saved_model = (path / "saved_model.pb").is_file()
        if not (path / SAVED_NAME).is_file():
            if saved_model:
                return _load_saved_model(path, safe_mode)
            raise FileNotFoundError(f"{path} is a folder with neither {SAVED_NAME} (what model.save('{path}') "
                                    "writes under keras2_habits) nor saved_model.pb (a SavedModel): give the folder "
                                    "the model was saved to, or the .keras/.h5 file itself")
        path, export_beside = path / SAVED_NAME, saved_model
    if path is not None and path.suffix.lower() in _KERAS_ENDINGS and path.is_file():
        custom_objects = {**session_classes(path), **(custom_objects or {})}
        missing = _missing_classes(path, custom_objects) if export_beside else []
        if missing:
            return _load_saved_model(path.parent, safe_mode, because=missing)
        if safe_mode:
            check_model_file(path, custom_objects)
        filepath = str(path)
    return load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode, **kwargs)


def _missing_classes(path, custom_objects):
    """The classes ``path`` names that are neither Keras' own nor supplied (read from its stored JSON only)."""
    return sorted({obj.class_name for obj in named_objects(stored_config(path))
                   if refusal(obj, custom_objects) == "unknown"})


def _load_saved_model(folder, safe_mode, because=None):
    """The folder's SavedModel for prediction and attacks, if this process wrote it or the caller trusts it."""
    if safe_mode and not trusted_saved_model(folder):
        if because:
            names = ", ".join(because)
            first = because[0]
            raise UnsafeModelFile(
                f"{folder / SAVED_NAME} names {names}, which is neither part of Keras nor supplied by you (a class "
                f"defined inside a method, e.g. build_cnn, cannot be found by name). Define {first} at the top "
                f"level of a cell, with a get_config if its constructor takes arguments, and load with "
                f"load_model('{folder}', custom_objects={{'{first}': {first}}}); or, if you saved this folder "
                f"yourself, load_model('{folder}', safe_mode=False) reads the SavedModel saved beside it "
                "(prediction and attacks only)")
        raise UnsafeModelFile(
            f"{folder} is a SavedModel this session did not write: its graph can hold file and system operations "
            f"that run when it is called. If you made it yourself or trust its author, load it with "
            f"load_model('{folder}', safe_mode=False)")
    if because:
        print(f"keras2_habits: {folder / SAVED_NAME} names {', '.join(because)}, which this session cannot rebuild "
              "(not at hand by name); reading the SavedModel saved beside it instead")
    model = load_saved_model_folder(folder)
    _compile_as_saved(model, folder / SAVED_NAME)
    return model


def _compile_as_saved(model, keras_file):
    """Compile a SavedModel-backed model with the loss and metrics ``keras_file`` was compiled with (as Keras 2's
    reload was), so that ``evaluate`` works; only Keras' own losses, metrics and optimizers are rebuilt."""
    import json
    import zipfile

    if not keras_file.is_file():
        return
    with zipfile.ZipFile(keras_file) as archive:
        compile_config = json.loads(archive.read("config.json")).get("compile_config")
    if not isinstance(compile_config, dict) or any(refusal(obj) for obj in named_objects(compile_config)):
        return
    settings = {key: compile_config.get(key) for key in ("optimizer", "loss", "metrics", "loss_weights",
                                                          "weighted_metrics")}
    settings = {k: keras.saving.deserialize_keras_object(v) if isinstance(v, dict) else v
                for k, v in settings.items() if v is not None}
    model.compile(**settings)


def session_classes(path):
    """The classes the model file ``path`` names that Keras cannot find, taken from the notebook's own namespace
    (``__main__``: the cells a student ran): Keras layers and models defined there, nothing from any other module."""
    import __main__
    import inspect

    found = {}
    for obj in named_objects(stored_config(path)):
        if refusal(obj) != "unknown":
            continue
        candidate = vars(__main__).get(obj.class_name)
        if (inspect.isclass(candidate) and issubclass(candidate, (keras.layers.Layer, keras.Model))
                and candidate.__module__ == "__main__"):
            found[obj.class_name] = candidate
            if obj.registered_name:
                found[obj.registered_name] = candidate
    return found


def load_saved_model_folder(path):
    """A Keras model over a SavedModel folder's serving function: predicts and passes gradients to its
    inputs (attacks work), holds no training step (``trainable`` is off)."""
    path = Path(path)
    loaded = tf.saved_model.load(str(path))
    endpoint = "serving_default" if "serving_default" in loaded.signatures else next(iter(loaded.signatures), None)
    if endpoint is None:
        raise ValueError(f"the SavedModel in {path} has no serving signature to call; re-save the model "
                         "as a .keras file where it was trained")
    _, spec = loaded.signatures[endpoint].structured_input_signature
    if len(spec) != 1:
        raise ValueError(f"the SavedModel in {path} takes {len(spec)} inputs ({sorted(spec)}); only one-input "
                         "classifiers are supported")
    (input_spec,) = spec.values()
    layer = keras.layers.TFSMLayer(str(path), call_endpoint=endpoint, trainable=False)
    inputs = keras.Input(tuple(input_spec.shape[1:]), dtype=input_spec.dtype.name, name="image")
    outputs = layer(inputs)
    if isinstance(outputs, dict):
        if len(outputs) != 1:
            raise ValueError(f"the SavedModel in {path} has {len(outputs)} outputs ({sorted(outputs)}); "
                             "only one-output classifiers are supported")
        (outputs,) = outputs.values()
    print(f"keras2_habits: loaded the SavedModel {path} for prediction and attacks only (a serving graph has no "
          "training step); save models as .keras to train them further")
    return keras.Model(inputs, outputs, name=path.name)
