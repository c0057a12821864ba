"""2022 students' habits, in code written for these tests (not copied from anyone): ``feature_maps`` as the
template's list, float64 data with tutorial-style attacks, one-hot labels, and the Keras 2 calls that
``models.keras2_habits()`` restores. Each network trains, is attacked, saved and reloaded."""
import contextlib
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers, models

import models as course
from coursekit.keras2_habits import is_enabled as keras2_enabled
from coursekit.nets.architectures import FeatureMaps
from models import DefaultModel, YourModel


@pytest.fixture
def keras2():
    course.keras2_habits()
    yield
    course.keras2_habits(False)


@pytest.fixture(scope="module")
def manager64(blobs_manager):
    """The blobs as the template's manager hands them out: float64 images."""
    from tests.conftest import ArrayDataManager
    b = blobs_manager
    return ArrayDataManager(b.X_train.astype(np.float64), b.y_train, b.X_valid.astype(np.float64), b.y_valid,
                            b.X_test.astype(np.float64), b.y_test, b.classes)


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras' input_shape= deprecation notice
        yield


# ------------------------------------------------------------------ feature_maps as the template's list
class SequentialBlocks(YourModel):
    """Keras-2 Sequential: feature_maps[0] for the stem, feature_maps[i] per block, softmax, own compile."""

    def build_cnn(self):
        self.model = models.Sequential()
        self.model.add(layers.Conv2D(self.feature_maps[0], (3, 3), padding="same",
                                     input_shape=(self.height, self.width, self.depth)))
        for i in range(self.num_blocks):
            self.model.add(layers.Conv2D(self.feature_maps[i], (3, 3), padding="same"))
            if self.batch_norm:
                self.model.add(layers.BatchNormalization())
            self.model.add(layers.Activation(self.activation_func))
            self.model.add(layers.AveragePooling2D(pool_size=(2, 2), strides=(2, 2), padding="same"))
            if self.drop_rate > 0:
                self.model.add(layers.Dropout(self.drop_rate))
        self.model.add(layers.Flatten())
        self.model.add(layers.Dense(self.num_classes, activation="softmax"))
        self.model.compile(optimizer=self.optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])


class FunctionalAdd(YourModel):
    """Functional, with a projected shortcut joined by Add and feature_maps[i] per block."""

    def build_cnn(self):
        inputs = layers.Input(shape=(self.height, self.width, self.depth))
        x = inputs
        for i in range(self.num_blocks):
            shortcut = layers.Conv2D(self.feature_maps[i], (1, 1), padding="same")(x)
            x = layers.Conv2D(self.feature_maps[i], (3, 3), padding="same")(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation(self.activation_func)(x)
            x = layers.Conv2D(self.feature_maps[i], (3, 3), padding="same")(x)
            x = layers.BatchNormalization()(x)
            if self.use_skip:
                x = layers.Add()([x, shortcut])
            x = layers.Activation(self.activation_func)(x)
            x = layers.AveragePooling2D(pool_size=(2, 2), padding="same")(x)
            x = layers.Dropout(self.drop_rate)(x)
        outputs = layers.Dense(self.num_classes, activation="softmax")(layers.Flatten()(x))
        self.model = models.Model(inputs=inputs, outputs=outputs)
        self.model.compile(optimizer=self.optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])


@keras.saving.register_keras_serializable(package="tests_2022")
class ResidualBlock(layers.Layer):
    """A student's own block layer: [conv, BN, act, conv, BN, (+ skip), act, avg-pool]."""

    def __init__(self, filters, use_skip=True, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.use_skip, self.activation = filters, use_skip, activation
        self.conv1 = layers.Conv2D(filters, 3, padding="same")
        self.bn1 = layers.BatchNormalization()
        self.conv2 = layers.Conv2D(filters, 3, padding="same")
        self.bn2 = layers.BatchNormalization()
        self.project = layers.Conv2D(filters, 1, padding="same")
        self.act = layers.Activation(activation)
        self.pool = layers.AveragePooling2D(pool_size=(2, 2), padding="same")

    def call(self, x, training=False):
        h = self.act(self.bn1(self.conv1(x), training=training))
        h = self.bn2(self.conv2(h), training=training)
        if self.use_skip:
            h = h + self.project(x)
        return self.pool(self.act(h))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "use_skip": self.use_skip,
                "activation": self.activation}


