"""``TrainConfig``: every setting that decides how a classifier trains, checked once, in one place."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from coursekit.training.augmentation import Augmentation
from coursekit.training.optimizers import check_optimizer_name
from coursekit.training.runtime import check_jit_compile
from coursekit.training.trainer import AdversarialTraining

# augment="crops": the augmentation a name stands for
AUGMENTATION_PRESETS = {"crops": Augmentation.crops}

SCHEDULES = ("constant", "cosine")
# settings that do not change what a run computes: left out of the resume fingerprint
_NOT_FINGERPRINTED = ("verbose", "jit_compile")


@dataclass(frozen=True)
class TrainConfig:
    """The training settings ``fit_classifier`` takes.

    ``optimizer`` is a name (``adam``, ``sgd``, ``momentum``, ...) or a Keras optimizer instance; with a name,
    ``learning_rate``, ``schedule`` (``"cosine"``: decays to 0 over the run,
    after ``warmup_epochs`` of a linear rise from 0) and ``weight_decay`` (decoupled, as
    AdamW) build it. ``label_smoothing`` applies to the default cross-entropy; ``loss`` replaces that loss
    (one-hot targets, logits). ``augment`` turns the preprocessing-layer augmentation on for data in
    ``value_range``: ``True`` for the template's mild set, ``"crops"`` for flips and whole-pixel shifts
    (``Augmentation.crops()``, YourModel's default), an ``Augmentation`` for other strengths;
    ``mixup_alpha`` and ``sam_rho`` are 0 when off; ``adversarial`` is an ``AdversarialTraining``.
    ``progressive_resizing=(size, n)`` trains the first ``n`` epochs on batches resized to ``size`` x ``size``
    after augmentation (progressive resizing: cheaper early epochs, then the data's own size; the network must
    accept any image size, e.g. ``keras.Input((None, None, 3))``). ``patience``
    enables early stopping on ``monitor`` (best weights restored).
    ``seed`` drives everything random. ``jit_compile``: ``None`` takes the run-wide setting, else ``'auto'``,
    ``True`` or ``False``. ``output_kind`` states what a student's network outputs when it cannot be read.
    """

    num_classes: int
    batch_size: int = 32
    epochs: int = 10
    optimizer: object = "adam"
    learning_rate: float = 1e-3
    schedule: str = "constant"
    warmup_epochs: float = 0.0
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    augment: bool | str | Augmentation = False
    value_range: tuple = (-1.0, 1.0)
    mixup_alpha: float = 0.0
    sam_rho: float = 0.0
    adversarial: AdversarialTraining | None = None
    progressive_resizing: tuple | None = None
    patience: int | None = None
    monitor: str = "val_accuracy"
    seed: int = 0
    verbose: bool = True
    loss: object = None
    output_kind: str | None = None
    jit_compile: object = None

    def __post_init__(self):
        problems = []
        if not (isinstance(self.num_classes, int) and self.num_classes >= 2):
            problems.append(f"num_classes must be an int >= 2, got {self.num_classes!r}")
        if int(self.epochs) < 1 or int(self.batch_size) < 1:
            problems.append(f"epochs and batch_size must be >= 1, got epochs={self.epochs}, "
                            f"batch_size={self.batch_size}")
        if not self.learning_rate > 0:
            problems.append(f"learning_rate must be positive, got {self.learning_rate!r}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if self.warmup_epochs and (self.schedule != "cosine" or not 0 < self.warmup_epochs < int(self.epochs)):
            problems.append(f"warmup_epochs needs schedule='cosine' and must be below epochs ({self.epochs}), "
                            f"got {self.warmup_epochs!r}")
        for name in ("weight_decay", "mixup_alpha", "sam_rho"):
            if not getattr(self, name) >= 0:
                problems.append(f"{name} must be >= 0 (0 = off), got {getattr(self, name)!r}")
        if not 0 <= self.label_smoothing < 1:
            problems.append(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}")
        preset = isinstance(self.augment, str) and self.augment in AUGMENTATION_PRESETS
        if not (isinstance(self.augment, (bool, Augmentation)) or preset):
            problems.append(f"augment must be True, False, {', '.join(map(repr, AUGMENTATION_PRESETS))} or an "
                            f"Augmentation(...), got {self.augment!r}")
        lo, hi = self.value_range
        if not lo < hi:
            problems.append(f"value_range must be (low, high) with low < high, got {self.value_range!r}")
        if self.adversarial is not None and not isinstance(self.adversarial, AdversarialTraining):
            problems.append(f"adversarial must be an AdversarialTraining(eps, steps, step_size), "
                            f"got {type(self.adversarial).__name__}")
        if self.progressive_resizing is not None:
            resize = self.progressive_resizing
            if not (isinstance(resize, (tuple, list)) and len(resize) == 2
                    and all(isinstance(v, int) and not isinstance(v, bool) for v in resize)
                    and resize[0] >= 8 and 1 <= resize[1] < int(self.epochs)):
                problems.append(f"progressive_resizing must be (size, epochs) with size >= 8 and 1 <= epochs < "
                                f"{self.epochs} (the run's epochs), or None, got {resize!r}")
            else:
                object.__setattr__(self, "progressive_resizing", (int(resize[0]), int(resize[1])))
        if self.patience is not None and (int(self.patience) != self.patience or self.patience < 1):
            problems.append(f"patience must be a positive integer or None (no early stopping), got {self.patience!r}")
        if self.output_kind not in (None, "logits", "probabilities"):
            problems.append(f"output_kind must be 'logits', 'probabilities' or None, got {self.output_kind!r}")
        if problems:
            raise ValueError("; ".join(problems))
        check_optimizer_name(self.optimizer)
        if self.jit_compile is not None:
            check_jit_compile(self.jit_compile)
        object.__setattr__(self, "value_range", (float(lo), float(hi)))

    @property
    def augmentation(self):
        """The ``Augmentation`` this run trains with, or ``None`` when ``augment`` is off."""
        if self.augment is False:
            return None
        if isinstance(self.augment, str):
            return AUGMENTATION_PRESETS[self.augment]()
        return Augmentation() if self.augment is True else self.augment

    def replace(self, **changes):
        """A copy with ``changes`` applied (and checked again)."""
        return dataclasses.replace(self, **changes)

    def fingerprint(self):
        """The settings a resumed run must share with the run that made its backup."""
        settings = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for name in _NOT_FINGERPRINTED:
            settings.pop(name)
        return settings
