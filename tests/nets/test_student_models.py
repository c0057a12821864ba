"""Networks written the 2022 template's way, in subclasses written for this project (not copied from anyone).

Each trains one epoch through the template calls, predicts, is saved and reloaded, and is attacked."""
import warnings

import keras
import numpy as np
import pytest
from keras import layers, models

import models as course
from coursekit.nets.student_models import as_functional, output_kind
from models import DefaultModel, YourModel, fgsm, pgd


class Keras2Sequential(YourModel):
    """build_cnn as the template's DefaultModel writes it: input_shape=, softmax, the student's own compile."""

    def build_cnn(self):
        self.model = models.Sequential()
        self.model.add(layers.Conv2D(8, (3, 3), padding="same", activation="relu",
                                     input_shape=(self.height, self.width, self.depth)))
        self.model.add(layers.AveragePooling2D(pool_size=(2, 2)))
        self.model.add(layers.Flatten())
        self.model.add(layers.Dense(self.num_classes, activation="softmax"))
        self.model.compile(optimizer=self.optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])


class FillsTheTemplatesSequential(YourModel):
    """Only self.model.add(...): the template's __init__ made the empty Sequential."""

    def build_cnn(self):
        self.model.add(keras.Input((self.height, self.width, self.depth)))
        self.model.add(layers.Conv2D(8, 3, activation="relu"))
        self.model.add(layers.GlobalAveragePooling2D())
        self.model.add(layers.Dense(self.num_classes))  # logits


class Functional(YourModel):
    def build_cnn(self):
        inputs = keras.Input((self.height, self.width, self.depth))
        x = layers.Conv2D(8, 3, activation="relu")(inputs)
        x = layers.Flatten()(layers.MaxPooling2D()(x))
        self.model = keras.Model(inputs, layers.Dense(self.num_classes, activation="softmax")(x))