class LayerBlocks(YourModel):
    """A custom Layer block per feature_maps[i], inside a Keras-2 Sequential."""

    def build_cnn(self):
        self.model = models.Sequential()
        self.model.add(layers.InputLayer(input_shape=(self.height, self.width, self.depth)))
        for i in range(self.num_blocks):
            self.model.add(ResidualBlock(self.feature_maps[i], self.use_skip, self.activation_func))
        self.model.add(layers.Flatten())
        self.model.add(layers.Dense(self.num_classes, activation="softmax"))


STYLES = [SequentialBlocks, FunctionalAdd, LayerBlocks]


def _make(cls, **kw):
    params = dict(name=cls.__name__.lower(), width=16, height=16, num_classes=3, num_blocks=2, feature_maps=8,
                  drop_rate=0.1, batch_norm=True, optimizer="adam", learning_rate=1e-2, batch_size=16,
                  num_epochs=1, verbose=False, patience=None)
    params.update(kw)
    return cls(**params)


def test_feature_maps_is_the_templates_list_and_still_the_int():
    net = YourModel(num_blocks=3, feature_maps=32)
    fm = net.feature_maps
    assert fm[0] == 32 and fm[1] == 64 and fm[2] == 128 and fm[-1] == 128 and fm[:2] == [32, 64]
    assert list(fm) == [32, 64, 128] and len(fm) == 3
    assert fm == [32 * (1 << i) for i in range(3)][0]  # the template's list, item 0
    assert fm * 2 == 64 and fm + 1 == 33 and f"fm{fm}" == "fm32" and str(fm) == "32" and int(fm) == 32
    net.num_blocks = 2
    assert list(net.feature_maps) == [32, 64]  # follows num_blocks
    net.feature_maps = [8, 24]  # a student's own widths, one per block
    assert list(net.feature_maps) == [8, 24] and net.feature_maps == 8
    net.build_cnn()
    widths = [layer.filters for layer in net.model.layers if layer.name.endswith("conv1")]
    assert widths == [8, 24]
    assert list(FeatureMaps.per_block(FeatureMaps([4, 8]), 5)) == [4, 8]
    for bad in (0, 2.5, "x", [3, 0], []):
        with pytest.raises(ValueError, match="feature_maps must be"):
            YourModel(feature_maps=bad)


def test_the_librarys_own_network_reads_the_same_widths():
    net = YourModel(num_blocks=3, feature_maps=16, width=16, height=16, num_classes=3)
    net.build_cnn()
    assert [layer.filters for layer in net.model.layers if layer.name.endswith("conv1")] == list(net.feature_maps)
    assert [layer.filters for layer in net.model.layers if layer.name.endswith("conv1")] == [16, 32, 64]
    with pytest.raises(ValueError, match="2 widths"):
        course.residual_cnn(16, 16, 3, num_blocks=3, feature_maps=[8, 16])


@pytest.mark.parametrize("cls", STYLES, ids=lambda c: c.__name__)
def test_a_2022_network_built_from_feature_maps_trains_predicts_saves_and_is_attacked(cls, manager64, tmp_path):
    net = _make(cls)
    with _quiet():
        net.build_cnn()
        before = [w.copy() for w in net.model.get_weights()]
        net.fit(manager64, batch_size=32, num_epochs=1)
    assert np.isfinite(net.history.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(before, net.model.get_weights()))
    X, y = manager64.X_test, manager64.y_test
    probs = net.predict_proba(X)
    assert probs.shape == (len(X), 3)
    assert 0 <= net.compute_accuracy(X, y) <= 1
    path = net.save(tmp_path / "net.h5")
    again = _make(cls)
    again.load(path)
    np.testing.assert_allclose(again.predict_proba(X), probs, atol=1e-5)
    for attack in (course.fgsm, course.pgd, course.mim):
        x_adv = attack(net.model, X, y, eps=0.05)
        assert x_adv.dtype == np.float64 and np.abs(x_adv - X).max() <= 0.05 + 1e-12
        assert x_adv.min() >= -1 and x_adv.max() <= 1


