"""Score an Imagenette ``.h5`` with plain Keras, no project code: ``python bench/score_imagenette_h5.py FILE VAL_DIR``.

Reads ``VAL_DIR/<wnid>/*`` (labels in sorted-wnid order, as ``metrics.json``'s ``class_names``), feeds the raw
pixel values (float32 in [0, 255]) to the network and prints its accuracy, and its accuracy with flip test-time
augmentation (the softmax of each image and of its mirror, averaged): the check that the files
``python -m assignment imagenette`` writes stand on their own. Run it from outside the project (e.g. ``cd /tmp``)
so that nothing of it can be imported.
"""
import sys
from pathlib import Path

import keras
import numpy as np
from PIL import Image


def main(model_path, folder):
    model = keras.models.load_model(model_path, compile=False)
    root = Path(folder)
    wnids = sorted(p.name for p in root.iterdir() if p.is_dir())
    x, y = [], []
    for label, wnid in enumerate(wnids):
        for f in sorted((root / wnid).iterdir()):
            with Image.open(f) as image:
                x.append(np.asarray(image.convert("RGB"), np.float32))
            y.append(label)
    x, y = np.stack(x), np.array(y)
    logits = model.predict(x, batch_size=256, verbose=0).astype(np.float64)
    mirrored = model.predict(x[:, :, ::-1], batch_size=256, verbose=0).astype(np.float64)
    both = sum(np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)
               for z in (logits, mirrored))
    print(f"{model_path}: Keras {keras.__version__}, {len(y)} images {x.shape[1:]}, accuracy "
          f"{(logits.argmax(1) == y).mean():.4f}, with flip test-time augmentation {(both.argmax(1) == y).mean():.4f}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.splitlines()[0])
    main(*sys.argv[1:])
