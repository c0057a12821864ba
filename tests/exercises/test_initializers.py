import math

import numpy as np
import pytest

from coursekit.exercises.initializers import kaiming_init, keras_initializer, scaled_normal_init, unit_normal_init, xavier_init


def test_xavier_uniform_bounds_and_variance():
    fan_in, fan_out = 300, 100  # unequal: Kaiming's or a fan-in-only bound would differ
    w = xavier_init(fan_in, fan_out, seed=0).numpy()
    bound = math.sqrt(6 / (fan_in + fan_out))
    assert w.shape == (fan_out, fan_in)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.995 * bound  # 30,000 draws reach the edge
    # variance of U(-b, b) is b^2 / 3 = 2 / (fan_in + fan_out); 30,000 draws: sd of the estimate ~0.8%
    assert w.var() == pytest.approx(2 / (fan_in + fan_out), rel=0.03)
    assert abs(w.mean()) < 4 * bound / math.sqrt(3 * w.size)
    assert np.abs(w).min() < 0.01 * bound  # uniform, not a two-point or normal-tailed law


def test_kaiming_normal_fan_in_std():
    fan_in, fan_out = 300, 100
    w = kaiming_init(fan_in, fan_out, seed=1).numpy()
    assert w.shape == (fan_out, fan_in)
    assert w.std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.02)  # fan_out mode would be sqrt(2/100): 73% off
    assert abs(w.mean()) < 4 * math.sqrt(2 / fan_in) / math.sqrt(w.size)
    kurtosis = np.mean((w - w.mean()) ** 4) / w.var() ** 2
    assert kurtosis == pytest.approx(3.0, abs=0.15)  # normal, not uniform (1.8)


def test_seeded_draws_repeat_and_keras_wrapper_transposes():
    np.testing.assert_array_equal(xavier_init(8, 4, seed=3).numpy(), xavier_init(8, 4, seed=3).numpy())
    assert not np.array_equal(xavier_init(8, 4, seed=3).numpy(), xavier_init(8, 4, seed=4).numpy())
    kernel = keras_initializer(kaiming_init, seed=0)((30, 7))
    assert tuple(kernel.shape) == (30, 7)


# Every initializer, seeded (stateless draws) and unseeded (the global generator): the law's spread,
# centre and shape. 30,000 draws put the std estimate within ~1% (normal) of the true value.
SPREAD = {
    "xavier": (xavier_init, lambda fi, fo: math.sqrt(2 / (fi + fo))),
    "kaiming": (kaiming_init, lambda fi, fo: math.sqrt(2 / fi)),
    "unit_normal": (unit_normal_init, lambda fi, fo: 1.0),
    "scaled_normal": (scaled_normal_init, lambda fi, fo: 1 / math.sqrt(fi)),
}


@pytest.mark.parametrize("name", SPREAD)
@pytest.mark.parametrize("seed", [None, 5])
def test_every_initializer_has_its_spread_seeded_or_not(name, seed):
    init, std = SPREAD[name]
    fan_in, fan_out = 300, 100
    w = init(fan_in, fan_out, seed=seed).numpy()
    assert w.shape == (fan_out, fan_in) and w.dtype == np.float32
    assert w.std() == pytest.approx(std(fan_in, fan_out), rel=0.03)
    assert abs(w.mean()) < 4 * std(fan_in, fan_out) / math.sqrt(w.size)
    again = init(fan_in, fan_out, seed=seed).numpy()
    assert np.array_equal(w, again) == (seed is not None)  # a seed repeats; no seed draws afresh


def test_scaled_normal_is_the_unit_normal_draw_divided_by_sqrt_fan_in():
    np.testing.assert_allclose(scaled_normal_init(50, 20, seed=2).numpy(),
                               unit_normal_init(50, 20, seed=2).numpy() / math.sqrt(50), rtol=1e-6)


def test_keras_initializer_draws_layer_k_with_seed_1000_s_plus_k():
    for seed in (0, 3):
        hand = keras_initializer(xavier_init, seed=seed)
        for k in (1, 2):
            np.testing.assert_array_equal(hand((6, 4)).numpy(), xavier_init(6, 4, seed=1000 * seed + k).numpy().T)
    np.testing.assert_array_equal(keras_initializer(xavier_init)((6, 4)).numpy(),
                                  keras_initializer(xavier_init, seed=0)((6, 4)).numpy())
