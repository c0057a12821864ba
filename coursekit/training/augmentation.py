"""On-the-fly data augmentation with Keras preprocessing layers (training only)."""
import keras
from keras import layers


def build_augmenter(value_range=(-1.0, 1.0), seed=None, flip="horizontal", translation=0.1, rotation=0.05,
                    zoom=0.1, contrast=0.1):
    """Random flips, translations, rotations, zooms and contrast changes.

    The layers are the identity unless called with ``training=True``, and the trainer
    calls them only inside its training step, so evaluation, prediction and attacks
    always see the original images. ``value_range`` is passed to the layers that would
    otherwise assume [0, 255] (contrast), so [-1, 1] data stays [-1, 1].
    """
    seq = []
    if flip:
        seq.append(layers.RandomFlip(flip, seed=seed))
    if translation:
        seq.append(layers.RandomTranslation(translation, translation, seed=_next(seed, 1)))
    if rotation:
        seq.append(layers.RandomRotation(rotation, seed=_next(seed, 2)))
    if zoom:
        seq.append(layers.RandomZoom(zoom, zoom, seed=_next(seed, 3)))
    if contrast:
        seq.append(layers.RandomContrast(contrast, value_range=tuple(value_range), seed=_next(seed, 4)))
    return keras.Sequential(seq, name="augmentation")


def _next(seed, k):
    return None if seed is None else int(seed) + k
