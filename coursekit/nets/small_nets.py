"""The small networks of the ported assignments (DS 5220 MNIST, RecVis CIFAR-10), and their parameter arithmetic.

They output logits (no softmax layer): the losses are computed from logits, as the
assignments' PyTorch originals do with ``log_softmax`` + NLL or ``CrossEntropyLoss``. The last
layer computes in float32, so logits and losses stay float32 under a mixed-precision policy.
"""
from __future__ import annotations

import keras
from keras import layers


def mnist_mlp(hidden=128, num_classes=10, name="mnist_mlp"):
    """DS 5220 P2: 784 -> ``hidden`` (ReLU) -> ``num_classes``; 101,770 parameters with 128 hidden units."""
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Flatten(name="flatten")(inputs)
    x = layers.Dense(hidden, activation="relu", name="fc1")(x)
    return keras.Model(inputs, layers.Dense(num_classes, name="fc2", dtype="float32")(x), name=name)


def mnist_cnn(num_classes=10, hidden_activation="relu", name="mnist_cnn"):
    """DS 5220 P3: conv5x5x10, ReLU, max-pool 2, conv5x5x20, ReLU, max-pool 2, fc128, ReLU, fc10.

    47,658 parameters. The seed has no activation between fc1 and fc2, which makes them one
    linear map; ``hidden_activation=None`` reproduces that, the count is the same.
    """
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(10, 5, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(20, 5, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation=hidden_activation, name="fc1")(x)
    return keras.Model(inputs, layers.Dense(num_classes, name="fc2", dtype="float32")(x), name=name)


def cifar_linear(num_classes=10, name="cifar_linear"):
    """RecVis P3: one linear layer 3072 -> 10 on flattened 32x32x3 images (30,730 parameters)."""
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Flatten(name="flatten")(inputs)
    return keras.Model(inputs, layers.Dense(num_classes, name="fc", dtype="float32")(x), name=name)


def cifar_convnet(num_classes=10, name="cifar_convnet"):
    """RecVis P3: conv5x5x16, max-pool 2, tanh, conv5x5x128, max-pool 2, tanh, fc64, tanh, fc10.

    258,058 parameters; the convolutions do not pad (PyTorch's ``Conv2d`` default), so
    32 -> 28 -> 14 -> 10 -> 5 and the flattened size is 5*5*128 = 3,200.
    """
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Conv2D(16, 5, name="conv1")(inputs)
    x = layers.Activation("tanh", name="tanh1")(layers.MaxPooling2D(2, name="pool1")(x))
    x = layers.Conv2D(128, 5, name="conv2")(x)
    x = layers.Activation("tanh", name="tanh2")(layers.MaxPooling2D(2, name="pool2")(x))
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(64, activation="tanh", name="fc1")(x)
    return keras.Model(inputs, layers.Dense(num_classes, name="fc2", dtype="float32")(x), name=name)


def parameter_table(model):
    """One row per layer with weights: its output shape, the parameter arithmetic and the count.

    Convolutions read ``kh*kw*c_in*c_out + c_out``, dense layers ``n_in*n_out + n_out``;
    the last row is the total.
    """
    rows = []
    for layer in model.layers:
        count = layer.count_params()
        if not count:
            continue
        if isinstance(layer, layers.Conv2D):
            kh, kw = layer.kernel_size
            c_in, c_out = layer.kernel.shape[2], layer.filters
            formula = f"{kh}*{kw}*{c_in}*{c_out}" + (f" + {c_out}" if layer.use_bias else "")
        elif isinstance(layer, layers.Dense):
            n_in, n_out = layer.kernel.shape
            formula = f"{n_in}*{n_out}" + (f" + {n_out}" if layer.use_bias else "")
        else:
            formula = " + ".join(str(int(w.numpy().size)) for w in layer.weights)
        rows.append({"layer": layer.name, "output_shape": str(tuple(layer.output.shape[1:])), "arithmetic": formula,
                     "params": count})
    rows.append({"layer": "total", "output_shape": "", "arithmetic": "", "params": model.count_params()})
    return rows


def imagenette_cnn(size=64, widths=(32, 64, 128, 256), groups=8, dropout=0.3, num_classes=10, name="imagenette_cnn"):
    """Technion HW2 Task 3: a CNN with no BatchNormalization (GroupNorm instead), from scratch.

    Per stage: two [conv3x3, GroupNorm, ReLU], then 2x2 max pooling; after the last stage global
    average pooling, dropout and a linear layer to the class logits.
    """
    inputs = keras.Input((size, size, 3), name="image")
    x = inputs
    for s, filters in enumerate(widths, start=1):
        for k in (1, 2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"s{s}_conv{k}")(x)
            x = layers.GroupNormalization(groups=min(groups, filters), name=f"s{s}_gn{k}")(x)
            x = layers.Activation("relu", name=f"s{s}_relu{k}")(x)
        x = layers.MaxPooling2D(2, name=f"s{s}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, layers.Dense(num_classes, name="logits", dtype="float32")(x), name=name)


def model_size_mb(model, bytes_per_param=4):
    """The weights' size in MB (2**20 bytes), float32 by default."""
    return model.count_params() * bytes_per_param / 2 ** 20
