"""The walk-through notebooks: every code cell compiles; notebooks run top to bottom in a real kernel."""
import json
from pathlib import Path

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


def test_part1_notebook_runs_in_a_kernel():
    from tests.notebook_kernel import count_images, outputs_text, run_notebook

    nb = run_notebook(_notebook("part1_numerics"), dict(STUDENT_ID=1234))
    assert "loss = 0.402016" in outputs_text(nb)
    assert count_images(nb) == 2


def test_part2_fashion_mnist_notebook_runs_in_a_kernel(tmp_path):
    from tests.datasets.test_fashion_mnist import write_fake_fashion
    from tests.notebook_kernel import count_images, outputs_text, run_notebook

    data = write_fake_fashion(tmp_path / "fashion", n_train=300, n_test=60)
    nb = run_notebook(_notebook("part2_fashion_mnist"), dict(
        EPOCHS=1, DATA_DIR=str(data), GRID={"n1": [20], "n2": [20, 40], "activation": ["relu"]}))
    text = outputs_text(nb)
    assert "(270, 784) (30, 784) (60, 784)" in text and "test accuracy" in text and "0.2 " in text
    assert count_images(nb) >= 1


def test_part3_animals_notebook_runs_in_a_kernel():
    from tests.notebook_kernel import count_images, outputs_text, run_notebook

    nb = run_notebook(_notebook("part3_animals"), dict(
        EPOCHS=1, ADV_EPOCHS=1, MAX_IMAGES=20, GRID={"num_blocks": [2], "use_skip": [True], "learning_rate": [1e-3]}))
    text = outputs_text(nb)
    assert "(160, 32, 32, 3) (20, 32, 32, 3) (20, 32, 32, 3)" in text
    assert "SAM 0.05" in text and "PGD" in text
    assert count_images(nb) >= 5


def test_every_notebook_starts_with_the_one_setup_cell():
    import nbformat

    from assignment.notebook_setup import SETUP_CELL, first_code_cell

    for path in NOTEBOOKS:
        assert first_code_cell(nbformat.read(path, as_version=4)).source == SETUP_CELL, (
            f"{path.name}: run python -m assignment.notebook_setup")


def test_setup_cell_outside_the_project_clones_it(tmp_path, monkeypatch):
    """The Colab path: no project around the notebook, so the cell clones it (here from this checkout)."""
    import subprocess
    import sys

    from assignment.notebook_setup import SETUP_CELL

    root = Path(__file__).resolve().parents[1]
    if subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("not a git checkout")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSEKIT_SKIP_INSTALL", "1")
    monkeypatch.delenv("COURSEKIT_GIT_URL", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    with pytest.raises(RuntimeError, match="PROJECT_GIT_URL"):
        exec(SETUP_CELL, {})
    monkeypatch.setenv("COURSEKIT_GIT_URL", str(root))
    namespace = {}
    exec(SETUP_CELL, namespace)
    assert namespace["ROOT"] == tmp_path / "coursekit_project"
    assert (tmp_path / "coursekit_project" / "coursekit" / "training.py").is_file()
    assert Path.cwd() == tmp_path / "coursekit_project" and sys.path[0] == str(namespace["ROOT"])


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
