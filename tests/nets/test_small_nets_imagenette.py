import keras
import numpy as np

from coursekit.nets.classifier import predict_classes
from coursekit.nets.classifier import accuracy_under_noise
from coursekit.nets.small_nets import imagenette_cnn, model_size_mb


def test_imagenette_cnn_has_no_batch_norm_and_outputs_logits():
    net = imagenette_cnn(32, (8, 16))
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in net.layers)
    assert any(isinstance(layer, keras.layers.GroupNormalization) for layer in net.layers)
    assert net.output.shape[-1] == 10 and net.layers[-1].activation.__name__ == "linear"
    assert model_size_mb(net) == net.count_params() * 4 / 2 ** 20


def test_noise_evaluation_adds_scaled_gaussian_noise():
    inputs = keras.Input((4,))
    net = keras.Model(inputs, keras.layers.Dense(2, use_bias=False, kernel_initializer="identity")(
        keras.layers.Dense(2, use_bias=False)(inputs)))
    net.layers[1].set_weights([np.array([[1, 0], [0, 0], [0, 0], [0, 0]], np.float32)])
    x = np.zeros((2000, 4), np.float32)
    x[:, 0] = 0.3  # class 0 wins (logit 0.3 vs 0) unless noise pushes x0 below zero
    y = np.zeros(2000, np.int64)
    assert accuracy_under_noise(net, x, y, 0.0) == 1.0
    assert (predict_classes(net, x) == 0).all()
    # P(0.3 + a z > 0) = Phi(0.3 / a): a = 0.3 -> 0.841, a = 0.1 -> 0.9987
    assert abs(accuracy_under_noise(net, x, y, 0.3, seed=1) - 0.841) < 0.03
    assert accuracy_under_noise(net, x, y, 0.1, seed=1) > 0.99
    assert accuracy_under_noise(net, x, y, 0.3, seed=1) == accuracy_under_noise(net, x, y, 0.3, seed=1)


def test_imagenette_resnet_has_a_strided_stem_residual_stages_and_no_batch_norm():
    from coursekit.nets.small_nets import imagenette_resnet

    net = imagenette_resnet(64, (8, 16, 32))
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in net.layers)
    assert net.get_layer("stem_conv").strides == (2, 2) and net.get_layer("stem_conv").kernel_size == (4, 4)
    assert net.get_layer("s1_add").output.shape[1:] == (32, 32, 8)   # 64 px -> 32 px at the stem
    assert net.get_layer("s3_add").output.shape[1:] == (8, 8, 32)    # then halved per stage
    assert net.output.shape[-1] == 10 and net.layers[-1].dtype_policy.compute_dtype == "float32"
    assert sum(isinstance(layer, keras.layers.GroupNormalization) for layer in net.layers) == 1 + 3 * 2 + 2


def test_each_residual_block_starts_as_the_identity_plus_relu():
    """The branch's last GroupNorm starts at scale 0: at initialisation a block passes relu(x) on."""
    from coursekit.nets.small_nets import imagenette_resnet

    net = imagenette_resnet(32, (8, 16))
    for s in (1, 2):
        assert not np.any(net.get_layer(f"s{s}_res2_gn").gamma.numpy())
    x = np.random.default_rng(0).uniform(0, 1, (2, 32, 32, 3)).astype(np.float32)
    probe = keras.Model(net.input, [net.get_layer("s2_pool").output, net.get_layer("s2_out").output])
    before, after = (np.asarray(t) for t in probe(x))
    np.testing.assert_allclose(after, np.maximum(before, 0), atol=1e-6)


def test_imagenette_resnet_norm_choices_and_a_clear_error():
    import pytest

    from coursekit.nets.small_nets import imagenette_resnet

    layer_norm = imagenette_resnet(32, (8, 16), norm="layer")
    assert any(isinstance(layer, keras.layers.LayerNormalization) for layer in layer_norm.layers)
    plain = imagenette_resnet(32, (8, 16), norm="none")
    assert not any("Normalization" in type(layer).__name__ for layer in plain.layers)
    assert plain.get_layer("stem_conv").use_bias
    with pytest.raises(ValueError, match="norm must be one of group, layer, none, got 'batch'"):
        imagenette_resnet(32, (8, 16), norm="batch")


def test_imagenette_resnet_takes_any_size_and_a_test_size_enlarges_its_input_first():
    """``size=None`` trains on any image size (progressive resizing); ``test_size`` adds a weightless bilinear
    ``Resizing``, so the same weights give the any-size network's output on the enlarged image."""
    import tensorflow as tf

    from coursekit.nets.pixel_models import float32_copy, pixel_model
    from coursekit.nets.small_nets import imagenette_resnet

    keras.utils.set_random_seed(0)
    anywhere = imagenette_resnet(None, (8, 16))
    for layer in anywhere.layers:  # give the zero-scale norms a scale, so every block matters
        if isinstance(layer, keras.layers.GroupNormalization):
            layer.gamma.assign(np.ones(layer.gamma.shape, np.float32))
    x = np.random.default_rng(1).uniform(0, 1, (2, 32, 32, 3)).astype(np.float32)
    assert anywhere(x[:, :16, :16]).shape == (2, 10)
    tested = float32_copy(imagenette_resnet, anywhere, size=32, widths=(8, 16), test_size=48)
    assert tested.input.shape[1:] == (32, 32, 3) and tested.get_layer("test_resize").weights == []
    np.testing.assert_allclose(tested(x), anywhere(tf.image.resize(x, (48, 48))), rtol=1e-4, atol=1e-5)
    pixels = pixel_model(lambda **kw: imagenette_resnet(32, (8, 16), test_size=48, **kw), anywhere)
    np.testing.assert_allclose(pixels(x * 255), tested(x), rtol=1e-4, atol=1e-5)
    assert "test_resize" not in [layer.name for layer in imagenette_resnet(32, (8, 16), test_size=32).layers]
