"""The template's habits, kept here only as the baseline the benchmark compares against.

Sequential / functional models ending in ``Dense(softmax)``, ``model.fit`` on float64 numpy,
and attacks as eager Python loops over ``GradientTape`` with the loss computed on probabilities.
"""
import keras
import numpy as np
import tensorflow as tf
from keras import layers


def default_cnn(width=32, height=32, depth=3, num_classes=10):
    """The template's default network, written as the template wrote it."""
    model = keras.Sequential([
        keras.Input((height, width, depth)),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.AveragePooling2D(pool_size=2),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.AveragePooling2D(pool_size=2),
        layers.Flatten(),
        layers.Dense(num_classes, activation="softmax"),
    ])
    return model


def residual_cnn(width=32, height=32, depth=3, num_blocks=3, feature_maps=32, num_classes=10):
    """A typical student ``YourModel``: the same blocks, ending in ``Dense(softmax)``."""
    inputs = keras.Input((height, width, depth))
    x = inputs
    for i in range(num_blocks):
        filters = feature_maps * 2 ** i
        shortcut = x
        x = layers.Conv2D(filters, 3, padding="same")(x)
        x = layers.Activation("relu")(layers.BatchNormalization()(x))
        x = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(x))
        if shortcut.shape[-1] != filters:
            shortcut = layers.Conv2D(filters, 1, padding="same")(shortcut)
        x = layers.Activation("relu")(layers.Add()([x, shortcut]))
        x = layers.AveragePooling2D(2, strides=2, padding="same")(x)
        x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(layers.Flatten()(x))
    return keras.Model(inputs, outputs)


def compile_and_fit(model, x, y, batch_size, epochs, callbacks=()):
    """``model.fit`` on float64 numpy with integer labels, as the template does."""
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model.fit(x.astype(np.float64), y, batch_size=batch_size, epochs=epochs, verbose=0,
                     callbacks=list(callbacks))


def _grad(model, x, y):
    xt = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = keras.losses.sparse_categorical_crossentropy(y, model(xt))
    return tape.gradient(loss, xt).numpy()


def fgsm(model, x, y, eps):
    return np.clip(x + eps * np.sign(_grad(model, x, y)), -1, 1)


def pgd(model, x, y, eps, steps, step_size, seed=0):
    x_adv = np.clip(x + np.random.default_rng(seed).uniform(-eps, eps, x.shape), -1, 1)
    for _ in range(steps):
        x_adv = x_adv + step_size * np.sign(_grad(model, x_adv, y))
        x_adv = np.clip(np.clip(x_adv, x - eps, x + eps), -1, 1)
    return x_adv


def mim(model, x, y, eps, steps, step_size, decay=1.0):
    x_adv, g = x.copy(), np.zeros_like(x)
    for _ in range(steps):
        grad = _grad(model, x_adv, y)
        g = decay * g + grad / np.maximum(np.abs(grad).sum(axis=(1, 2, 3), keepdims=True), 1e-12)
        x_adv = np.clip(np.clip(x_adv + step_size * np.sign(g), x - eps, x + eps), -1, 1)
    return x_adv


# --- seed-style loops of the ported assignments --------------------------------------------------


def seed_double_moon_loop(Xtr, Ytr, Xval, Yval, h, lr, steps, rng):
    """The RecVis seed's ``train_loop``: one Python step per example, two full error evaluations each.

    The seed's ``sigm`` no longer runs on numpy 2 (``np.where`` on a 0-d array); a plain
    ``1 / (1 + exp(-x))`` stands in, as fast and with the same overflow warnings.
    """
    def sigm(x):
        return 1 / (1 + np.exp(-x))

    def forward(X, Y, Wi, bi, Wo, bo):
        Yo = np.dot(np.maximum(np.dot(X, Wi) + bi, 0), Wo) + bo
        return sigm(Yo), Yo, np.log(1 + np.exp(-Y * Yo))

    Wi, Wo, bi, bo = rng.standard_normal((2, h)), np.zeros(h), np.zeros(h), 0.0
    tr_error, val_error = np.zeros(steps), np.zeros(steps)
    with np.errstate(over="ignore"):
        for i in range(steps):
            n = rng.integers(len(Xtr))
            X, Y = Xtr[n], Ytr[n]
            pre = Wi.T @ X + bi
            H = (pre > 0) * pre
            d = -Y * sigm(-Y * (np.dot(Wo, H) + bo))
            gWi, gbi, gWo, gbo = d * np.outer(X, (H > 0) * Wo), d * ((H > 0) * Wo), d * H, d
            Wi, Wo, bi, bo = Wi - lr * gWi, Wo - lr * gWo, bi - lr * gbi, bo - lr * gbo
            tr_error[i] = 100 * np.mean(np.sign(forward(Xtr, Ytr, Wi, bi, Wo, bo)[1]) != Ytr)
            val_error[i] = 100 * np.mean(np.sign(forward(Xval, Yval, Wi, bi, Wo, bo)[1]) != Yval)
    return tr_error, val_error


def eager_train_epoch(dataset, model, optimizer):
    """A DS 5220-style epoch written the plain way: a Python loop of eager ``GradientTape`` steps."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    correct = 0
    for x, y in dataset:
        with tf.GradientTape() as tape:
            out = model(x, training=True)
            loss = loss_fn(y, out)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        correct += int(tf.reduce_sum(tf.cast(tf.argmax(out, 1) == tf.cast(y, tf.int64), tf.int32)))
    return correct


def template_load(label_folder_dict, size=(32, 32), max_num_images=500):
    """The template's loader loop: ``cv2.imread`` + ``cv2.resize`` file by file (no checks: a bad
    file crashes it, a truncated JPEG comes back half grey). Returns ``(images, labels)``."""
    import cv2
    import os

    data, labels = [], []
    for label in sorted(label_folder_dict):
        folder = label_folder_dict[label]
        for name in sorted(os.listdir(folder))[:max_num_images]:
            image = cv2.imread(os.path.join(folder, name))
            data.append(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
            labels.append(label)
    return np.array(data), np.array(labels)


def eager_binary_epoch(x, y, model, optimizer, batch_size):
    """A Technion-style epoch for a one-logit classifier: a Python loop of eager steps on BCE-with-logits."""
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    order = np.random.default_rng(0).permutation(len(x))
    for start in range(0, len(x), batch_size):
        idx = order[start:start + batch_size]
        xb, yb = tf.constant(x[idx]), tf.constant(y[idx, None].astype(np.float32))
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
