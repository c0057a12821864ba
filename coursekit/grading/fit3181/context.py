"""The student's process's side of FIT3181: the ``Context`` its collectors share (the imported module, the inputs
the grader wrote, a scratch folder)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from coursekit.grading.fit3181.attack_checks import discover_attacks
from coursekit.grading.fit3181.common import kit_data_manager


@dataclass
class Context:
    """What the collectors share in the student's process: the module, the inputs the grader wrote, a scratch
    folder for saved weights."""
    module: object
    inputs: Path
    submission: Path
    scratch: Path
    seed: int = 0
    value_range: tuple = (-1.0, 1.0)
    num_classes: int = 3
    safe_files: list = field(default_factory=list)
    found_attacks: dict = field(default_factory=dict)
    _data: object = None
    _kit_model: object = None

    @classmethod
    def from_inputs(cls, module, inputs, submission, scratch):
        settings = json.loads((Path(inputs) / "settings.json").read_text())
        return cls(module, Path(inputs), Path(submission), Path(scratch), settings["seed"],
                   tuple(settings["value_range"]), settings["num_classes"], settings["safe_files"],
                   discover_attacks(module))

    @property
    def images(self):
        return self.inputs / "images"

    @property
    def data(self):
        if self._data is None:
            self._data = kit_data_manager(self.images)
        return self._data

    @property
    def kit_model(self):
        if self._kit_model is None:
            from coursekit.nets.saving import load_h5
            self._kit_model = load_h5(self.inputs / "kit_model.h5")
        return self._kit_model

    def eval_set(self):
        return np.load(self.inputs / "eval_x.npy"), np.load(self.inputs / "eval_y.npy")
