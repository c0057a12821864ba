"""What the FIT3181 checks share on both sides: the assignment's attack settings, the grader's data split (the same
in the student's process and the grader's), and small conversions."""
from __future__ import annotations

from pathlib import Path

import numpy as np

EPS, STEPS, STEP_SIZE = 0.0313, 20, 0.002  # the assignment's Q3.8 settings
EVAL_IMAGES = 96
# the FIT3181 A1 Part 3 models.py as the template hands it out (its classes, no YourModel, no attacks): the module a
# notebook handed in alone is built on, and the similarity pass's default boilerplate
TEMPLATE_GIVEN = Path(__file__).resolve().parents[1] / "template_given_fit3181.txt"


def _label_dict(data_dir):
    return {p.name: str(p) for p in sorted(Path(data_dir).iterdir()) if p.is_dir()}


def _decodes(path):
    from PIL import Image
    try:
        with Image.open(path) as im:
            im.load()
        return True
    except Exception:  # noqa: BLE001 (any unreadable file)
        return False


def _float32(a):
    return np.asarray(a, dtype=np.float32)


def kit_data_manager(data_dir):
    """The kit's own data manager on the grader's folder: the same split in the student's process and here."""
    import warnings

    from coursekit.datasets.animals import AnimalsDatasetManager
    from coursekit.datasets.preprocessing import SimplePreprocessor

    dm = AnimalsDatasetManager([SimplePreprocessor(32, 32)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dm.load(_label_dict(data_dir), verbose=-1)
    dm.process_data_label()
    dm.train_valid_test_split()
    return dm


def _graph(model, shape=(32, 32, 3)):
    from coursekit.nets.student_models import as_functional
    return as_functional(model, shape)
