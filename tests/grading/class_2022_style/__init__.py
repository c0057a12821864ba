"""A class handing in work as the 2022 FIT3181 students did, written for these tests (not copied from anyone).

The course material: ``handout.cells`` (the notebook handed out, in the percent format: ``# %%`` starts a code cell;
not a ``.py``, as its shell and magic lines are not Python),
``tutorial_attacks.py`` (the course's attack tutorial) and ``keras_io_mixup.py`` (the public mixup example), plus
the template's ``models.py`` (``coursekit/grading/template_given_fit3181.txt``).

Seven students, each written by hand in a style of their own (``students/*.cells``): ana copies the tutorial's FGSM and PGD
and the example's Beta sampler; ben writes a custom residual layer and numpy attacks; chen uses projection shortcuts
and a ``tf.function`` gradient; dev puts YourModel and the attacks in ``models.py``; eli uses identity shortcuts and
``while`` loops; fay subclasses ``keras.Model`` and runs all three attacks through one loop; gus is the template-style
solution of ``tests/grading/template_submission.py`` (a ``models.py`` only). Each notebook is the handout's cells
with the student's own cells where the skeleton cells were, as handed in (every cell run, training for hours).

What each hands in: ana and ben a notebook alone; chen, eli and fay a notebook beside the template's ``models.py``
unchanged; dev a notebook and a ``models.py`` holding their code; gus a ``models.py`` alone. ``COPIES`` are three
copies of chen: identical, renamed and reordered, and with the MIM rewritten.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parents[2] / "coursekit" / "grading" / "template_given_fit3181.txt"
INDEPENDENT = ("ana", "ben", "chen", "dev", "eli", "fay", "gus")
COPIES = {"copy_identical": "chen", "copy_renamed": "chen", "copy_other_mim": "chen"}
NOTEBOOK_ONLY, BESIDE_TEMPLATE = ("ana", "ben"), ("chen", "eli", "fay")


def cells(text):
    """``[(kind, source)]`` of a percent-format file (``# %%`` code, ``# %% [markdown]`` markdown)."""
    found, kind, lines = [], None, []
    for line in text.splitlines():
        if line.startswith("# %%"):
            if kind is not None:
                found.append((kind, "\n".join(lines).strip("\n")))
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            lines.append(line[2:] if kind == "markdown" and line.startswith("# ") else line)
    if kind is not None:
        found.append((kind, "\n".join(lines).strip("\n")))
    return found


def notebook_json(cell_list, run=True):
    """An nbformat-4 notebook of ``cell_list``, every code cell marked as run when ``run``."""
    out, count = [], 0
    for kind, source in cell_list:
        cell = {"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True)}
        if kind == "code":
            count += 1
            cell.update(execution_count=count if run else None, outputs=[])
        out.append(cell)
    return json.dumps({"cells": out, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                 "language": "python"}},
                       "nbformat": 4, "nbformat_minor": 5}, indent=1)


def handout_cells():
    return cells((HERE / "handout.cells").read_text())


def student_cells(name):
    """The student's notebook: the handout's cells, the skeleton cells replaced by the student's own."""
    own = cells((HERE / "students" / f"{name}.cells").read_text())
    result, placed = [], False
    for kind, source in handout_cells():
        if "#Insert your code here" in source or source.startswith("our_network_skip = YourModel"):
            if not placed:
                result += own
                placed = True
            continue
        result.append((kind, source))
    return result


def _renamed(cell_list):
    renames = {"feat": "features", "main": "trunk", "shortcut": "bypass", "images": "batch", "current": "x_cur",
               "lower": "lo_bound", "upper": "hi_bound", "accumulated": "mom", "loss_gradient": "grad_of_loss",
               "n_maps": "channels", "block_id": "idx", "CE": "xent"}
    out = []
    for kind, source in cell_list:
        for old, new in renames.items():
            source = re.sub(rf"\b{old}\b", new, source)
        out.append((kind, source))
    code = [c for c in out if c[0] == "code"]
    return [c for c in out if c[0] != "code"] + code[::-1]  # the cells in another order


OTHER_MIM = '''def mim_attack(model, input_image, input_label=None, epsilon=0.0313, num_steps=20, step_size=0.002, decay=1.0,
               clip_value_min=-1.0, clip_value_max=1.0):
    # rewritten: numpy momentum on the mean absolute gradient
    x0 = np.asarray(input_image, dtype='float32')
    adv, v = x0.copy(), np.zeros_like(x0)
    for _ in range(num_steps):
        g = loss_gradient(model, tf.constant(adv), input_label).numpy()
        v = decay * v + g / (np.abs(g).mean(axis=(1, 2, 3), keepdims=True) + 1e-12)
        adv = np.clip(adv + step_size * np.sign(v), np.maximum(x0 - epsilon, clip_value_min),
                      np.minimum(x0 + epsilon, clip_value_max))
    return adv
'''


def _other_mim(cell_list):
    out = []
    for kind, source in cell_list:
        if "def mim_attack" in source:
            start = source.index("def mim_attack")
            source = source[:start] + OTHER_MIM
        out.append((kind, source))
    return out


def write_class(folder, copies=True):
    """Write the class into ``folder`` (one folder per student); returns ``{student: folder}``."""
    folder = Path(folder)
    made = {}
    for name in INDEPENDENT:
        sub = folder / name
        sub.mkdir(parents=True)
        if name == "gus":
            (sub / "models.py").write_text((HERE.parent / "template_submission.py").read_text())
        else:
            (sub / "A1.ipynb").write_text(notebook_json(student_cells(name)))
        if name in BESIDE_TEMPLATE:
            (sub / "models.py").write_text(TEMPLATE.read_text())
        if name == "dev":
            (sub / "models.py").write_text(TEMPLATE.read_text() + (HERE / "students" / "dev_models_addition.txt")
                                           .read_text())
        made[name] = sub
    if copies:
        original = student_cells("chen")
        variants = {"copy_identical": original, "copy_renamed": _renamed(original),
                    "copy_other_mim": _other_mim(original)}
        for name, cell_list in variants.items():
            sub = folder / name
            sub.mkdir(parents=True)
            (sub / "A1.ipynb").write_text(notebook_json(cell_list))
            (sub / "models.py").write_text(TEMPLATE.read_text())
            made[name] = sub
    return made


def course_material(folder):
    """The course material as an instructor would pass it to ``--boilerplate``: the handed-out notebook, the
    template's ``models.py`` and the tutorial and example files. Returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "A1_handout.ipynb").write_text(notebook_json(handout_cells(), run=False))
    (folder / "models.py").write_text(TEMPLATE.read_text())
    return [folder / "A1_handout.ipynb", folder / "models.py", HERE / "tutorial_attacks.py",
            HERE / "keras_io_mixup.py"]
