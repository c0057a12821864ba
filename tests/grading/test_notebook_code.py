"""A handed-in notebook's definitions are taken, its driver cells never run (``coursekit.grading.notebook_code``)."""
import json
import types

import pytest

from coursekit.grading.notebook_code import definitions, execute, pick_notebook
from tests.grading.class_2022_style import notebook_json

CELLS = [
    ("code", "!pip install -q opencv-python\n%matplotlib inline\nimport numpy as np\nfrom math import sqrt as root"),
    ("markdown", "## Question 3.8"),
    ("code", "EPS = 0.0313\nNAMES = ('fgsm', 'pgd')\nloss_fn = tf.keras.losses.SparseCategoricalCrossentropy("
             "from_logits=False)\nnet = DefaultModel(num_classes=data_manager.num_classes)\nX = np.load('x.npy')"),
    ("code", "@decorate\ndef fgsm_attack(model, x, y, epsilon=EPS):\n    return x + epsilon\n\n"
             "history = model.fit(X, y, epochs=10_000)\nfor i in range(10):\n    print(i)"),
    ("code", "%%time\nclass NotPython:\n    pass"),
    ("code", "class Broken(:\n    pass"),
    ("code", "class YourModel(DefaultModel):\n    def build_cnn(self):\n        if True:\n            !echo hi\n"
             "        return 1\n\nx = 1; y = sqrt(2)"),
]


@pytest.fixture
def notebook(tmp_path):
    path = tmp_path / "A1.ipynb"
    path.write_text(notebook_json(CELLS))
    return path


def test_definitions_imports_and_literal_constants_are_kept_and_driver_statements_are_not(notebook):
    code = definitions(notebook)
    assert code.defined == ["np", "root", "EPS", "NAMES", "loss_fn", "fgsm_attack", "YourModel", "x"]
    assert code.left_out == {"shell or magic line": 2, "assignment": 4, "for": 1, "cell magic": 1}
    assert code.unparsable_cells == [5]
    kept = code.source()
    assert "model.fit" not in kept and "np.load" not in kept and "data_manager" not in kept and "!pip" not in kept
    assert "@decorate\ndef fgsm_attack" in kept  # a decorator stays with its function
    assert "pass  # !echo hi" in kept  # a shell line inside a definition becomes pass, the indentation kept
    assert "# A1.ipynb, code cell 3\n@decorate" in kept and "sqrt(2)" not in kept  # x = 1 alone, not its line


def test_executing_the_definitions_runs_them_one_by_one_and_reports_each_failure(notebook):
    module = types.ModuleType("models")
    module.DefaultModel = object
    ns = vars(module)
    ns["tf"] = types.SimpleNamespace(keras=types.SimpleNamespace(losses=types.SimpleNamespace(
        SparseCategoricalCrossentropy=lambda from_logits: ("loss", from_logits))))
    failed = execute(definitions(notebook), ns, "A1.ipynb")
    assert [(cell, what) for cell, what, _ in failed] == [(3, "fgsm_attack")]  # 'decorate' is not defined
    assert "NameError" in failed[0][2]
    assert module.EPS == 0.0313 and module.loss_fn == ("loss", False) and module.YourModel().build_cnn() == 1
    assert module.YourModel.build_cnn.__code__.co_filename == "A1.ipynb"  # where the report says it came from


def test_a_file_that_is_not_a_notebook_is_named_in_the_error(tmp_path):
    (tmp_path / "A1.ipynb").write_text("{}")
    with pytest.raises(ValueError, match="A1.ipynb holds no 'cells' list"):
        definitions(tmp_path / "A1.ipynb")
    (tmp_path / "B.ipynb").write_text("not json")
    with pytest.raises(ValueError, match="B.ipynb is not a readable notebook"):
        definitions(tmp_path / "B.ipynb")


def test_the_notebook_with_the_most_definitions_is_picked_and_checkpoints_are_not(tmp_path):
    (tmp_path / "scratch.ipynb").write_text(notebook_json([("code", "print(1)")]))
    (tmp_path / "A1.ipynb").write_text(notebook_json([("code", "def f():\n    pass\n\nclass C:\n    pass")]))
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "A1-checkpoint.ipynb").write_text(
        notebook_json([("code", "def a(): pass\ndef b(): pass\ndef c(): pass")]))
    (tmp_path / "broken.ipynb").write_text(json.dumps({"cells": 3}))
    assert pick_notebook(tmp_path) == tmp_path / "A1.ipynb"
    empty = tmp_path / "none"
    empty.mkdir()
    assert pick_notebook(empty) is None
