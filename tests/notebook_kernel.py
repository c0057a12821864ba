"""Execute a notebook top to bottom in a real Jupyter kernel, with parameters injected."""
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

ROOT = Path(__file__).resolve().parents[1]


def run_notebook(path, params=None, timeout=900):
    """Run ``path`` from its own folder; ``params`` (name -> value) are set in a cell placed after the
    cell tagged ``parameters``. Returns the executed notebook; a cell that raises fails the call."""
    nb = nbformat.read(path, as_version=4)
    if params:
        tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
        assert tagged, f"{path.name} has no cell tagged 'parameters'"
        source = "# injected by the tests\n" + "\n".join(f"{k} = {v!r}" for k, v in params.items())
        nb.cells.insert(tagged[0] + 1, new_code_cell(source))
    env_backup = dict(os.environ)
    os.environ.update(MPLBACKEND="module://matplotlib_inline.backend_inline", TF_CPP_MIN_LOG_LEVEL="2",
                      PYTHONPATH=str(ROOT))
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    return nb


def outputs_text(nb):
    """All stream and plain-text outputs of the executed notebook, joined."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") or out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def count_images(nb):
    return sum("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))
