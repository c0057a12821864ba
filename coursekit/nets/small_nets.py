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


NORMS = ("group", "layer", "none")


def _conv_norm(x, filters, name, norm, groups, strides=1, kernel=3, relu=True, zero_scale=False):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=norm == "none", name=f"{name}_conv")(x)
    scale = "zeros" if zero_scale else "ones"
    if norm == "group":
        x = layers.GroupNormalization(groups=min(groups, filters), gamma_initializer=scale, name=f"{name}_gn")(x)
    elif norm == "layer":
        x = layers.LayerNormalization(gamma_initializer=scale, name=f"{name}_ln")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x) if relu else x


def imagenette_resnet(size=64, widths=(48, 96, 192, 384), norm="group", groups=8, dropout=0.2, num_classes=10,
                      input_scale=None, test_size=None, name="imagenette_resnet"):
    """Technion HW2 Task 3, the passing design: a residual CNN with no BatchNormalization, from scratch.

    A strided 4x4 stem takes the 64 px image to 32 px at ``widths[0]`` channels (it sees every pixel, at a
    quarter of the cost of full-resolution convolutions); then, as in ResNet-9 (Page, 2018), one residual
    block (x + [conv3x3, norm, ReLU, conv3x3, norm], then ReLU; the second norm's scale starts at 0) at 32 px, and per further stage a conv3x3 to the new width, 2x2 max
    pooling and another residual block (16, 8, 4 px for four widths); global average pooling, dropout and a
    float32 linear layer to the logits. ``norm``: ``"group"`` (GroupNorm, ``groups`` groups), ``"layer"`` or
    ``"none"``. Inputs are pixels scaled to [0, 1]; with ``input_scale`` (e.g. ``1 / 255``) a ``Rescaling`` layer
    first multiplies them by it, so the network takes raw pixel values (it has no weights: the two variants share
    theirs, see ``coursekit.nets.pixel_models``). ``size=None`` takes images of any size (progressive resizing
    trains on smaller ones first); with ``test_size`` a weightless ``Resizing`` layer enlarges the input to
    ``test_size`` x ``test_size`` first (testing above the training size makes up for random crops showing objects
    larger than whole images do: Touvron et al., 2019, "Fixing the train-test resolution discrepancy").
    """
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
    inputs = keras.Input((size, size, 3), name="image")
    x = inputs if input_scale is None else layers.Rescaling(input_scale, name="pixels_to_unit")(inputs)
    if test_size is not None and test_size != size:
        x = layers.Resizing(test_size, test_size, interpolation="bilinear", name="test_resize")(x)
    x = _conv_norm(x, widths[0], "stem", norm, groups, strides=2, kernel=4)
    for s, filters in enumerate(widths, start=1):
        if s > 1:
            x = _conv_norm(x, filters, f"s{s}_in", norm, groups)
            x = layers.MaxPooling2D(2, name=f"s{s}_pool")(x)
        y = _conv_norm(x, filters, f"s{s}_res1", norm, groups)
        # the branch's last norm starts at scale 0 (Goyal et al., 2017): each block starts as the identity
        y = _conv_norm(y, filters, f"s{s}_res2", norm, groups, relu=False, zero_scale=norm != "none")
        x = layers.Activation("relu", name=f"s{s}_out")(layers.Add(name=f"s{s}_add")([x, y]))
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, layers.Dense(num_classes, name="logits", dtype="float32")(x), name=name)


def model_size_mb(model, bytes_per_param=4):
    """The weights' size in MB (2**20 bytes), float32 by default."""
    return model.count_params() * bytes_per_param / 2 ** 20
