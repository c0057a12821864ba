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
# Setup. Inside a clone of the project this only makes it importable. Elsewhere, e.g. on Colab, it installs the
# library from PROJECT_GIT_URL ("pip install git+URL", about a minute, once per runtime) unless it is installed
# already; set COURSEKIT_SKIP_INSTALL=1 to skip the install. The install keeps the runtime's own TensorFlow, Keras
# and NumPy (the library supports Colab's versions), so no restart is needed. It prints what it found.
import importlib.metadata, importlib.util, os, subprocess, sys
from pathlib import Path
PROJECT_GIT_URL = os.environ.get("COURSEKIT_GIT_URL", "")  # e.g. "https://github.com/<you>/<this project>.git"
ROOT = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "coursekit").is_dir()), None)
def _versions():
    found = {}
    for name in ("tensorflow", "tensorflow-cpu", "keras", "numpy"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found
if ROOT is not None:
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
elif importlib.util.find_spec("coursekit") is None:
    if not PROJECT_GIT_URL:
        raise RuntimeError("this notebook runs on the project's library: open it inside a clone of the project, "
                           "pip install it, or set PROJECT_GIT_URL in this cell to the project's git URL")
    if not os.environ.get("COURSEKIT_SKIP_INSTALL"):
        before = _versions()
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"git+{PROJECT_GIT_URL}"], check=True)
        importlib.invalidate_caches()
        moved = [f"{name} {old} -> {_versions().get(name)}" for name, old in before.items()
                 if _versions().get(name) != old]
        if moved:
            print("WARNING: the install replaced", ", ".join(moved), "- restart the runtime (Runtime > Restart "
                  "session), then run this cell again")
import coursekit  # before TensorFlow loads: the library's TensorFlow settings (quiet start-up, fast CPU kernels)
import keras, tensorflow as tf
_gpus = tf.config.list_physical_devices("GPU")
_device = (", ".join(tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in _gpus)
           if _gpus else "CPU only (no GPU seen: on Colab, Runtime > Change runtime type > GPU)")
print("project:", ROOT or Path(coursekit.__file__).parent)
print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, device: {_device}")'''


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
