"""A 2022 notebook's cells, run as ``__main__`` (as a kernel runs them): ``python tests/own_layer_notebook.py DIR``.

It defines its own, unregistered ``Block`` layer, saves a ``Sequential`` of it with ``model.save('DIR/models/
robust_model/')`` under ``keras2_habits()`` and reloads it with ``tf.keras.models.load_model``; prints the largest
prediction difference. With ``unknown`` as a second argument the file names a class the notebook never defined, and
only its ``model.keras`` is kept (the SavedModel export beside it removed, as for a file handed over alone).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import models  # noqa: E402

models.keras2_habits()


class Block(keras.layers.Layer):
    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.conv = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")
        self.pool = keras.layers.MaxPooling2D()

    def call(self, x):
        return self.pool(self.conv(x))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


model = tf.keras.models.Sequential([keras.Input((8, 8, 3)), Block(4), keras.layers.Flatten(), keras.layers.Dense(3)])
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
folder = Path(sys.argv[1]) / "models" / "robust_model"
model.save(str(folder) + "/")
if sys.argv[2:] == ["unknown"]:
    del Block  # as if the cell defining it had not been run in this session
    import shutil
    (folder / "saved_model.pb").unlink()
    shutil.rmtree(folder / "variables")
x = np.random.default_rng(0).random((4, 8, 8, 3), dtype=np.float32)
robust = tf.keras.models.load_model(str(folder) + "/")
print("max difference", float(np.abs(robust.predict(x, verbose=0) - model.predict(x, verbose=0)).max()))
