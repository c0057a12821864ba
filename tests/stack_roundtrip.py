"""One side of the cross-stack ``.h5`` test: ``python tests/stack_roundtrip.py write|read DIR``.

``write DIR``: a ``DefaultModel`` and a ``YourModel`` (weights set from a fixed seed, batch-norm statistics
included), each saved with ``DefaultModel.save`` into ``DIR``, and the Imagenette network as the task writes it
(trained in bfloat16, saved as a float32 raw-pixel model), with fixed inputs and their predictions and the
stack's versions. ``read DIR``: every ``.h5`` in ``DIR`` loaded with ``DefaultModel.load`` and with
``keras.models.load_model(path, compile=False)``; prints one JSON line of the largest prediction differences.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import models  # noqa: E402

SIZE, CLASSES = 16, 3


def write(folder):
    rng = np.random.default_rng(7)
    x = rng.random((6, SIZE, SIZE, 3), dtype=np.float32)
    np.save(folder / "x.npy", x)
    for cls in (models.DefaultModel, models.YourModel):
        net = cls(name=cls.__name__, width=SIZE, height=SIZE, num_classes=CLASSES, verbose=False)
        net.build_cnn()
        weights = [w + rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in net.model.get_weights()]
        net.model.set_weights([np.abs(w) + 0.5 if "variance" in v.path else w
                               for w, v in zip(weights, net.model.weights)])
        net.save(folder / f"{cls.__name__}.h5")
        np.save(folder / f"{cls.__name__}.npy", net.model.predict(x, verbose=0))
    import functools

    from coursekit.nets.pixel_models import pixel_model
    from coursekit.nets.saving import save_h5
    from coursekit.nets.small_nets import imagenette_resnet

    build = functools.partial(imagenette_resnet, SIZE, (4, 8))
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        trained = build()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    trained.set_weights([w + rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in trained.get_weights()])
    pixels = pixel_model(build, trained)
    save_h5(pixels, folder / "imagenette_plain.h5")
    np.save(folder / "imagenette_plain.npy", pixels.predict(x, verbose=0))
    (folder / "stack.json").write_text(json.dumps({"tensorflow": tf.__version__, "keras": keras.__version__,
                                                   "numpy": np.__version__}))


def read(folder):
    x = np.load(folder / "x.npy")
    result = {"keras": keras.__version__}
    for path in sorted(folder.glob("*.h5")):
        expected = np.load(path.with_suffix(".npy"))
        loaders = {"DefaultModel.load": lambda p: models.DefaultModel(name="reader").load(p),
                   "keras.models.load_model": lambda p: keras.models.load_model(p, compile=False)}
        for how, load in loaders.items():
            try:
                diff = float(np.abs(load(path).predict(x, verbose=0) - expected).max())
            except Exception as exc:  # noqa: BLE001 (reported to the test)
                diff = f"{type(exc).__name__}: {str(exc)[:300]}"
            result[f"{path.stem} {how}"] = diff
    print(json.dumps(result))


if __name__ == "__main__":
    {"write": write, "read": read}[sys.argv[1]](Path(sys.argv[2]))
