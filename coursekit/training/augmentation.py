"""On-the-fly data augmentation with Keras preprocessing layers (training only)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import keras
from keras import layers

INTERPOLATIONS = ("bilinear", "nearest")


@dataclass(frozen=True)
class Augmentation:
    """How strongly ``build_augmenter`` perturbs a training image; ``TrainConfig(augment=Augmentation(...))``.

    The defaults are the template's mild set (``augment=True``). ``zoom`` is Keras's ``RandomZoom`` factor, drawn
    separately for height and width (so the aspect ratio varies too): a float ``f`` for ``[-f, f]`` or a
    ``(low, high)`` pair; negative zooms in (a random crop, enlarged), positive zooms out. Zero turns a
    transform off; ``flip`` is ``"horizontal"``, ``"vertical"``, ``"horizontal_and_vertical"`` or ``None``.
    ``interpolation`` resamples the shifted, rotated and zoomed images: ``"bilinear"`` (Keras' default) or
    ``"nearest"``, which keeps a translation alone a whole-pixel shift with the border reflected (the
    pad-and-crop of the fast CIFAR recipes: ``Augmentation.crops()``) instead of a blur.
    """

    flip: str | None = "horizontal"
    translation: float = 0.1
    rotation: float = 0.05
    zoom: float | tuple = 0.1
    contrast: float = 0.1
    interpolation: str = "bilinear"

    @classmethod
    def crops(cls, shift=0.1875):
        """Flips and whole-pixel shifts of up to ``shift`` of a side, the border reflected (6 px at 32x32), and
        nothing else: a random crop of the image padded by reflection, as the fast-training records use."""
        return cls(flip="horizontal", translation=shift, rotation=0.0, zoom=0.0, contrast=0.0,
                   interpolation="nearest")

    def __post_init__(self):
        problems = []
        if self.flip not in (None, "horizontal", "vertical", "horizontal_and_vertical"):
            problems.append(f"flip must be 'horizontal', 'vertical', 'horizontal_and_vertical' or None, "
                            f"got {self.flip!r}")
        for name in ("translation", "rotation", "contrast"):
            if not 0 <= getattr(self, name) < 1:
                problems.append(f"{name} must be in [0, 1) (0 = off), got {getattr(self, name)!r}")
        if self.interpolation not in INTERPOLATIONS:
            problems.append(f"interpolation must be one of {', '.join(INTERPOLATIONS)}, got {self.interpolation!r}")
        zoom = self.zoom
        if isinstance(zoom, (tuple, list)):
            if not (len(zoom) == 2 and -1 < zoom[0] <= zoom[1]):
                problems.append(f"zoom must be a float or a (low, high) pair with -1 < low <= high, got {zoom!r}")
            else:
                object.__setattr__(self, "zoom", (float(zoom[0]), float(zoom[1])))
        elif not 0 <= zoom < 1:
            problems.append(f"zoom must be in [0, 1) (0 = off) or a (low, high) pair, got {zoom!r}")
        if problems:
            raise ValueError("; ".join(problems))

    def describe(self):
        """One line for a log, e.g. ``flip, translation 0.1, rotation 0.05, zoom (-0.3, 0.1), contrast 0.1``."""
        parts = ["flip" if self.flip == "horizontal" else f"flip {self.flip}"] if self.flip else []
        parts += [f"{name} {getattr(self, name)}" for name in ("translation", "rotation", "zoom", "contrast")
                  if getattr(self, name)]
        if self.interpolation != "bilinear" and (self.translation or self.rotation or self.zoom):
            parts.append(f"{self.interpolation} resampling")
        return ", ".join(parts) or "none"

    def as_kwargs(self):
        """The keyword arguments of ``build_augmenter``."""
        return dataclasses.asdict(self)


# the defaults are Augmentation's, so augment=True and a bare build_augmenter() stay the same set
def build_augmenter(value_range=(-1.0, 1.0), seed=None, flip=Augmentation.flip, translation=Augmentation.translation,
                    rotation=Augmentation.rotation, zoom=Augmentation.zoom, contrast=Augmentation.contrast,
                    interpolation=Augmentation.interpolation):
    """Random flips, translations, rotations, zooms and contrast changes (see ``Augmentation`` for the factors).

    The layers are the identity unless called with ``training=True``, and the trainer
    calls them only inside its training step, so evaluation, prediction and attacks
    always see the original images. ``value_range`` is passed to the layers that would
    otherwise assume [0, 255] (contrast), so [-1, 1] data stays [-1, 1].
    """
    seq = []
    if flip:
        seq.append(layers.RandomFlip(flip, seed=seed))
    if translation:
        seq.append(layers.RandomTranslation(translation, translation, interpolation=interpolation,
                                            seed=_next(seed, 1)))
    if rotation:
        seq.append(layers.RandomRotation(rotation, interpolation=interpolation, seed=_next(seed, 2)))
    if any(zoom) if isinstance(zoom, (tuple, list)) else zoom:
        zoom = tuple(zoom) if isinstance(zoom, (tuple, list)) else zoom
        seq.append(layers.RandomZoom(zoom, zoom, interpolation=interpolation, seed=_next(seed, 3)))
    if contrast:
        seq.append(layers.RandomContrast(contrast, value_range=tuple(value_range), seed=_next(seed, 4)))
    return keras.Sequential(seq, name="augmentation")


def _next(seed, k):
    return None if seed is None else int(seed) + k
