"""The first code cell of every walk-through notebook, kept in one place.

``python -m assignment.notebook_setup`` writes ``SETUP_CELL`` into each notebook under
``assignment/notebooks/`` (replacing its first code cell); a test checks they agree.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"

SETUP_CELL = '''\
# Setup. Inside the project (any folder of a clone) this only makes it importable. Elsewhere, e.g. on
# Colab, it clones the project from PROJECT_GIT_URL and installs requirements.txt first (a few minutes,
# once per runtime; set COURSEKIT_SKIP_INSTALL=1 to skip the install).
import os, subprocess, sys
from pathlib import Path
PROJECT_GIT_URL = os.environ.get("COURSEKIT_GIT_URL", "")  # e.g. "https://github.com/<you>/<this project>.git"
ROOT = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "coursekit").is_dir()), None)
if ROOT is None:
    if not PROJECT_GIT_URL:
        raise RuntimeError("this notebook runs on the project's code: open it inside a clone of the project, "
                           "or set PROJECT_GIT_URL in this cell to the project's git URL and run it again")
    ROOT = Path("coursekit_project").resolve()
    if not (ROOT / "coursekit").is_dir():
        subprocess.run(["git", "clone", "--depth", "1", PROJECT_GIT_URL, str(ROOT)], check=True)
        if not os.environ.get("COURSEKIT_SKIP_INSTALL"):
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", str(ROOT / "requirements.txt")],
                           check=True)
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
import coursekit  # before TensorFlow loads: the library's TensorFlow settings (quiet start-up, fast CPU kernels)
print("project:", ROOT)'''


def first_code_cell(nb):
    return next(cell for cell in nb.cells if cell.cell_type == "code")


def sync(paths=None):
    """Write ``SETUP_CELL`` as the first code cell of each notebook; returns the ones changed."""
    changed = []
    for path in paths or sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cell = first_code_cell(nb)
        if cell.source != SETUP_CELL:
            cell.source = SETUP_CELL
            nbformat.write(nb, path)
            changed.append(path)
    return changed


if __name__ == "__main__":
    for path in sync():
        print("updated", path)
    sys.exit(0)