@keras.saving.register_keras_serializable(package="tests")
class TinyNet(keras.Model):
    def __init__(self, num_classes=3, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.conv = layers.Conv2D(8, 3, activation="relu")
        self.pool = layers.GlobalAveragePooling2D()
        self.out = layers.Dense(num_classes)

    def call(self, x, training=False):
        return self.out(self.pool(self.conv(x)))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


class Subclassed(YourModel):
    def build_cnn(self):
        self.model = TinyNet(self.num_classes)


CASES = [Keras2Sequential, FillsTheTemplatesSequential, Functional, Subclassed]


def _make(cls, blobs_manager, **kw):
    return cls(name=cls.__name__.lower(), width=16, height=16, num_classes=3, optimizer="adam", learning_rate=1e-2,
               batch_size=16, num_epochs=1, verbose=False, patience=None, **kw)


@pytest.mark.parametrize("cls", CASES, ids=lambda c: c.__name__)
def test_student_network_trains_predicts_saves_and_is_attacked(cls, blobs_manager, tmp_path):
    net = _make(cls, blobs_manager)
    net.build_cnn()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras' own input_shape= deprecation notice
        net.fit(blobs_manager, batch_size=32, num_epochs=1)
    assert len(net.history.history["loss"]) == 1
    X, y = blobs_manager.X_test, blobs_manager.y_test
    acc = net.compute_accuracy(X, y)
    probs = net.predict_proba(X)
    assert 0 <= acc <= 1 and probs.shape == (len(X), 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)
    if cls is Subclassed:  # .h5 stores layer graphs, a subclass's call() is code: .keras stores it
        with pytest.raises(ValueError, match=r"net.keras instead"):
            net.save(tmp_path / "net.h5")
    path = net.save(tmp_path / ("net.keras" if cls is Subclassed else "net.h5"))
    again = _make(cls, blobs_manager)
    again.load(path)
    np.testing.assert_allclose(again.predict_proba(X), probs, atol=1e-5)
    for attack in (lambda: fgsm(net.model, X, y, eps=0.1),
                   lambda: pgd(net.model, X, y, eps=0.1, steps=3, step_size=0.04)):
        x_adv = attack()
        assert np.abs(x_adv - X).max() <= 0.1 + 1e-6 and x_adv.min() >= -1 and x_adv.max() <= 1
    net.plot_progress()


def test_the_template_init_makes_an_empty_sequential_and_fit_builds_it(blobs_manager):
    net = _make(DefaultModel, blobs_manager)
    assert isinstance(net.model, keras.Sequential) and not net.model.layers
    with pytest.raises(RuntimeError, match="build_cnn"):
        net.summary()
    net.fit(blobs_manager)  # an empty Sequential is built with build_cnn() first
    assert net.model.count_params() > 0


def test_self_optimizer_is_the_templates_keras_optimizer_with_the_learning_rate():
    net = DefaultModel(optimizer="sgd", learning_rate=0.5)
    first, second = net.optimizer, net.optimizer
    assert isinstance(first, keras.optimizers.SGD) and first is not second  # fresh for each compile
    assert float(first.learning_rate) == pytest.approx(0.5) and net.optimizer_name == "sgd"
    assert float(YourModel(optimizer="adam", learning_rate=3e-4).optimizer.learning_rate) == pytest.approx(3e-4)


def test_a_students_own_compile_trains_at_the_learning_rate_asked_for(blobs_manager):
    class OwnFit(Keras2Sequential):
        """The Q3.5 skeleton: fit overridden with the student's own self.model.fit."""

        def fit(self, data_manager, batch_size=None, num_epochs=None, is_augmentation=False):
            self.history = self.model.fit(data_manager.X_train, data_manager.y_train,
                                          validation_data=(data_manager.X_valid, data_manager.y_valid),
                                          batch_size=batch_size or self.batch_size,
                                          epochs=num_epochs or self.num_epochs, verbose=0)

    net = _make(OwnFit, blobs_manager)
    net.optimizer = "sgd"
    net.learning_rate = 0.37
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.build_cnn()
    assert float(net.model.optimizer.learning_rate) == pytest.approx(0.37)
    before = [w.copy() for w in net.model.get_weights()]
    net.fit(blobs_manager, num_epochs=1)
    assert any(not np.allclose(a, b) for a, b in zip(before, net.model.get_weights()))
    assert 0 <= net.compute_accuracy(blobs_manager.X_test, blobs_manager.y_test) <= 1
    net.plot_progress()
    x_adv = pgd(net.model, blobs_manager.X_test, blobs_manager.y_test, eps=0.05, steps=2, step_size=0.03)
    assert np.abs(x_adv - blobs_manager.X_test).max() <= 0.05 + 1e-6


def test_output_kind_is_read_from_the_last_layer_or_guessed_with_one_warning(blobs_manager):
    inputs = keras.Input((4,))
    soft = keras.Model(inputs, layers.Dense(3, activation="softmax")(inputs))
    lin = keras.Model(inputs, layers.Dense(3)(inputs))
    assert output_kind(soft) == "probabilities" and output_kind(lin) == "logits"
    graph = as_functional(TinyNet(3), (16, 16, 3))
    with pytest.warns(UserWarning, match="output_kind='logits' or 'probabilities'"):
        assert output_kind(graph, blobs_manager.X_train[:8]) == "logits"
    net = _make(Subclassed, blobs_manager)
    net.build_cnn()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        net.predict_proba(blobs_manager.X_test)
        net.predict_proba(blobs_manager.X_test)
        net.compute_accuracy(blobs_manager.X_test, blobs_manager.y_test)
    assert sum("output_kind=" in str(w.message) for w in seen) == 1  # one warning, not one per call
    net.output_kind = "logits"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.predict_proba(blobs_manager.X_test)  # stated: no guess, no warning


def test_the_data_check_still_names_the_fix(blobs_manager):
    net = _make(Keras2Sequential, blobs_manager, )
    net.width = net.height = 8  # built for 8x8, the data is 16x16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.build_cnn()
    with pytest.raises(ValueError, match="cannot take inputs of shape|images are"):
        net.fit(blobs_manager)
    wrong = _make(Functional, blobs_manager)
    wrong.num_classes = 5
    wrong.build_cnn()
    wrong.num_classes = 3
    with pytest.raises(ValueError, match="5 outputs but num_classes=3"):
        wrong.fit(blobs_manager)
    assert course.as_functional is as_functional


def test_the_q35_skeleton_with_image_data_generator(blobs_manager):
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    class Augmented(Keras2Sequential):
        def fit(self, data_manager, batch_size=None, num_epochs=None, is_augmentation=False):
            if is_augmentation:
                datagen = ImageDataGenerator(horizontal_flip=True, width_shift_range=0.1, height_shift_range=0.1)
                flow = datagen.flow(data_manager.X_train, data_manager.y_train, batch_size=batch_size or 32, seed=0)
                self.history = self.model.fit(flow, validation_data=(data_manager.X_valid, data_manager.y_valid),
                                              epochs=num_epochs or self.num_epochs, verbose=0)

    net = _make(Augmented, blobs_manager)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.build_cnn()
    net.fit(blobs_manager, batch_size=32, num_epochs=1, is_augmentation=True)
    assert set(net.history.history) >= {"loss", "val_accuracy"}
    assert 0 <= net.compute_accuracy(blobs_manager.X_test, blobs_manager.y_test) <= 1
    net.plot_progress()
