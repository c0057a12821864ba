"""The walk-through notebooks: every code cell compiles; the Part 1 notebook runs top to bottom."""
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


def test_there_is_a_notebook_per_fit3181_part():
    assert [p.stem for p in NOTEBOOKS] == ["part1_numerics", "part2_fashion_mnist", "part3_animals"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_cells_compile(path):
    compile(code_of(path), str(path), "exec")


def test_part1_notebook_runs(monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(NOTEBOOKS[0].parent)
    cwd = os.getcwd()
    namespace = {}
    try:
        exec(compile(code_of(NOTEBOOKS[0]), "part1", "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert abs(namespace["values"]["loss"] - 0.402016) < 1e-6
