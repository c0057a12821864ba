"""``best_test_size``: the test size with the best validation accuracy, the smallest on a tie."""
import functools

import keras
import numpy as np
import pytest

from coursekit.nets.test_size import best_test_size


def _size_reader(size=8, test_size=None):
    """A network whose logits say how large its (enlarged) input is: class 0 at 8 px, 1 at 12 px, 2 at 16 px."""
    inputs = keras.Input((size, size, 3))
    x = inputs if test_size is None else keras.layers.Resizing(test_size, test_size)(inputs)
    side = keras.layers.Lambda(lambda t: keras.ops.sqrt(keras.ops.sum(keras.ops.ones_like(t[..., :1]), axis=(1, 2))))(x)
    centres = np.array([[8.0, 12.0, 16.0]], np.float32)
    logits = keras.layers.Lambda(lambda t: -keras.ops.abs(t - centres))(side)
    return keras.Model(inputs, logits)


def test_the_size_whose_network_scores_best_on_validation_is_chosen():
    build = functools.partial(_size_reader, 8)
    net = build()
    x = np.zeros((6, 8, 8, 3), np.float32)
    chosen, scores = best_test_size(build, net, x, np.full(6, 1), (8, 12, 16))
    assert chosen == 12 and scores == {8: 0.0, 12: 1.0, 16: 0.0}
    chosen, scores = best_test_size(build, net, x, np.array([0, 0, 0, 2, 2, 2]), (16, 8, 12))
    assert chosen == 8 and scores == {16: 0.5, 8: 0.5, 12: 0.0}  # a tie goes to the smaller size
    with pytest.raises(ValueError, match="no test sizes"):
        best_test_size(build, net, x, np.full(6, 1), ())
