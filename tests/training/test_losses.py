import keras
import numpy as np
import pytest

from coursekit.training.losses import SmoothedCrossEntropy


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.15, 0.2])
@pytest.mark.parametrize("from_logits", [True, False])
def test_hand_written_label_smoothing_equals_keras_builtin(alpha, from_logits):
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (32, 10)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 32)]
    pred = logits if from_logits else keras.ops.softmax(logits).numpy()
    ours = SmoothedCrossEntropy(alpha, from_logits=from_logits)(y, pred)
    keras_value = keras.losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=alpha)(y, pred)
    np.testing.assert_allclose(float(ours), float(keras_value), rtol=1e-5)


def test_smoothing_changes_the_loss_and_bad_alpha_is_refused():
    y = np.eye(3, dtype=np.float32)[[0, 1]]
    logits = np.array([[5.0, 0, 0], [0, 5.0, 0]], np.float32)
    assert float(SmoothedCrossEntropy(0.2, True)(y, logits)) > float(SmoothedCrossEntropy(0.0, True)(y, logits))
    with pytest.raises(ValueError, match="alpha"):
        SmoothedCrossEntropy(1.0)


def test_config_round_trip_keeps_alpha_and_logits_mode():
    # a model compiled with this loss and saved (.keras, or compile=True .h5) rebuilds it from get_config
    loss = SmoothedCrossEntropy(0.15, from_logits=True, name="smooth")
    config = loss.get_config()
    assert (config["alpha"], config["from_logits"], config["name"]) == (0.15, True, "smooth")
    again = SmoothedCrossEntropy.from_config(config)
    y = np.eye(4, dtype=np.float32)[[0, 3]]
    logits = np.array([[2.0, -1, 0, 1], [0, 0, 3, -2]], np.float32)
    assert float(again(y, logits)) == pytest.approx(float(loss(y, logits)))


def test_defaults_are_alpha_0_1_on_probabilities():
    rng = np.random.default_rng(1)
    probs = keras.ops.softmax(rng.normal(0, 2, (8, 5)).astype(np.float32)).numpy()
    y = np.eye(5, dtype=np.float32)[rng.integers(0, 5, 8)]
    loss = SmoothedCrossEntropy()
    assert loss.name == "smoothed_cross_entropy"
    assert float(loss(y, probs)) == pytest.approx(
        float(keras.losses.CategoricalCrossentropy(label_smoothing=0.1)(y, probs)), rel=1e-5)


@pytest.mark.parametrize("from_logits", [True, False])
def test_sequence_targets_unnormalised_and_certain_predictions_match_keras(from_logits):
    rng = np.random.default_rng(2)
    y = np.eye(5, dtype=np.float32)[rng.integers(0, 5, (4, 3))]  # [batch, time, classes]: classes is the last axis
    pred = rng.normal(0, 2, (4, 3, 5)).astype(np.float32)
    if not from_logits:
        pred = 3.0 * keras.ops.softmax(pred).numpy()  # scores that do not sum to 1: normalised first, as Keras does
    for alpha in (0.0, 0.2):
        keras_value = keras.losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=alpha)(y, pred)
        assert float(SmoothedCrossEntropy(alpha, from_logits)(y, pred)) == pytest.approx(float(keras_value), rel=1e-5)
    if not from_logits:  # a certain, correct prediction costs -log(1 - epsilon), not 0: probabilities are clipped
        certain = np.array([[1.0, 0.0, 0.0]], np.float32)
        keras_value = float(keras.losses.CategoricalCrossentropy()(certain, certain))
        assert keras_value > 0 and float(SmoothedCrossEntropy(0.0)(certain, certain)) == pytest.approx(keras_value)


def test_float64_loss_with_integer_one_hot_labels():
    # Loss keyword arguments (here dtype) reach Keras; labels are cast to the predictions' type
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, (6, 4))
    y = np.eye(4, dtype=np.int32)[rng.integers(0, 4, 6)]
    loss = SmoothedCrossEntropy(0.1, from_logits=True, dtype="float64", reduction="sum")
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    want = -np.sum((0.9 * y + 0.1 / 4) * log_p)
    got = loss(y, logits)
    assert got.dtype == "float64" and float(got) == pytest.approx(want, rel=1e-12)


def test_one_logit_loss_is_binary_cross_entropy_on_the_positive_column():
    from coursekit.training.losses import OneHotBinaryCrossentropy

    logits = np.array([[2.0], [-1.0], [0.5]])
    y = np.eye(2, dtype=np.int32)[[1, 0, 0]]
    want = np.log1p(np.exp(-np.array([2.0, 1.0, -0.5])))  # -log sigmoid(+-z) for the true class
    default = OneHotBinaryCrossentropy()
    assert default.name == "binary_crossentropy"
    assert float(default(y, logits.astype(np.float32))) == pytest.approx(want.mean(), rel=1e-6)
    in_float64 = OneHotBinaryCrossentropy(name="bce", dtype="float64", reduction="sum")
    got = in_float64(y, logits)
    assert in_float64.name == "bce" and got.dtype == "float64" and float(got) == pytest.approx(want.sum(), rel=1e-12)


def test_one_logit_accuracy_calls_a_zero_logit_negative():
    from coursekit.training.losses import OneHotBinaryAccuracy

    metric = OneHotBinaryAccuracy(dtype="float64")
    assert metric.name == "accuracy" and metric.dtype == "float64"
    y = np.eye(2, dtype=np.float32)[[1, 0, 0, 0]]
    metric.update_state(y, np.array([[0.3], [0.0], [-2.0], [0.0]], np.float32))
    assert float(metric.result()) == 1.0  # a logit of exactly 0 is class 0 (sigmoid 0.5 is not > 0.5)
