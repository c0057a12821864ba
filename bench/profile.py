"""``python -m bench.profile``: where a training step and an attack step of the default CNN spend time.

Times one compiled forward pass, forward + gradient w.r.t. the input (an attack step) and
forward + gradient w.r.t. the weights (a training step) on one batch, and prints each as
images/s and as forward-pass GFLOP/s.
"""
import time

import numpy as np

import coursekit  # noqa: F401  (quiet TensorFlow start-up)
import tensorflow as tf  # noqa: E402

from coursekit.nets.architectures import default_cnn  # noqa: E402
from coursekit.nets.flops import forward_flops  # noqa: E402
from coursekit.report.tables import format_table  # noqa: E402


def main(batch=64, repeats=100):
    net = default_cnn(num_classes=10)
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (batch, 32, 32, 3)).astype(np.float32))
    y = tf.one_hot(np.arange(batch) % 10, 10)

    def loss_of(inputs):
        return tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(y, net(inputs)))

    @tf.function
    def forward(inputs):
        return net(inputs, training=False)

    @tf.function
    def input_gradient(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = loss_of(inputs)
        return tape.gradient(loss, inputs)

    @tf.function
    def weight_gradient(inputs):
        with tf.GradientTape() as tape:
            loss = loss_of(inputs)
        return tape.gradient(loss, net.trainable_variables)

    rows = []
    for name, fn in (("forward only", forward), ("forward + grad w.r.t. input (attack step)", input_gradient),
                     ("forward + grad w.r.t. weights (training step)", weight_gradient)):
        fn(x)
        start = time.perf_counter()
        for _ in range(repeats):
            out = fn(x)
        tf.nest.map_structure(lambda t: t.numpy(), out)
        per_batch = (time.perf_counter() - start) / repeats
        rows.append({"step": name, "img/s": round(batch / per_batch),
                     "forward GFLOP/s": round(batch * forward_flops(net) / per_batch / 1e9, 1),
                     "ms/batch": round(per_batch * 1e3, 2)})
    print(format_table(rows))


if __name__ == "__main__":
    main()
