"""Safe loading: the stored config is checked before Keras deserialises anything, with the same refusal on every
supported Keras (the stack matrix runs these on Keras 3.10, whose own safe_mode ignores .h5 files)."""
import json
import os

import h5py
import keras
import numpy as np
import pytest

import models as course
from coursekit.keras2_habits import keras2_habits
from coursekit.nets.architectures import default_cnn, residual_cnn
from coursekit.nets.model_files import NamedObject, UnsafeModelFile, check_model_file, refusal, stored_config
from coursekit.nets.saving import load_h5, save_h5
from coursekit.nets.small_nets import cifar_convnet, imagenette_cnn, mnist_cnn


def _marker_lambda_model(marker):
    """A model whose Lambda writes ``marker`` whenever its code runs (building, calling or deserialising it)."""
    path = str(marker)
    inputs = keras.Input((4,))
    outputs = keras.layers.Lambda(lambda t: (open(path, "w").write("ran"), t)[1], name="payload")(inputs)
    return keras.Model(inputs, outputs)


def _plain_keras_save(model, path):
    model.save(str(path))
    return path


def _edit_h5_config(path, edit):
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        edit(config)
        f.attrs["model_config"] = json.dumps(config)


def _dense_model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(2, activation="relu", name="dense")(inputs))


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_a_lambda_that_would_write_a_file_is_refused_and_never_runs(tmp_path, suffix):
    marker = tmp_path / "MARKER"
    path = _plain_keras_save(_marker_lambda_model(marker), tmp_path / f"evil{suffix}")
    marker.unlink()  # building the model ran it once; from here on nothing may
    for load in (load_h5, lambda p: course.DefaultModel(name="net").load(p), check_model_file):
        with pytest.raises(UnsafeModelFile, match=r"refused before loading: it holds a Lambda layer "
                                                  r"\(layer 'payload'\).*safe_mode=False"):
            load(path)
    assert not marker.exists()


def test_the_grading_kits_loader_refuses_the_lambda_too(tmp_path):
    from coursekit.grading.fit3181 import _load_safely

    marker = tmp_path / "MARKER"
    path = _plain_keras_save(_marker_lambda_model(marker), tmp_path / "evil.h5")
    marker.unlink()
    with pytest.raises(UnsafeModelFile, match="Lambda layer"):
        _load_safely(path)
    assert not marker.exists()


def test_keras2_habits_load_model_refuses_the_lambda_in_a_folder(tmp_path):
    marker = tmp_path / "MARKER"
    model = _marker_lambda_model(marker)
    keras2_habits()
    try:
        model.save(str(tmp_path / "models" / "robust_model"))
        marker.unlink()
        with pytest.raises(UnsafeModelFile, match="Lambda layer"):
            keras.models.load_model(str(tmp_path / "models" / "robust_model"))
    finally:
        keras2_habits(False)
    assert not marker.exists()


@pytest.mark.parametrize("stored", [
    {"module": "os", "class_name": "function", "config": "system", "registered_name": "function"},
    {"module": "keras.src.utils.file_utils", "class_name": "function", "config": "rmtree",
     "registered_name": "function"},
    {"module": "builtins", "class_name": "function", "config": "exec", "registered_name": "function"},
])
def test_a_config_naming_a_function_outside_keras_is_refused_by_name(tmp_path, stored):
    path = save_h5(_dense_model(), tmp_path / "net.h5")

    def plant(config):
        config["config"]["layers"][1]["config"]["activation"] = stored
    _edit_h5_config(path, plant)
    qualified = f"{stored['module']}.{stored['config']}"
    with pytest.raises(UnsafeModelFile, match=rf"names {qualified} \(layer 'dense'\), which is neither part of "
                                              rf"Keras.*custom_objects=\{{'{stored['config']}'"):
        load_h5(path)


def test_a_layer_class_from_another_module_is_refused(tmp_path):
    path = save_h5(_dense_model(), tmp_path / "net.h5")

    def plant(config):
        layer = config["config"]["layers"][1]
        layer["class_name"], layer["module"] = "Popen", "subprocess"
    _edit_h5_config(path, plant)
    with pytest.raises(UnsafeModelFile, match=r"names subprocess\.Popen"):
        load_h5(path)


