"""One test per private Keras/KerasTuner hook in ``coursekit.keras_compat``: after an upgrade these fail first,
each naming the hook that broke."""
import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from coursekit import keras_compat as kc


def _dense_softmax_model():
    inputs = keras.Input((4,))
    scores = layers.Dense(3, name="scores")(inputs)
    return keras.Model(inputs, layers.Activation("softmax", name="probs")(scores))


def test_unscale_loss_for_distribution_is_the_identity_on_one_device():
    assert float(kc.unscale_loss_for_distribution(tf.constant(2.5))) == 2.5


def test_declared_input_shape_of_a_keras2_style_first_layer():
    with pytest.warns(UserWarning):  # Keras 3 discourages input_shape= (students still write it)
        conv = layers.Conv2D(4, 3, input_shape=(16, 16, 3))
    keras.Sequential([conv])
    assert kc.declared_input_shape(conv) == (16, 16, 3)
    assert kc.declared_input_shape(layers.Dense(2)) is None


def test_output_layer_input_is_this_graphs_tensor_for_a_shared_layer():
    model = _dense_softmax_model()
    assert kc.output_layer_input(model) is model.get_layer("scores").output
    rechained_in = keras.Input((4,))   # the same layers called again on a new input (as_functional does this)
    scores = model.get_layer("scores")(rechained_in)
    rechained = keras.Model(rechained_in, model.get_layer("probs")(scores))
    assert kc.output_layer_input(rechained) is scores


