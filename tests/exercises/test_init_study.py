import math

import numpy as np
import tensorflow as tf

from coursekit.exercises import init_study


def test_first_nonfinite_layer_on_a_known_case():
    def times_1e10(fan_in, fan_out, seed=None):
        return tf.eye(fan_out, fan_in) * 1e10

    _, stds, _, finite = init_study.propagate(tf.ones(8), times_1e10, depth=6, width=8)
    # 1e10, 1e20, 1e30 fit in float32 (max 3.4e38); 1e40 does not: layer 4
    assert init_study.first_nonfinite_layer(finite) == 4
    assert init_study.first_nonfinite_layer([np.ones(3), np.array([1.0, np.nan])]) == 2
    assert init_study.first_nonfinite_layer([np.ones(3)] * 5) is None
    assert np.isfinite(stds[2]) and not np.isfinite(stds[3])


def test_unit_normal_weights_overflow_and_scaled_ones_do_not():
    x = tf.random.stateless_normal((512,), (0, 1))
    _, _, _, finite = init_study.propagate(x, init_study.VARIANTS["normal"][0], depth=40)
    layer = init_study.first_nonfinite_layer(finite)
    assert layer is not None and 20 <= layer <= 35  # sqrt(512)^k passes 3.4e38 near k = 28
    _, stds, _, finite = init_study.propagate(x, init_study.VARIANTS["scaled"][0], depth=40)
    assert all(finite) and 0.1 < stds[-1] < 10


def test_std_of_ax_is_near_sqrt_fan_in():
    mean, std = init_study.std_of_ax(n=64, trials=400, seed=0)
    assert abs(std - math.sqrt(64)) < 0.05 * math.sqrt(64) and abs(mean) < 0.5