def test_code_or_file_loading_layers_are_refused_before_keras():
    assert refusal(NamedObject("TFSMLayer", "keras.layers", None, None, "layer 'x'")) == "external"
    vocab_file = NamedObject("StringLookup", "keras.layers", None, None, "layer 'x'", vocabulary_file=True)
    assert refusal(vocab_file) == "external"
    assert refusal(NamedObject("StringLookup", "keras.layers", None, None, "layer 'x'")) is None
    assert refusal(NamedObject("__lambda__", None, None, None, "model")) == "lambda"
    assert refusal(NamedObject("__keras_tensor__", None, None, None, "model")) is None
    assert refusal(NamedObject("__made_up__", None, None, None, "model")) == "unknown"


class Scale(keras.layers.Layer):
    """An unregistered layer of a student's own."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_a_class_the_caller_hands_over_loads_and_one_it_does_not_is_named(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, Scale(3.0, name="scale")(inputs))
    path = save_h5(model, tmp_path / "scale.keras")
    with pytest.raises(UnsafeModelFile, match=r"names .*Scale \(layer 'scale'\).*custom_objects=\{'Scale': Scale\}"):
        load_h5(path)
    loaded = load_h5(path, custom_objects={"Scale": Scale})
    assert loaded.predict(np.ones((1, 4)), verbose=0)[0, 0] == 3.0


def test_the_projects_own_networks_and_keras_ops_pass_the_check(tmp_path):
    inputs = keras.Input((6,))
    sliced = keras.ops.concatenate([inputs[:, :2], keras.ops.square(inputs[:, 2:])], axis=-1)  # operation classes
    nets = [default_cnn(16, 16, 3, num_classes=3), residual_cnn(16, 16, 3, num_blocks=2, num_classes=3),
            imagenette_cnn(32, (8, 16)), mnist_cnn(), cifar_convnet(), keras.Model(inputs, sliced)]
    for i, net in enumerate(nets):
        for suffix in (".h5", ".keras") if i < len(nets) - 1 else (".keras",):  # ops: Keras' .h5 cannot
            path = save_h5(net, tmp_path / f"net{i}{suffix}")
            check_model_file(path)
            assert load_h5(path).count_params() == net.count_params()


def test_stored_config_names_a_weights_only_file(tmp_path):
    model = _dense_model()
    model.save_weights(tmp_path / "w.weights.h5")
    renamed = tmp_path / "w.h5"
    os.replace(tmp_path / "w.weights.h5", renamed)
    with pytest.raises(UnsafeModelFile, match=r"w\.h5 holds no model config.*load_weights"):
        stored_config(renamed)


def _notebook(tmp_path, *args):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "own_layer_notebook.py"
    return subprocess.run([sys.executable, str(script), str(tmp_path), *args], capture_output=True, text=True,
                          timeout=300, cwd=script.parents[1])


def test_a_2022_notebooks_own_layer_class_reloads_from_its_folder(tmp_path):
    done = _notebook(tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "max difference 0.0" in done.stdout


def test_a_class_the_notebook_does_not_define_is_still_refused_by_name(tmp_path):
    done = _notebook(tmp_path, "unknown")
    assert done.returncode != 0
    assert "refused before loading: it names Block (layer 'block')" in done.stderr


def test_classes_are_taken_from_the_notebook_only(tmp_path, monkeypatch):
    """A class of the same name in any other module (here this test module, imported) is never used."""
    import __main__

    from coursekit.keras2_habits import session_classes

    inputs = keras.Input((4,))
    path = save_h5(keras.Model(inputs, Scale(name="scale")(inputs)), tmp_path / "scale.keras")
    assert session_classes(path) == {}  # Scale lives in this test module, not in __main__
    monkeypatch.setattr(__main__, "Scale", Scale, raising=False)
    assert session_classes(path) == {}  # ... even when __main__ holds it: its __module__ is not __main__
    own = type("Scale", (Scale,), {"__module__": "__main__"})
    monkeypatch.setattr(__main__, "Scale", own)
    assert session_classes(path)["Scale"] is own
