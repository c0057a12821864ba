import keras
import numpy as np
import pytest

from coursekit.losses import SmoothedCrossEntropy


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
