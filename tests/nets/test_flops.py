from coursekit.nets.architectures import default_cnn, mlp
from coursekit.nets.flops import forward_flops


def test_default_cnn_forward_flops_by_hand():
    convs = 2 * 32 * 32 * (32 * 9 * 3 + 32 * 9 * 32) + 2 * 16 * 16 * (64 * 9 * 32 + 64 * 9 * 64)
    dense = 2 * 4096 * 10
    assert forward_flops(default_cnn(num_classes=10)) == convs + dense  # ~49 MFLOP, ~147 per training image


def test_mlp_flops():
    assert forward_flops(mlp(784, (20, 40), "relu", 10)) == 2 * (784 * 20 + 20 * 40 + 40 * 10)
