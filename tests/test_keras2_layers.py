"""Keras 2's layer constructor calls under ``keras2_habits()``: the comparison of TF 2.9-2.11's ``tf.keras.layers``
signatures (read from the wheels' source into ``coursekit/keras2_layers.json``) with the running Keras 3's, and
what is done about each difference."""
import inspect

import keras
import numpy as np
import pytest
from keras import layers

import models as course
from coursekit import keras2_layers
from coursekit.keras2_layers import REMOVED, differences


@pytest.fixture
def keras2():
    course.keras2_habits()
    yield
    course.keras2_habits(False)


def test_every_changed_argument_is_listed_with_what_the_habits_do():
    """The list itself: ``pytest -rP tests/test_keras2_layers.py -k listed`` shows it."""
    rows = keras2_layers.table()
    print(f"Keras 2 layer constructors against Keras {keras.__version__}: {len(rows)} differences")
    for row in rows:
        print("  " + " | ".join(row))
    unhandled = [row for row in rows if row[3].startswith("not translated")]
    assert not unhandled, unhandled
    changed = {row[0] for row in rows}
    # the changes the 2022 notebooks ran into, and one of each kind, must be among them
    assert {"AveragePooling2D", "BatchNormalization", "RandomContrast", "LeakyReLU", "Conv3DTranspose"} <= changed


def test_every_keras2_layer_this_keras_lacks_says_what_to_write_instead():
    gone = [name for name in keras2_layers.keras2_signatures() if not hasattr(layers, name)]
    assert gone and set(gone) <= set(keras2_layers.GONE), set(gone) - set(keras2_layers.GONE)
    rows = {row[0]: row[3] for row in keras2_layers.table() if row[1] == "(the layer)"}
    assert set(rows) == set(gone) and "ReLU(threshold=theta)" in rows["ThresholdedReLU"]
    x = np.array([[-1.0, 0.5, 1.0, 2.0]], np.float32)  # ThresholdedReLU(theta=1): x where x > 1, else 0
    assert np.array_equal(np.asarray(layers.ReLU(threshold=1.0)(x)), [[0.0, 0.0, 0.0, 2.0]])


def test_the_keras2_signatures_are_the_wheels_not_memory():
    sig = keras2_layers.keras2_signatures()
    assert sig["AveragePooling2D"][0] == ("pool_size", [2, 2], False)
    assert sig["MaxPooling2D"][0] == ("pool_size", [2, 2], False)
    assert [p[0] for p in sig["RandomContrast"] if not p[2]] == ["factor", "seed"]
    assert ("causal", False, True) in sig["Attention"]  # 2.9's, kept beside 2.11's


def test_arguments_keras3_takes_itself_really_are_taken():
    for (layer, arg), removed in REMOVED.items():
        if removed.action == "keras3":
            diff = differences()[layer]
            default = diff.removed[arg][0]
            required = {"Embedding": dict(input_dim=5, output_dim=2)}[layer]
            with pytest.warns(UserWarning):
                getattr(layers, layer)(**required, **{arg: 3 if default is None else default})


def test_nothing_changes_until_the_habits_are_on():
    before = layers.AveragePooling2D.__init__
    with pytest.raises(TypeError, match="pool_size"):
        layers.AveragePooling2D(strides=(2, 2), padding="same")
    course.keras2_habits()
    try:
        assert layers.AveragePooling2D.__init__ is not before
    finally:
        course.keras2_habits(False)
    assert layers.AveragePooling2D.__init__ is before
    with pytest.raises(TypeError, match="pool_size"):
        layers.AveragePooling2D(strides=(2, 2), padding="same")


@pytest.mark.parametrize("name, default", [("AveragePooling1D", (2,)), ("AveragePooling2D", (2, 2)),
                                           ("AveragePooling3D", (2, 2, 2)), ("AvgPool2D", (2, 2))])
def test_pooling_takes_keras2s_default_pool_size(keras2, name, default, capsys):
    pool = getattr(layers, name)(strides=2, padding="same")
    assert tuple(np.atleast_1d(pool.pool_size)) == default
    assert "takes Keras 2's default pool_size" in capsys.readouterr().out
    assert tuple(np.atleast_1d(getattr(layers, name)(3).pool_size)) == (3,) * len(default)  # positional still wins


def test_positional_arguments_bind_by_keras2s_order(keras2):
    contrast = layers.RandomContrast(0.2, 42)  # Keras 2: seed=42; Keras 3's order would make it value_range
    assert contrast.seed == 42 and tuple(contrast.value_range) == (0, 255)
    embed = layers.Embedding(10, 4, "uniform", None, None, None, True)  # Keras 2: ..., activity_regularizer, ...
    assert embed.mask_zero is True and embed.embeddings_constraint is None
    mha = layers.MultiHeadAttention(2, 4, None, 0.0, True, None, None, "he_normal")
    assert isinstance(mha._kernel_initializer, keras.initializers.HeNormal)
    transpose = layers.Conv3DTranspose(4, 3, 1, "same", None, "channels_last")
    assert transpose.data_format == "channels_last"
    with pytest.raises(TypeError, match="multiple values"):
        layers.RandomContrast(0.2, 42, seed=1)
    class Named(layers.Layer):  # a student's layer calling Keras 2's Layer(trainable, name)
        def __init__(self):
            super().__init__(True, "mine")
    assert Named().name == "mine"


def test_removed_arguments_are_renamed_dropped_or_refused_with_the_fix(keras2, capsys):
    assert layers.LeakyReLU(alpha=0.1).negative_slope == pytest.approx(0.1)
    assert layers.BatchNormalization(fused=True).epsilon == pytest.approx(1e-3)
    assert "BatchNormalization ignores fused=" in capsys.readouterr().out
    layers.BatchNormalization(virtual_batch_size=None)  # Keras 2's default: it did nothing
    with pytest.raises(TypeError, match=r"BatchNormalization\(virtual_batch_size=8\).*ghost batch"):
        layers.BatchNormalization(virtual_batch_size=8)
    with pytest.raises(TypeError, match="use_causal_mask=True"):
        layers.Attention(causal=True)
    with pytest.raises(TypeError, match=r"RandomFlip\(rate=0.5\)"):
        layers.RandomFlip("horizontal", rate=0.5)
    with pytest.raises(TypeError, match="keras.ops.transpose"):
        layers.GRU(4, time_major=True)
    layers.SpatialDropout2D(0.2, noise_shape=None)
    layers.DepthwiseConv2D(3, kernel_initializer="he_normal")
    out = capsys.readouterr().out
    assert "SpatialDropout2D ignores noise_shape=" in out and "DepthwiseConv2D ignores kernel_initializer=" in out


def test_keras_own_subclasses_and_configs_are_untouched(keras2):
    """Keras' own constructors call their bases with Keras 3's arguments, and from_config with keywords."""
    model = keras.Sequential([keras.Input((8, 8, 3)), layers.Conv2D(4, 3), layers.BatchNormalization(),
                              layers.AveragePooling2D(pool_size=2), layers.Flatten(), layers.Dense(2)])
    clone = keras.Sequential.from_config(model.get_config())
    assert [type(layer) for layer in clone.layers] == [type(layer) for layer in model.layers]
    assert inspect.signature(layers.AveragePooling2D.__init__).parameters["pool_size"].default is \
        inspect.Parameter.empty  # the signature Keras reads is still the real one
