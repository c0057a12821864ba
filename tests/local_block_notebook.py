"""A 2022 Part 3 notebook's pattern, run as ``__main__`` (as a kernel runs it): ``python tests/local_block_notebook.py
DIR MODE``.

Its ``build_cnn`` defines the layer class ``Block`` inside the method (so it is no name in ``__main__``), with required
constructor arguments and no ``get_config``, and pools with ``AveragePooling2D(strides=(2, 2), padding='same')`` (no
``pool_size``: Keras 2's default). ``MODE``:

- ``save``: train one epoch and one epoch of PGD adversarial training, save with ``model.save('DIR/models/robust_model')`` and reload with
  ``tf.keras.models.load_model('DIR/models/robust_model/')`` in the same process; attack the reloaded model with PGD,
  print its summary and its evaluation, and the largest prediction difference;
- ``reload`` / ``reload-trusted``: a fresh process loads the folder only (``safe_mode=False`` for the second),
  and prints whether a SavedModel was read (``tf.saved_model.load`` is watched).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.keras import layers  # noqa: E402

import models  # noqa: E402

models.keras2_habits()
folder = Path(sys.argv[1]) / "models" / "robust_model"
mode = sys.argv[2]
rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (24, 16, 16, 3)).astype(np.float32)
y = np.arange(24) % 3

opened = []
_load = tf.saved_model.load
tf.saved_model.load = lambda *a, **k: opened.append(a[0]) or _load(*a, **k)


class StudentModel(models.YourModel):
    def build_cnn(self):
        class Block(tf.keras.layers.Layer):
            def __init__(self, batch_norm, use_skip, num_filters, **kwargs):
                super().__init__(**kwargs)
                self.use_skip = use_skip
                self.conv = layers.Conv2D(num_filters, (3, 3), padding="same")
                self.bn = layers.BatchNormalization() if batch_norm else None
                self.shortcut = layers.Conv2D(num_filters, (1, 1), padding="same")
                self.pool = layers.AveragePooling2D(strides=(2, 2), padding="same")

            def call(self, x, training=False):
                h = self.conv(x)
                if self.bn is not None:
                    h = self.bn(h, training=training)
                h = tf.nn.relu(h)
                if self.use_skip:
                    h = h + self.shortcut(x)
                return self.pool(h)

        self.model = tf.keras.models.Sequential([layers.InputLayer(input_shape=(self.height, self.width, self.depth))])
        for i in range(self.num_blocks):
            self.model.add(Block(self.batch_norm, self.use_skip, self.feature_maps[i]))
        self.model.add(layers.Flatten())
        self.model.add(layers.Dense(self.num_classes, activation="softmax"))
        self.model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])


if mode == "save":
    net = StudentModel(name="robust", width=16, height=16, num_classes=3, num_blocks=2, feature_maps=4,
                       batch_norm=True, use_skip=True, verbose=False)
    net.build_cnn()
    net.model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for start in range(0, len(x), 8):  # the notebook's hand-written PGD adversarial training, one epoch
        xb, yb = x[start:start + 8], y[start:start + 8]
        net.model.train_on_batch(models.pgd(net.model, xb, yb, eps=0.03, steps=3, step_size=0.01), yb)
    print("adversarially trained")
    net.model.save(str(folder))
    robust = tf.keras.models.load_model(str(folder) + "/")
    print("max difference", float(np.abs(robust.predict(x, verbose=0) - net.model.predict(x, verbose=0)).max()))
    x_adv = models.pgd(robust, x, y, eps=0.05, steps=5, step_size=0.02)
    print("pgd max change", float(np.abs(x_adv - x).max()))
    print("pgd accuracy", float(np.mean(robust.predict(x_adv, verbose=0).argmax(1) == y)),
          "clean accuracy", float(np.mean(robust.predict(x, verbose=0).argmax(1) == y)))
    robust.summary()
    print("evaluate", robust.evaluate(x, y, verbose=0))
else:
    try:
        robust = tf.keras.models.load_model(str(folder) + "/", safe_mode=mode != "reload-trusted")
        print("loaded", robust.predict(x, verbose=0).shape)
    finally:
        print("saved models opened", opened)
