"""The walk-through notebooks: every code cell compiles; notebooks run top to bottom in a real kernel."""
import json
import os
from pathlib import Path

import matplotlib
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "assignment" / "notebooks").glob("*.ipynb"))


def code_of(path):
    cells = json.loads(path.read_text())["cells"]
    lines = []
    for cell in cells:
        if cell["cell_type"] == "code":
            # IPython magics (%matplotlib, !pip) are not Python
            lines += [ln for ln in "".join(cell["source"]).splitlines() if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def test_there_is_a_notebook_per_assignment_part():
    assert [p.stem for p in NOTEBOOKS] == ["ds5220_mnist", "part1_numerics", "part2_fashion_mnist", "part3_animals",
                                           "recvis_a2", "technion_hw2"]


def _notebook(stem):
    return next(p for p in NOTEBOOKS if p.stem == stem)


def test_ds5220_mnist_notebook_runs_in_a_kernel(tmp_path):
    from tests.datasets.test_mnist import write_fake_mnist
    from tests.notebook_kernel import count_images, outputs_text, run_notebook

    data = write_fake_mnist(tmp_path / "mnist", n_train=320, n_test=100)
    nb = run_notebook(_notebook("ds5220_mnist"), dict(EPOCHS=1, LOG_INTERVAL=2, DATA_DIR=str(data)))
    text = outputs_text(nb)
    assert "Train Data: Mean=" in text and "CNN test accuracy" in text and "47658" in text
    assert count_images(nb) == 5  # samples, loss curve, predictions, two grids of mistakes


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_cells_compile(path):
    compile(code_of(path), str(path), "exec")


def test_part1_notebook_runs(monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(_notebook("part1_numerics").parent)
    cwd = os.getcwd()
    namespace = {}
    try:
        exec(compile(code_of(_notebook("part1_numerics")), "part1", "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert abs(namespace["values"]["loss"] - 0.402016) < 1e-6


def test_recvis_a2_notebook_runs_in_a_kernel(tmp_path):
    from tests.datasets.test_cifar10 import write_cifar_folders
    from tests.notebook_kernel import count_images, outputs_text, run_notebook

    cifar = write_cifar_folders(tmp_path / "cifar", n=3)
    nb = run_notebook(_notebook("recvis_a2"), dict(EPOCHS=1, TRIALS=2, GRADCHECK_CASES=20, CIFAR_DIR=str(cifar),
                                                   CIFAR_EPOCHS=1))
    text = outputs_text(nb)
    assert "SUCCESS" in text and "both sweeps" in text and "(1, 370, 498, 3)" not in text  # the sample photo
    assert "max_pool_15" in text and "258058" in text and "ConvNet test accuracy" in text
    assert count_images(nb) >= 12


def test_technion_hw2_notebook_runs_in_a_kernel(tmp_path):
    from tests.datasets.test_imagenette import write_imagenette
    from tests.datasets.test_magic import write_magic
    from tests.notebook_kernel import count_images, outputs_text, run_notebook

    nb = run_notebook(_notebook("technion_hw2"), dict(
        DEPTH=40, WIDTH=64, TRIALS=50, MAGIC_FILE=str(write_magic(tmp_path / "magic04.data")), MAGIC_EPOCHS=2,
        IMAGENETTE=str(write_imagenette(tmp_path / "imagenette", n=10)), CNN_WIDTHS=(4, 8), CNN_EPOCHS=1))
    text = outputs_text(nb)
    assert "first layer whose output holds NaN or inf" in text and "Logistic Regression test accuracy" in text
    assert "BatchNormalization layers: 0" in text and "test accuracy with augmentation" in text
    assert count_images(nb) == 6  # layer stds, MLP curves, init comparison, samples, two CNN curves
