import keras
import numpy as np
import pytest

from coursekit.nets.architectures import LOGITS_LAYER, default_cnn, logits_model, residual_cnn


def _layers_of(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


def test_default_cnn_has_the_templates_106538_parameters():
    assert default_cnn(32, 32, 3, 10).count_params() == 106_538


def test_each_block_halves_the_size_and_doubles_the_channels():
    model = residual_cnn(32, 32, 3, num_blocks=4, feature_maps=8, num_classes=5)
    shapes = [model.get_layer(f"block{i}_pool").output.shape[1:] for i in range(1, 5)]
    assert [tuple(s) for s in shapes] == [(16, 16, 8), (8, 8, 16), (4, 4, 32), (2, 2, 64)]
    assert model.output_shape == (None, 5)


def test_skip_connections_are_visible_in_the_graph_only_when_on():
    on = residual_cnn(num_blocks=3, use_skip=True)
    off = residual_cnn(num_blocks=3, use_skip=False)
    assert len(_layers_of(on, keras.layers.Add)) == 3
    assert len(_layers_of(off, keras.layers.Add)) == 0
    # a 1x1 projection only where channels change (3 -> 32, 32 -> 64, 64 -> 128)
    assert sum("projection" in layer.name for layer in on.layers) == 3
    add = on.get_layer("block2_skip")
    assert any(t is on.get_layer("block2_bn2").output for t in add.input)


def test_batch_norm_and_dropout_toggles():
    plain = residual_cnn(num_blocks=2, batch_norm=False, drop_rate=0.0)
    full = residual_cnn(num_blocks=2, batch_norm=True, drop_rate=0.3)
    assert not _layers_of(plain, keras.layers.BatchNormalization)
    assert not _layers_of(plain, keras.layers.Dropout)
    assert len(_layers_of(full, keras.layers.BatchNormalization)) == 4
    assert [d.rate for d in _layers_of(full, keras.layers.Dropout)] == [0.3, 0.3]


@pytest.mark.parametrize("build", ["project", "dense_softmax", "activation_softmax"])
def test_logits_model_reaches_scores_before_the_softmax(build):
    inputs = keras.Input((4,))
    if build == "project":
        model = default_cnn(8, 8, 1, 3)
        x = np.random.default_rng(0).normal(size=(5, 8, 8, 1)).astype("float32")
    elif build == "dense_softmax":
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Dense(6)(inputs)))
        x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    else:
        model = keras.Model(inputs, keras.layers.Activation("softmax")(keras.layers.Dense(3)(inputs)))
        x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    logits = np.asarray(logits_model(model)(x))
    probs = np.asarray(model(x))
    np.testing.assert_allclose(keras.ops.softmax(logits).numpy(), probs, rtol=1e-5, atol=1e-6)
    assert not np.allclose(logits, probs)
    if build == "project":
        assert model.get_layer(LOGITS_LAYER).output.shape[-1] == 3