# --------------------------------------------------------------------- float64 data, tutorial attacks
def fgsm_attack(model, input_image, input_label, epsilon=0.0313, clip_value_min=-1.0, clip_value_max=1.0):
    """As the tutorial writes it: one signed step on the sparse cross-entropy of the softmax."""
    x_adv = tf.identity(input_image)
    with tf.GradientTape() as tape:
        tape.watch(x_adv)
        loss = keras.losses.sparse_categorical_crossentropy(input_label, model(x_adv))
    gradient = tape.gradient(loss, x_adv)
    return tf.clip_by_value(x_adv + epsilon * tf.sign(gradient), clip_value_min, clip_value_max)


def pgd_attack(model, input_image, input_label, epsilon=0.0313, num_steps=5, step_size=0.01, clip_value_min=-1.0,
               clip_value_max=1.0):
    """The tutorial's PGD: float64 uniform noise added to the images, then projected signed steps."""
    random_noise = tf.random.uniform(shape=input_image.shape, minval=-epsilon, maxval=epsilon, dtype=tf.float64)
    x_adv = tf.identity(input_image) + random_noise
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            tape.watch(x_adv)
            loss = keras.losses.sparse_categorical_crossentropy(input_label, model(x_adv))
        x_adv = x_adv + step_size * tf.sign(tape.gradient(loss, x_adv))
        x_adv = tf.clip_by_value(x_adv, input_image - epsilon, input_image + epsilon)
        x_adv = tf.clip_by_value(x_adv, clip_value_min, clip_value_max)
    return x_adv


def mim_attack(model, input_image, input_label, epsilon=0.0313, num_steps=5, step_size=0.01, decay=1.0):
    """MIM from a numpy-noised start (float64), momentum over L1-normalised gradients."""
    x_adv = input_image + np.random.default_rng(0).uniform(-epsilon, epsilon, input_image.shape)
    x_adv = tf.convert_to_tensor(x_adv)
    momentum = tf.zeros_like(x_adv)
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            tape.watch(x_adv)
            loss = keras.losses.sparse_categorical_crossentropy(input_label, model(x_adv))
        grad = tape.gradient(loss, x_adv)
        momentum = decay * momentum + grad / tf.reduce_sum(tf.abs(grad), axis=[1, 2, 3], keepdims=True)
        x_adv = tf.clip_by_value(x_adv + step_size * tf.sign(momentum), input_image - epsilon, input_image + epsilon)
        x_adv = tf.clip_by_value(x_adv, -1.0, 1.0)
    return x_adv


def test_the_data_manager_hands_out_the_templates_float64(digits_manager):
    assert digits_manager.X_train.dtype == np.float64 and digits_manager.X_test.dtype == np.float64


def test_tutorial_attacks_with_float64_noise_and_a_handwritten_adversarial_training_loop(digits_manager):
    """On the real loader's data: the tutorial adds tf.float64 noise to X_test (fails on float32 images)."""
    net = _make(SequentialBlocks, width=32, height=32, num_classes=10, feature_maps=8)
    with _quiet():
        net.build_cnn()
    X, y = digits_manager.X_test[:40], digits_manager.y_test[:40]
    eps = 0.05
    for attack in (fgsm_attack, pgd_attack, mim_attack):
        x_adv = np.asarray(attack(net.model, X, y, epsilon=eps))
        assert x_adv.dtype == np.float64 and np.abs(x_adv - X).max() <= eps + 1e-12
        assert x_adv.min() >= -1 and x_adv.max() <= 1 and np.abs(x_adv - X).max() > eps / 2

    model = net.model  # Madry et al.'s loop, written by hand on float64 batches
    optimizer = keras.optimizers.Adam(1e-3)
    before = [w.copy() for w in model.get_weights()]
    X_train, y_train = digits_manager.X_train, digits_manager.y_train
    losses = []
    for start in range(0, 96, 32):
        x_batch, y_batch = X_train[start:start + 32], y_train[start:start + 32]
        x_adv = pgd_attack(model, x_batch, y_batch, epsilon=eps, num_steps=3)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y_batch, model(x_adv, training=True)))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss))
    assert np.all(np.isfinite(losses))
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    x_adv = course.pgd(net, X, y, eps=eps, steps=3, step_size=0.02)  # the wrapper itself may be attacked
    assert x_adv.dtype == np.float64 and np.abs(x_adv - X).max() <= eps + 1e-12


