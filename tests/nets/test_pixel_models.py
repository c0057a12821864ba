"""Float32, raw-pixel copies of a network trained under mixed_bfloat16."""
import functools

import keras
import numpy as np

from coursekit.nets.pixel_models import float32_copy, pixel_model
from coursekit.nets.small_nets import imagenette_resnet


def _bf16_net(build):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        keras.utils.set_random_seed(1)
        net = build()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    # non-zero scales everywhere, so a copy that lost weights would show
    net.set_weights([w + np.random.default_rng(i).normal(0, 0.1, w.shape).astype(w.dtype)
                     for i, w in enumerate(net.get_weights())])
    return net


def test_float32_copy_computes_in_float32_with_the_same_weights():
    build = functools.partial(imagenette_resnet, 32, (8, 16))
    net = _bf16_net(build)
    assert net.get_layer("s1_res1_conv").dtype_policy.compute_dtype == "bfloat16"
    copy = float32_copy(build, net)
    assert all(layer.dtype_policy.name == "float32" for layer in copy.layers)
    assert keras.mixed_precision.dtype_policy().name == "float32"  # the global policy is put back
    for a, b in zip(net.get_weights(), copy.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).uniform(0, 1, (4, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(copy(x)), np.asarray(net(x)), atol=0.15)  # bfloat16's rounding


def test_pixel_model_takes_raw_pixels_and_loads_with_plain_keras(tmp_path):
    build = functools.partial(imagenette_resnet, 32, (8, 16))
    net = _bf16_net(build)
    unit, pixels = float32_copy(build, net), pixel_model(build, net)
    raw = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(pixels(raw)), np.asarray(unit(raw / 255)), rtol=1e-5, atol=1e-5)
    pixels.save(tmp_path / "m.h5")
    loaded = keras.models.load_model(tmp_path / "m.h5", compile=False)
    np.testing.assert_allclose(np.asarray(loaded(raw)), np.asarray(pixels(raw)), rtol=1e-5, atol=1e-5)
    assert loaded.layers[1].name == "pixels_to_unit"
