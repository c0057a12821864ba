"""The student's process's side of FIT3181: the ``Context`` its collectors share (the imported module, the inputs
the grader wrote, a scratch folder)."""
from __future__ import annotations

import json
import sys
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
    inputs: Path  # the kit's inputs (images, its model, the evaluation set): written once a batch, read-only
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
        shared = Path(settings.get("shared") or inputs)
        return cls(module, shared, Path(submission), Path(scratch), settings["seed"],
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


# the objects each check runs of the student's code (attacks by kind): where they were defined goes in the report
CODE_OF = {"import": ("SimplePreprocessor", "AnimalsDatasetManager", "DefaultModel", "YourModel"),
           "data_manager": ("SimplePreprocessor", "AnimalsDatasetManager"), "default_model": ("DefaultModel",),
           "your_model": ("YourModel",), "fit": ("DefaultModel",), "attack_fgsm": ("fgsm",),
           "attack_pgd": ("pgd",), "attack_mim": ("mim",), "pgd_strength": ("pgd", "fgsm"),
           "saved_models": ("DefaultModel",)}


def _files_of(obj):
    """The files an object's own code was compiled from: a function's, or a class's own methods' (a class that
    defines none, e.g. ``class YourModel(DefaultModel): pass``, counts where its module is)."""
    import inspect

    if inspect.isfunction(obj):
        return {obj.__code__.co_filename}
    if inspect.isclass(obj):
        own = {f.__code__.co_filename for f in vars(obj).values() if inspect.isfunction(f)}
        return own or {getattr(sys.modules.get(obj.__module__), "__file__", None) or "?"}
    return set()


def code_sources(ctx, labels):
    """``{check: [file, ...]}``: which handed-in file each check's code came from. ``labels`` maps compiled file
    names (the module's path, the notebook's name) to what the report calls them; the library's own code is
    'the library'."""
    found = {}
    for check, names in CODE_OF.items():
        files = set()
        for name in names:
            obj = ctx.found_attacks.get(name) if name in ("fgsm", "pgd", "mim") else getattr(ctx.module, name, None)
            files |= _files_of(obj)
        found[check] = sorted({labels.get(f, "the library" if "coursekit" in f else Path(f).name) for f in files})
    return found