# --------------------------------------------------------------------------------- one-hot labels
class OneHotStudent(SequentialBlocks):
    """categorical_crossentropy on to_categorical labels, with the Q3.5 skeleton's own fit."""

    def build_cnn(self):
        super().build_cnn()
        self.model.compile(optimizer=self.optimizer, loss="categorical_crossentropy", metrics=["accuracy"])

    def fit(self, data_manager, batch_size=None, num_epochs=None, is_augmentation=False):
        self.history = self.model.fit(
            data_manager.X_train, keras.utils.to_categorical(data_manager.y_train, self.num_classes),
            validation_data=(data_manager.X_valid, keras.utils.to_categorical(data_manager.y_valid,
                                                                               self.num_classes)),
            batch_size=batch_size or self.batch_size, epochs=num_epochs or self.num_epochs, verbose=0)


def test_one_hot_labels_in_accuracy_plots_attacks_and_training(manager64, tmp_path):
    net = _make(OneHotStudent)
    with _quiet():
        net.build_cnn()
    net.fit(manager64, batch_size=32, num_epochs=1)
    X, y = manager64.X_test, manager64.y_test
    onehot = keras.utils.to_categorical(y, 3)
    acc = net.compute_accuracy(X, onehot)
    assert acc == net.compute_accuracy(X, y) == float(np.mean(net.predict(X) == y))
    _, metric = net.model.evaluate(X, onehot, verbose=0)  # what the template's compute_accuracy returned
    assert acc == pytest.approx(metric, abs=1e-6)
    net.plot_prediction(X, onehot, manager64.classes, save_path=tmp_path / "pred.png")
    assert (tmp_path / "pred.png").stat().st_size > 0
    x_adv = course.fgsm(net.model, X, onehot, eps=0.05)
    np.testing.assert_array_equal(x_adv, course.fgsm(net.model, X, y, eps=0.05))

    library = _make(YourModel)  # the library's own fit on a data manager holding one-hot labels
    from tests.conftest import ArrayDataManager
    hot = ArrayDataManager(manager64.X_train, keras.utils.to_categorical(manager64.y_train, 3),
                           manager64.X_valid, keras.utils.to_categorical(manager64.y_valid, 3), X, onehot,
                           manager64.classes)
    library.fit(hot)
    assert np.isfinite(library.history.history["loss"][0])
    with pytest.raises(ValueError, match="one-hot labels need|integer class ids"):
        net.compute_accuracy(X, np.zeros((len(X), 2, 2)))


# ----------------------------------------------------------------------- Keras 2 calls, opted into
def test_nothing_changes_until_keras2_habits_is_called():
    assert not hasattr(keras.Model, "fit_generator")
    net = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="Invalid filepath extension"):
        net.save("best_model")
    course.keras2_habits()
    try:
        assert hasattr(keras.Model, "fit_generator") and keras2_enabled()
    finally:
        course.keras2_habits(False)
    assert not hasattr(keras.Model, "fit_generator") and not keras2_enabled()
    from keras.models import load_model
    assert load_model.__module__.startswith("keras")


class GeneratorStudent(SequentialBlocks):
    """The Q3.5 skeleton with ImageDataGenerator().flow and Keras 2's fit_generator (positional steps)."""

    def fit(self, data_manager, batch_size=None, num_epochs=None, is_augmentation=False):
        from keras.preprocessing.image import ImageDataGenerator  # ImportError in Keras 3 without the opt-in
        batch_size = batch_size or self.batch_size
        datagen = ImageDataGenerator(horizontal_flip=True, width_shift_range=0.1, height_shift_range=0.1)
        flow = datagen.flow(data_manager.X_train, data_manager.y_train, batch_size=batch_size, seed=0)
        early = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=3, restore_best_weights=True)
        self.history = self.model.fit_generator(flow, len(data_manager.X_train) // batch_size,
                                                num_epochs or self.num_epochs, 0, [early],
                                                (data_manager.X_valid, data_manager.y_valid),
                                                max_queue_size=10, workers=4, use_multiprocessing=False)


