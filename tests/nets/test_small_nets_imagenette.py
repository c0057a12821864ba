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
