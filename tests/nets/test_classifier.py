"""``coursekit.nets.classifier``: one predict and one accuracy for every wrapper (DefaultModel, DenseClassifier, BinaryMLP)."""
import keras
import numpy as np
import pytest

from coursekit.nets.classifier import KerasClassifier, accuracy, agreement, flip_tta_accuracy, predict_classes


def _fixed(weights, bias):
    inputs = keras.Input((2,))
    dense = keras.layers.Dense(len(bias))
    model = keras.Model(inputs, dense(inputs))
    dense.set_weights([np.asarray(weights, np.float32), np.asarray(bias, np.float32)])
    return model


def test_argmax_for_several_outputs_and_the_sign_for_one_logit():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], np.float32)
    three = _fixed(np.eye(2, 3), [0.0, 0.0, 0.5])
    np.testing.assert_array_equal(predict_classes(three, x), [0, 1, 2])
    one = _fixed([[1.0], [0.0]], [0.0])
    np.testing.assert_array_equal(predict_classes(one, x), [1, 0, 0])
    assert predict_classes(one, x).dtype == np.int64


def test_accuracy_takes_ids_or_one_hot_and_names_a_length_mismatch():
    x = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    model = _fixed(np.eye(2), [0.0, 0.0])
    assert accuracy(model, x, [0, 0]) == 0.5
    assert accuracy(model, x, np.eye(2)) == 1.0
    with pytest.raises(ValueError, match="2 inputs but 3 labels"):
        agreement([0, 1], [0, 1, 1])


def test_wrappers_share_predict_and_compute_accuracy():
    class Wrapper(KerasClassifier):
        def __init__(self):
            self.model = _fixed(np.eye(2), [0.0, 0.0])

    x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 3.0]], np.float32)
    w = Wrapper()
    np.testing.assert_array_equal(w.predict(x), [0, 1, 1])
    assert w.compute_accuracy(x, [0, 1, 0]) == pytest.approx(2 / 3)


def test_flip_tta_averages_the_softmax_of_each_image_and_its_mirror():
    # logits: the left column's mean and the right column's mean, scaled; mirroring swaps them
    inputs = keras.Input((1, 2, 1))
    conv = keras.layers.Conv2D(2, (1, 2), use_bias=False)
    model = keras.Model(inputs, keras.layers.Flatten()(conv(inputs)))
    conv.set_weights([np.array([[[[3.0, 0.0]], [[0.0, 1.0]]]], np.float32)])
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 2.5]], np.float32).reshape(3, 1, 2, 1)
    # plain: [3, 0] -> 0, [0, 1] -> 1, [3, 2.5] -> 0; mirrored: [0, 1] -> 1, [3, 0] -> 0, [7.5, 1] -> 0
    assert accuracy(model, x, [0, 1, 0]) == 1.0
    # averaged softmax: the first two tie-break towards the class with the larger logit gap (3 vs 1)
    assert flip_tta_accuracy(model, x, [0, 0, 0]) == 1.0
    assert flip_tta_accuracy(model, x, [0, 1, 0]) == pytest.approx(2 / 3)
