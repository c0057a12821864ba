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


@pytest.mark.slow
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


@pytest.mark.slow
def test_part1_notebook_runs_in_a_kernel():
    from tests.notebook_kernel import count_images, outputs_text, run_notebook

    nb = run_notebook(_notebook("part1_numerics"), dict(STUDENT_ID=1234))
    assert "loss = 0.402016" in outputs_text(nb)
    assert count_images(nb) == 2


@pytest.mark.slow
def test_part2_fashion_mnist_notebook_runs_in_a_kernel(tmp_path):
    from tests.datasets.test_fashion_mnist import write_fake_fashion
    from tests.notebook_kernel import count_images, outputs_text, run_notebook

    data = write_fake_fashion(tmp_path / "fashion", n_train=300, n_test=60)
    nb = run_notebook(_notebook("part2_fashion_mnist"), dict(
        EPOCHS=1, DATA_DIR=str(data), GRID={"n1": [20], "n2": [20, 40], "activation": ["relu"]}))
    text = outputs_text(nb)
    assert "(270, 784) (30, 784) (60, 784)" in text and "test accuracy" in text and "0.2 " in text
    assert count_images(nb) >= 1


@pytest.mark.slow
def test_part3_animals_notebook_runs_in_a_kernel():
    from tests.notebook_kernel import count_images, outputs_text, run_notebook

    nb = run_notebook(_notebook("part3_animals"), dict(
        EPOCHS=1, ADV_EPOCHS=1, MAX_IMAGES=20, GRID={"num_blocks": [2], "use_skip": [True], "learning_rate": [1e-3]}))
    text = outputs_text(nb)
    assert "(160, 32, 32, 3) (20, 32, 32, 3) (20, 32, 32, 3)" in text
    assert "SAM 0.05" in text and "PGD" in text
    assert count_images(nb) >= 5
    checks = [line for line in text.splitlines() if line.split()[:1] and line.split()[0] in CHECK_CELLS]
    assert sorted({line.split()[0] for line in checks}) == sorted(CHECK_CELLS)  # every check cell ran its checks
    assert not [line for line in checks if " FAIL " in line], checks  # and they pass on this project's models.py


CHECK_CELLS = ["import", "data_manager", "default_model", "fit", "your_model", "attack_fgsm", "attack_pgd",
               "attack_mim", "pgd_strength"]


def test_every_notebook_starts_with_the_one_setup_cell():
    import nbformat

    from assignment.notebook_setup import SETUP_CELL, first_code_cell

    for path in NOTEBOOKS:
        assert first_code_cell(nbformat.read(path, as_version=4)).source == SETUP_CELL, (
            f"{path.name}: run python -m assignment.notebook_setup")


FAKE_PIP = """
import os, pathlib, sys, sysconfig
args = sys.argv[1:]
pathlib.Path(os.environ["FAKE_PIP_LOG"]).write_text(" ".join(args))
assert args[:2] == ["install", "-q"] and args[2].startswith("git+"), args
clone = pathlib.Path(args[2][len("git+"):])
site = pathlib.Path(sysconfig.get_paths()["purelib"])
for name in ("coursekit", "assignment", "models.py"):  # what the wheel installs, linked from the "repository"
    (site / name).symlink_to(clone / name)
"""


@pytest.mark.slow
def test_setup_cell_outside_a_clone_pip_installs_the_library(tmp_path):
    """The Colab path: no clone around the notebook and no library installed, so the cell runs
    ``pip install git+PROJECT_GIT_URL`` (a stand-in pip here: nothing is downloaded) and imports it."""
    import os
    import subprocess
    import sys
    import sysconfig
    import venv

    from assignment.notebook_setup import SETUP_CELL

    root = Path(__file__).resolve().parents[1]
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # TensorFlow & co., not the project
    (tmp_path / "fake" / "pip").mkdir(parents=True)
    (tmp_path / "fake" / "pip" / "__init__.py").write_text("")
    (tmp_path / "fake" / "pip" / "__main__.py").write_text(FAKE_PIP)
    work = tmp_path / "colab"
    work.mkdir()
    (work / "cell.py").write_text(SETUP_CELL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSEKIT_")}
    env.update(PYTHONPATH=str(tmp_path / "fake"), FAKE_PIP_LOG=str(tmp_path / "pip.log"))
    refused = subprocess.run([str(python), "cell.py"], cwd=work, env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "PROJECT_GIT_URL" in refused.stderr
    env["COURSEKIT_GIT_URL"] = str(root)
    done = subprocess.run([str(python), "cell.py"], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "pip.log").read_text() == f"install -q git+{root}"
    assert f"project: {Path(site) / 'coursekit'}" in done.stdout  # imported from the installed library
    assert "TensorFlow 2." in done.stdout and ", Keras 3." in done.stdout and "device: CPU only" in done.stdout
    assert "replaced" not in done.stdout  # the stand-in pip moved no version: no restart asked for
    again = subprocess.run([str(python), "cell.py"], cwd=work, env={**env, "FAKE_PIP_LOG": str(tmp_path / "2")},
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and not (tmp_path / "2").exists()  # installed already: no second install


@pytest.mark.slow
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


@pytest.mark.slow
def test_technion_hw2_notebook_runs_in_a_kernel(tmp_path):
    from tests.datasets.test_imagenette import write_imagenette
    from tests.datasets.test_magic import write_magic
    from tests.notebook_kernel import count_images, outputs_text, run_notebook

    nb = run_notebook(_notebook("technion_hw2"), dict(
        DEPTH=40, WIDTH=64, TRIALS=50, MAGIC_FILE=str(write_magic(tmp_path / "magic04.data")), MAGIC_EPOCHS=2,
        IMAGENETTE=str(write_imagenette(tmp_path / "imagenette", n=10)), CNN_WIDTHS=(4, 8), CNN_EPOCHS=2,
        CNN_AUG_EPOCHS=1, SAVE_DIR=str(tmp_path / "saved")))
    text = outputs_text(nb)
    assert "first layer whose output holds NaN or inf" in text and "Logistic Regression test accuracy" in text
    assert "BatchNormalization layers: 0" in text and "with augmentation:" in text
    assert f"{tmp_path / 'saved' / 'imagenette_plain.h5'}: test accuracy" in text
    assert (tmp_path / "saved" / "imagenette_augmented.h5").is_file()
    assert count_images(nb) == 7  # layer stds, MLP curves, init comparison, samples, two CNN curves, noise