def test_all_layers_reaches_nested_models_and_layers_held_by_a_custom_layer():
    class Holder(layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = layers.Dense(2, name="held")

        def call(self, x):
            return self.inner(x)

    inner = keras.Sequential([layers.Dense(3, name="nested")], name="inner")
    inputs = keras.Input((4,))
    model = keras.Model(inputs, Holder()(inner(inputs)))
    names = {layer.name for layer in kc.all_layers(model)}
    assert {"nested", "held", "inner"} <= names and model.name not in names
    assert model in kc.all_layers(model, include_self=True)
    assert kc.all_layers(object()) == []


def test_seed_generator_states_of_random_layers():
    model = keras.Sequential([keras.Input((4, 4, 1)), layers.Dropout(0.5, seed=1), layers.RandomFlip(seed=2)])
    states = kc.seed_generator_states(model)
    assert len(states) == 2 and all(isinstance(s, keras.Variable) for s in states)
    before = [np.asarray(s).copy() for s in states]
    model(np.ones((2, 4, 4, 1), np.float32), training=True)   # drawing advances the state
    assert any(not np.array_equal(b, np.asarray(s)) for b, s in zip(before, states))


def test_distribute_strategy_of_a_model():
    assert kc.distribute_strategy_of(_dense_softmax_model()) is None
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        model = _dense_softmax_model()
    assert kc.distribute_strategy_of(model) is strategy


def test_in_multi_worker_mode():
    assert kc.in_multi_worker_mode(None) is False
    assert kc.in_multi_worker_mode(tf.distribute.MirroredStrategy(["/cpu:0"])) is False


def test_build_from_example_batch_overrides_the_hook_keras_calls():
    hook = keras.Model._maybe_symbolic_build   # renamed or re-signed in Keras: the override would be dead code
    assert list(inspect.signature(hook).parameters) == ["self", "iterator", "data_batch"]
    assert "data_batch" in inspect.signature(keras.Model._symbolic_build).parameters

    class Net(kc.BuildFromExampleBatch):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        net = Net()
        net.compile(optimizer="sgd", loss="mse")
    net.example_batch = (np.ones((1, 3), np.float32), np.ones((1, 2), np.float32))
    net._maybe_symbolic_build()
    assert net.built and net.dense.kernel.shape == (3, 2)


def test_backup_and_restore_reads_the_state_it_is_pointed_at(tmp_path):
    model = _dense_softmax_model()
    model.compile(optimizer="sgd", loss="mse")
    model.save_weights(str(tmp_path / "w.weights.h5"))
    (tmp_path / "meta.json").write_text('{"epoch": 4, "batch": 0}')
    want = [w.copy() for w in model.get_weights()]
    for w in model.weights:
        w.assign(np.zeros(w.shape))
    callback = kc.BackupAndRestoreAt(str(tmp_path / "unused"))
    callback.set_model(model)
    assert callback.restore_from(tmp_path / "w.weights.h5", tmp_path / "meta.json") == 4  # fit starts there
    for got, expected in zip(model.get_weights(), want):
        np.testing.assert_array_equal(got, expected)
    callback.current_epoch = 6
    assert callback.current_epoch == 6


def test_keras_tuner_distribute_utils():
    utils = kc.keras_tuner_distribute_utils()
    assert utils.has_chief_oracle() is False and callable(utils.is_chief_oracle)


# ------------------------------------------------------------------------------ files that cross Keras versions
def test_the_added_arguments_table_holds_the_running_keras_defaults():
    """Where the running Keras has an argument of ``ADDED_AFTER_OLDEST``, its default is the table's (so dropping it
    from a file changes nothing); on an older Keras the argument is missing, which is the reason for the table."""
    checked = 0
    for class_name, defaults in kc.ADDED_AFTER_OLDEST.items():
        cls = getattr(keras.layers, class_name, None) or getattr(keras.initializers, class_name)
        parameters = inspect.signature(cls.__init__).parameters
        for argument, default in defaults.items():
            if argument in parameters:
                assert parameters[argument].default == default, f"{class_name}.{argument}"
                checked += 1
            else:
                assert kc.running_keras_refuses([f"{class_name}.{argument}"]) == [f"{class_name}.{argument}"]
    assert checked or keras.__version__.startswith("3.10")


def test_portable_config_drops_added_arguments_only_at_their_defaults():
    stored = {"class_name": "Functional", "config": {"layers": [
        {"class_name": "BatchNormalization", "config": {"name": "bn", "renorm": False, "renorm_momentum": 0.99,
                                                        "renorm_clipping": None, "momentum": 0.9}},
        {"class_name": "BatchNormalization", "config": {"name": "bn2", "renorm": True}},
        {"class_name": "Conv2D", "config": {"name": "c", "kernel_initializer": {
            "module": "keras.initializers", "class_name": "GlorotUniform",
            "config": {"seed": None, "input_axes": None, "output_axes": [0]}}}},
    ]}}
    portable, dropped = kc.portable_config(stored)
    layers_ = portable["config"]["layers"]
    assert layers_[0]["config"] == {"name": "bn", "momentum": 0.9}
    assert layers_[1]["config"] == {"name": "bn2", "renorm": True}  # not the default: an old Keras must refuse it
    assert layers_[2]["config"]["kernel_initializer"]["config"] == {"seed": None, "output_axes": [0]}
    assert sorted(dropped) == ["BatchNormalization.renorm", "BatchNormalization.renorm_clipping",
                               "BatchNormalization.renorm_momentum", "GlorotUniform.input_axes"]
    assert stored["config"]["layers"][0]["config"]["renorm"] is False  # the input is left as it was


def test_a_saved_file_holds_no_added_argument_at_its_default(tmp_path):
    from coursekit.nets.architectures import residual_cnn
    from coursekit.nets.model_files import stored_config
    from coursekit.nets.saving import load_h5, save_h5

    net = residual_cnn(16, 16, 3, num_blocks=2, num_classes=3)
    path = save_h5(net, tmp_path / "net.h5")
    assert kc.portable_config(stored_config(path))[1] == []
    x = np.random.default_rng(0).random((2, 16, 16, 3), dtype=np.float32)
    np.testing.assert_array_equal(load_h5(path).predict(x, verbose=0), net.predict(x, verbose=0))


def test_a_stored_config_names_layers_under_the_modules_the_hook_lists():
    import json

    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(3, name="scores")(inputs[:, :2]))
    stored = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    modules = {layer["module"] for layer in stored["config"]["layers"]}
    assert any(m.startswith(kc.STORED_LAYER_MODULES) for m in modules)
    assert kc.STORED_LAYER_MODULES[0] == "keras.layers"  # the public spelling stays first


def test_a_functional_slice_is_a_loaded_keras_operation_and_a_stranger_is_not():
    import json

    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(3)(inputs[:, :2]))
    stored = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    ops = [(layer["module"], layer["class_name"]) for layer in stored["config"]["layers"]
           if layer["class_name"] == "GetItem"]
    assert ops and all(kc.is_loaded_keras_operation(m, c) for m, c in ops)
    assert not kc.is_loaded_keras_operation("os", "system")
    assert not kc.is_loaded_keras_operation("not.a.loaded.module", "GetItem")