def test_fit_generator_with_image_data_generator(keras2, manager64, capsys):
    net = _make(GeneratorStudent)
    with _quiet():
        net.build_cnn()
        before = [w.copy() for w in net.model.get_weights()]
        net.fit(manager64, batch_size=32, num_epochs=2)
    assert len(net.history.history["loss"]) == 2 and "val_accuracy" in net.history.history
    assert any(not np.allclose(a, b) for a, b in zip(before, net.model.get_weights()))
    assert "ignores max_queue_size, workers" in capsys.readouterr().out
    X, y = manager64.X_test, manager64.y_test
    loss, acc = net.model.evaluate_generator(
        keras.preprocessing.image.ImageDataGenerator().flow(X, y, batch_size=16, shuffle=False))
    assert acc == pytest.approx(net.compute_accuracy(X, y), abs=1e-6)
    net.plot_progress()
    with pytest.raises(TypeError, match="multiple values"):
        net.model.fit_generator(iter([]), 3, steps_per_epoch=3)


def test_saved_model_folder_save_and_reload(keras2, manager64, tmp_path, capsys):
    net = _make(FunctionalAdd)
    with _quiet():
        net.build_cnn()
    net.fit(manager64, batch_size=32, num_epochs=1)
    X, y = manager64.X_test, manager64.y_test
    folder = tmp_path / "models" / "best_model"
    net.model.save(str(folder))  # Keras 2: a SavedModel folder
    assert "saved the model as" in capsys.readouterr().out and (folder / "model.keras").is_file()
    robust = keras.models.load_model(str(folder))
    np.testing.assert_allclose(robust.predict(X, verbose=0), net.model.predict(X, verbose=0), atol=1e-6)
    x_adv = course.pgd(robust, X, y, eps=0.05, steps=3, step_size=0.02)
    assert np.abs(x_adv - X).max() <= 0.05 + 1e-12
    before = [w.copy() for w in robust.get_weights()]
    robust.fit(X, y, epochs=1, verbose=0)  # a .keras inside: trains further, optimizer and all
    assert any(not np.allclose(a, b) for a, b in zip(before, robust.get_weights()))
    keras.models.save_model(robust, tmp_path / "again", save_format="tf")
    assert (tmp_path / "again" / "model.keras").is_file()
    net.model.save(tmp_path / "plain.h5", save_format="h5")  # file paths are Keras 3's own business
    assert (tmp_path / "plain.h5").is_file() and not (tmp_path / "plain.h5").is_dir()


def test_a_real_saved_model_folder_loads_for_prediction_and_attacks(keras2, manager64, tmp_path, capsys):
    net = _make(FunctionalAdd)
    with _quiet():
        net.build_cnn()
    exported = tmp_path / "exported"
    net.model.export(str(exported), verbose=False)  # a SavedModel, as TensorFlow 2.x Keras wrote them
    served = keras.models.load_model(str(exported))
    assert "for prediction and attacks only" in capsys.readouterr().out
    X, y = manager64.X_test, manager64.y_test
    np.testing.assert_allclose(served.predict(X, verbose=0), net.model.predict(X, verbose=0), atol=1e-5)
    clean = course.fgsm(net.model, X, y, eps=0.05)
    np.testing.assert_allclose(course.fgsm(served, X, y, eps=0.05), clean, atol=1e-6)
    assert not served.trainable_weights
    with pytest.raises(FileNotFoundError, match="neither model.keras"):
        keras.models.load_model(str(tmp_path))


