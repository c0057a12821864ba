"""The grader's side of FIT3181: the ``Kit`` (its images, split, trained model and own attacks' results), built
once per batch or loaded from a saved folder (Gradescope's image), and the inputs it hands the student's process."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from coursekit.grading.fit3181.common import (EPS, EVAL_IMAGES, STEP_SIZE, STEPS, TEMPLATE_GIVEN, _decodes,
                                              _float32, _graph, _label_dict, kit_data_manager)


@dataclass
class Kit:
    """What only the grader holds: its images' readable count, its split and labels, its trained model and its
    own attacks' results on the evaluation images. Built once per batch (``Kit.build``)."""
    data_dir: Path
    seed: int = 0
    rubric: dict = field(default_factory=dict)
    value_range: tuple = (-1.0, 1.0)
    num_classes: int = 0
    readable: int = 0
    dm: object = None
    model: object = None
    eval_x: np.ndarray = None
    eval_y: np.ndarray = None
    kit_adv: dict = field(default_factory=dict)
    template: Path = TEMPLATE_GIVEN  # the models.py handed out: beneath a notebook handed in without one
    submission: Path = None  # the grader's copy of the submission being judged (files only, never imported)
    safe_files: list = field(default_factory=list)
    model_file: Path = None  # a saved kit's model, loaded by ``ready()`` (so the grader holds no TensorFlow while
    #                          the submission's process runs: on a 768 MB Gradescope container both would not fit)

    TEMPLATE_FILE = "template/models.py"  # where the shared inputs and a saved kit keep the template
    SAVED = ("kit.json", "kit_model.h5", "eval_x.npy", "eval_y.npy", "kit_adv.npz", "images")

    @classmethod
    def build(cls, data_dir, seed=0, template=None):
        import keras

        from coursekit.attacks import fgsm, mim, pgd
        from coursekit.nets.architectures import default_cnn
        from coursekit.training.config import TrainConfig
        from coursekit.training.fit import fit_classifier

        kit = cls(Path(data_dir), seed, template=Path(template) if template else TEMPLATE_GIVEN)
        labels = _label_dict(data_dir)
        kit.num_classes = len(labels)
        kit.readable = sum(_decodes(p) for folder in labels.values() for p in sorted(Path(folder).iterdir()))
        kit.dm = kit_data_manager(data_dir)
        dm = kit.dm
        kit.eval_x = np.concatenate([_float32(dm.X_test), _float32(dm.X_valid), _float32(dm.X_train)])[:EVAL_IMAGES]
        kit.eval_y = np.concatenate([np.asarray(v) for v in (dm.y_test, dm.y_valid, dm.y_train)])[:EVAL_IMAGES]
        kit.eval_y = kit.eval_y.astype(np.int64)
        keras.utils.set_random_seed(seed)
        net = default_cnn(32, 32, 3, kit.num_classes, name="kit_model")  # a template-style softmax CNN
        config = TrainConfig(num_classes=kit.num_classes, batch_size=16, epochs=10, learning_rate=1e-3, seed=seed,
                             verbose=False)
        fit_classifier(net, (_float32(dm.X_train), dm.y_train), None, config)
        kit.model = net
        x, y, vr = kit.eval_x, kit.eval_y, kit.value_range
        kit.kit_adv = {"fgsm": fgsm(net, x, y, EPS, value_range=vr),
                       "pgd": pgd(net, x, y, EPS, STEPS, STEP_SIZE, value_range=vr, seed=seed),
                       "mim": mim(net, x, y, EPS, STEPS, STEP_SIZE, value_range=vr)}
        return kit

    def save(self, folder):
        """Write the kit to ``folder`` (the Gradescope image keeps it): ``Kit.load`` gives back the same kit without
        training again. The folder holds the grader's secrets (its model, its attacks' results): keep it private."""
        folder = self.write_shared(folder)  # the images, the model, the evaluation set, the template
        np.savez(folder / "kit_adv.npz", **self.kit_adv)
        (folder / "kit.json").write_text(json.dumps({"seed": self.seed, "value_range": list(self.value_range),
                                                     "num_classes": self.num_classes, "readable": self.readable}))
        return folder

    @classmethod
    def load(cls, folder):
        """The kit ``save`` wrote, without TensorFlow: its model and data manager come with ``ready()``."""
        folder = Path(folder)
        missing = [name for name in cls.SAVED if not (folder / name).exists()]
        if missing:
            raise FileNotFoundError(f"{folder} is not a saved grading kit: {', '.join(missing)} missing (it is "
                                    "written by Kit.save, e.g. by the autograder's setup.sh)")
        meta = json.loads((folder / "kit.json").read_text())
        with np.load(folder / "kit_adv.npz") as adv:
            kit_adv = {k: adv[k] for k in adv.files}
        return cls(folder / "images", meta["seed"], value_range=tuple(meta["value_range"]),
                   num_classes=meta["num_classes"], readable=meta["readable"], eval_x=np.load(folder / "eval_x.npy"),
                   eval_y=np.load(folder / "eval_y.npy"), kit_adv=kit_adv, model_file=folder / "kit_model.h5",
                   template=folder / cls.TEMPLATE_FILE if (folder / cls.TEMPLATE_FILE).is_file() else TEMPLATE_GIVEN)

    def ready(self):
        """Load what a saved kit left on disk (the model, the data manager) before the checks are judged."""
        if self.model is None and self.model_file is not None:
            from coursekit.nets.saving import load_h5
            self.model = load_h5(self.model_file)
        if self.dm is None:
            self.dm = kit_data_manager(self.data_dir)
        return self

    def accuracy(self, x, model=None):
        model = self.model if model is None else model
        return float(np.mean(_float32(_graph(model, x.shape[1:]).predict(x, verbose=0)).argmax(1) == self.eval_y))

    def write_shared(self, folder):
        """The inputs every submission's process reads, written once a batch: the images, the kit's model, the
        evaluation images and labels, and the template's ``models.py`` a notebook handed in alone is built on. The
        caller makes the folder read-only to submissions (``sandbox.share_read_only``); ``save`` writes the same."""
        import shutil

        from coursekit.nets.saving import save_h5

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.data_dir, folder / "images", dirs_exist_ok=True)
        if self.model is None:
            shutil.copyfile(self.model_file, folder / "kit_model.h5")
        else:
            save_h5(self.model, folder / "kit_model.h5")
        np.save(folder / "eval_x.npy", self.eval_x)
        np.save(folder / "eval_y.npy", self.eval_y)
        (folder / self.TEMPLATE_FILE).parent.mkdir(exist_ok=True)
        shutil.copyfile(self.template, folder / self.TEMPLATE_FILE)
        return folder

    def write_settings(self, folder, shared):
        """One submission's own inputs: the settings, where the shared inputs are, and the handed-in model files
        that passed the safety check."""
        (Path(folder) / "settings.json").write_text(json.dumps({
            "seed": self.seed, "value_range": list(self.value_range), "num_classes": self.num_classes,
            "shared": str(shared), "safe_files": [str(p.relative_to(self.submission)) for p in self.safe_files]}))
