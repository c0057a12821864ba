"""``coursekit.nets.network``: one cached view of a student's network, used by DefaultModel, the trainer and the attacks."""
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from coursekit.attacks.runner import run_attack
from coursekit.nets.network import keras_model_of, network_view
from models import DefaultModel, fgsm, mim, pgd
from tests.conftest import make_blobs_images


class _Subclassed(keras.Model):
    """Its last layer cannot tell whether it outputs probabilities (a softmax inside call)."""

    def __init__(self):
        super().__init__(name="subclassed")
        self.flat, self.dense = layers.Flatten(), layers.Dense(3)

    def call(self, x, training=False):
        return keras.ops.softmax(self.dense(self.flat(x)))


def _keras2_sequential():
    return keras.Sequential([layers.Conv2D(4, 3, activation="relu", input_shape=(16, 16, 3)), layers.Flatten(),
                             layers.Dense(3, activation="softmax")])


def test_the_view_is_worked_out_once_per_network_and_shared_by_the_wrapper():
    x, _ = make_blobs_images(n_per_class=4, size=16)
    model = _keras2_sequential()
    wrapper = DefaultModel(num_classes=3, width=16, height=16)
    wrapper.model = model
    view = network_view(model, x.shape[1:], x[:8])
    assert network_view(model) is view and network_view(wrapper) is view
    assert view.kind == "probabilities" and view.num_classes == 3 and view.graph.input is not None
    logits = view.logits_fn(tf.constant(x[:4]))
    np.testing.assert_allclose(keras.ops.softmax(logits), model(x[:4]), atol=1e-6)
    assert wrapper.logits_model is view.logits


def test_a_guessed_kind_warns_once_and_a_stated_kind_replaces_it():
    x, _ = make_blobs_images(n_per_class=4, size=16)
    model = _Subclassed()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = network_view(model, x.shape[1:], x[:8])
        again = network_view(model, x.shape[1:], x[:8])
    assert first is again and first.kind == "probabilities"
    assert len([w for w in caught if "cannot tell" in str(w.message)]) == 1
    stated = network_view(model, kind="logits")
    assert stated.kind == "logits" and stated.graph is first.graph and network_view(model) is stated


def test_attacks_take_the_wrapper_and_name_anything_else():
    x, y = make_blobs_images(n_per_class=4, size=16)
    wrapper = DefaultModel(num_classes=3, width=16, height=16)
    wrapper.model = _keras2_sequential()
    for attack in (fgsm, pgd, mim):
        np.testing.assert_array_equal(attack(wrapper, x, y, eps=0.1), attack(wrapper.model, x, y, eps=0.1))
    with pytest.raises(TypeError, match=r"pgd\(\) takes a keras.Model or a DefaultModel/YourModel .*got dict"):
        pgd({"model": None}, x, y)
    empty = DefaultModel(num_classes=3)
    empty.model = None
    with pytest.raises(ValueError, match=r"DefaultModel 'network1', whose .model is NoneType.*call build_cnn\(\)"):
        keras_model_of(empty, "fgsm()")


def _step_size_core(logits_fn, x, y_prob, *, eps, clip_min, clip_max, steps, step_size):
    """Returns ``step_size`` everywhere: a runner passing ``steps`` in its place would give 1 (clipped 3)."""
    del logits_fn, y_prob, eps, steps
    return tf.clip_by_value(x * 0 + step_size, clip_min, clip_max)


def test_the_runner_passes_the_attack_parameters_by_name_in_any_order():
    x, y = make_blobs_images(n_per_class=2, size=16)
    model = _keras2_sequential()
    common = dict(eps=0.1, value_range=(-1.0, 1.0), batch_size=4, seed=0)
    one = run_attack(_step_size_core, model, x, y, steps=3, step_size=0.25, **common)
    other = run_attack(_step_size_core, model, x, y, step_size=0.25, steps=3, **common)
    np.testing.assert_allclose(one, 0.25)
    np.testing.assert_array_equal(one, other)