# ------------------------------------------------ Keras 2 constructors and a layer class local to build_cnn
class PoolWithoutSize(YourModel):
    """A 2022 build_cnn: AveragePooling2D(strides=(2, 2), padding='same'), Keras 2's default pool_size."""

    def build_cnn(self):
        self.model = models.Sequential([layers.InputLayer(input_shape=(self.height, self.width, self.depth))])
        for i in range(self.num_blocks):
            self.model.add(layers.Conv2D(self.feature_maps[i], (3, 3), padding="same"))
            self.model.add(layers.BatchNormalization(fused=True))
            self.model.add(layers.LeakyReLU(alpha=0.1))
            self.model.add(layers.AveragePooling2D(strides=(2, 2), padding="same"))
        self.model.add(layers.Flatten())
        self.model.add(layers.Dense(self.num_classes, activation="softmax"))
        self.model.compile(optimizer=self.optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def test_a_2022_pooling_layer_without_pool_size_builds_trains_and_saves(keras2, manager64, tmp_path, capsys):
    net = _make(PoolWithoutSize)
    with _quiet():
        net.build_cnn()
    assert net.model.output_shape == (None, 3) and net.model.layers[3].pool_size == (2, 2)
    net.fit(manager64, batch_size=32, num_epochs=1)
    assert np.isfinite(net.history.history["loss"][0])
    folder = tmp_path / "models" / "best_model"
    net.model.save(str(folder))
    again = keras.models.load_model(str(folder))  # Keras' own layers only: the .keras file, trainable
    np.testing.assert_allclose(again.predict(manager64.X_test, verbose=0),
                               net.model.predict(manager64.X_test, verbose=0), atol=1e-6)
    assert not (folder / "saved_model.pb").exists()  # no export needed: nothing but Keras' own classes
    course.keras2_habits(False)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to BatchNormalization: {'fused'"):
        net.build_cnn()  # Keras 3 alone


def _local_block(tmp_path, mode):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent / "local_block_notebook.py"
    return subprocess.run([sys.executable, str(script), str(tmp_path), mode], capture_output=True, text=True,
                          timeout=300, cwd=script.parents[1])


def test_a_layer_class_local_to_build_cnn_reloads_from_its_folder_and_is_attacked(tmp_path):
    """Same process: the folder's SavedModel export stands in for the class nobody can name; a fresh process is
    refused by name (nothing read from the SavedModel) unless it says it trusts the folder."""
    saved = _local_block(tmp_path, "save")
    assert saved.returncode == 0, saved.stderr[-3000:]
    out = saved.stdout
    assert "adversarially trained" in out and "max difference 0.0" in out
    assert "pgd max change 0.05" in out  # gradients reach the inputs of the reloaded model
    assert "tfsm_layer (TFSMLayer)" in out and "evaluate [" in out
    assert "names Block, not Keras' own, so a SavedModel export is saved beside it" in out
    fresh = _local_block(tmp_path, "reload")
    assert fresh.returncode != 0
    assert "names Block, which is neither part of Keras nor supplied by you" in fresh.stderr
    assert "custom_objects={'Block': Block}" in fresh.stderr and "safe_mode=False" in fresh.stderr
    assert "saved models opened []" in fresh.stdout
    trusted = _local_block(tmp_path, "reload-trusted")
    assert trusted.returncode == 0, trusted.stderr[-3000:]
    assert "loaded (24, 3)" in trusted.stdout


def test_a_saved_model_folder_loads_only_when_this_session_wrote_it_or_it_is_trusted(keras2, manager64, tmp_path):
    from coursekit.keras2_habits import trusted_saved_model
    from coursekit.nets.model_files import UnsafeModelFile

    net = _make(FunctionalAdd)
    with _quiet():
        net.build_cnn()
    exported = tmp_path / "exported"
    net.model.export(str(exported), verbose=False)
    assert trusted_saved_model(exported)
    course.keras2_habits(False)
    elsewhere = tmp_path / "elsewhere"
    net.model.export(str(elsewhere), verbose=False)  # not this session's habits: as a folder from anyone
    course.keras2_habits()
    with pytest.raises(UnsafeModelFile, match="did not write.*safe_mode=False"):
        keras.models.load_model(str(elsewhere))
    served = keras.models.load_model(str(elsewhere), safe_mode=False)
    assert served.predict(manager64.X_test[:2], verbose=0).shape == (2, 3)
    (exported / "saved_model.pb").write_bytes((elsewhere / "saved_model.pb").read_bytes() + b"\0")
    assert not trusted_saved_model(exported)  # changed since it was written: trusted no more
    with pytest.raises(UnsafeModelFile, match="did not write"):
        keras.models.load_model(str(exported))


class _Wrap(layers.Layer):
    """A student's layer holding another layer, with no get_config: Keras 3 cannot write it as .keras at all."""

    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def call(self, x):
        return self.inner(x)


def test_a_layer_keras3_cannot_save_is_kept_as_a_saved_model(keras2, tmp_path, capsys):
    model = keras.Sequential([keras.Input((4,)), _Wrap(layers.Dense(3))])
    folder = tmp_path / "models" / "wrapped"
    model.save(str(folder))
    out = capsys.readouterr().out
    assert "holds a SavedModel only" in out and "get_config" in out
    assert (folder / "saved_model.pb").is_file() and not (folder / "model.keras").exists()
    x = np.random.default_rng(0).random((5, 4)).astype(np.float32)
    again = keras.models.load_model(str(folder))
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
