import pytest
from keras import layers

from coursekit.nets import small_nets


@pytest.mark.parametrize("build, count", [(small_nets.mnist_mlp, 101_770), (small_nets.mnist_cnn, 47_658),
                                          (small_nets.cifar_linear, 30_730), (small_nets.cifar_convnet, 258_058)])
def test_parameter_counts_match_the_assignments(build, count):
    assert build().count_params() == count


def test_mnist_cnn_has_an_activation_between_its_dense_layers_unless_asked_for_the_seeds():
    assert small_nets.mnist_cnn().get_layer("fc1").activation.__name__ == "relu"
    seed_style = small_nets.mnist_cnn(hidden_activation=None)
    assert seed_style.get_layer("fc1").activation.__name__ == "linear" and seed_style.count_params() == 47_658


def test_parameter_table_shows_the_arithmetic():
    rows = small_nets.parameter_table(small_nets.mnist_cnn())
    assert [r["arithmetic"] for r in rows[:-1]] == ["5*5*1*10 + 10", "5*5*10*20 + 20", "320*128 + 128",
                                                    "128*10 + 10"]
    assert [r["params"] for r in rows] == [260, 5020, 41088, 1290, 47658]
    assert rows[1]["output_shape"] == "(8, 8, 20)"


def test_cifar_convnet_does_not_pad_and_ends_in_logits():
    net = small_nets.cifar_convnet()
    assert net.get_layer("flatten").output.shape[-1] == 3200
    assert not any(isinstance(layer, layers.Softmax) for layer in net.layers)
    assert net.layers[-1].activation.__name__ == "linear"
