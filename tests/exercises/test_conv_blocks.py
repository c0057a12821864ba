import numpy as np
import pytest

from coursekit.exercises import conv_blocks as cb


def test_shapes_follow_the_padding_and_stride_arithmetic():
    image = np.random.default_rng(0).random((40, 52, 3)).astype(np.float32)
    got = {name: y.shape for name, (_, y) in cb.building_blocks(image).items()}
    assert got == {
        "conv_5x5x10": (1, 36, 48, 10), "conv_5x5x10_stride16": (1, 3, 3, 10), "conv_5x5x10_pad2": (1, 40, 52, 10),
        "laplacian": (1, 40, 52, 1), "minus_abs_laplacian": (1, 40, 52, 1), "vertical_derivative": (1, 38, 52, 2),
        "vertical_derivative_relu": (1, 38, 52, 2), "max_pool_15": (1, 26, 38, 3)}


def test_hand_made_filters_compute_what_they_say():
    rng = np.random.default_rng(1)
    x = rng.random((1, 9, 11, 3)).astype(np.float32)
    s = x[0].sum(axis=2)
    lap = cb.conv2d(x, cb.laplacian_filter(), padding=1).numpy()[0, :, :, 0]
    expected = s[:-2, 1:-1] + s[2:, 1:-1] + s[1:-1, :-2] + s[1:-1, 2:] - 4 * s[1:-1, 1:-1]
    np.testing.assert_allclose(lap[1:-1, 1:-1], expected, rtol=1e-5, atol=1e-5)
    deriv = cb.conv2d(x, cb.vertical_derivative_filters()).numpy()[0]
    np.testing.assert_allclose(deriv[:, :, 0], s[:-2] - s[2:], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(deriv[:, :, 1], s[2:] - s[:-2], rtol=1e-5, atol=1e-5)
    pooled = cb.max_pool(x, 3).numpy()[0]
    assert pooled[0, 0, 1] == x[0, :3, :3, 1].max()


def test_random_bank_follows_pytorch_default_bounds_and_seed():
    bank = cb.random_filters(seed=3)
    assert bank.shape == (5, 5, 3, 10) and np.abs(bank).max() <= 1 / np.sqrt(75)
    np.testing.assert_array_equal(bank, cb.random_filters(seed=3))


def test_feature_grid_scales_each_map_to_unit_range():
    y = np.stack([np.arange(12.0).reshape(3, 4), -5 * np.ones((3, 4)), np.linspace(-1, 9, 12).reshape(3, 4)], -1)
    grid = cb.feature_grid(y[None], ncols=3, pad=1)
    assert grid.shape == (3, 3 * 4 + 2)
    np.testing.assert_allclose(grid[:, :4], np.arange(12.0).reshape(3, 4) / 11)
    assert grid[:, 5:9].max() == 0.0 and grid[:, 10:].min() == 0.0 and grid[:, 10:].max() == 1.0


def test_default_image_is_a_bundled_photo_and_bad_files_are_named(tmp_path):
    image, source = cb.load_image()
    assert image.ndim == 3 and image.shape[2] == 3 and 0 <= image.min() and image.max() <= 1
    assert "scikit-learn" in source
    bad = tmp_path / "peppers.png"
    bad.write_text("not an image")
    with pytest.raises(ValueError, match="peppers.png"):
        cb.load_image(bad)
    with pytest.raises(FileNotFoundError, match="--image"):
        cb.load_image(tmp_path / "missing.png")
