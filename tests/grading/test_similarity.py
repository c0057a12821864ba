"""The similarity pass flags copies (identical, renamed and reordered, one attack rewritten) against their original
and nothing else: independent solutions and near-template submissions stay below the threshold."""
import ast
import re
from pathlib import Path

import pytest

from coursekit.grading.similarity import THRESHOLD, compare, similarity_csv

pytest.importorskip("copydetect")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TEMPLATE = (HERE / "template_submission.py").read_text()


def students_2022():
    """The 2022 students' classes and attacks that ``tests/test_student_solutions_2022.py`` runs, as one file."""
    source = (ROOT / "tests" / "test_student_solutions_2022.py").read_text()
    tree = ast.parse(source)
    keep = [node for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))
            and not node.name.startswith(("test_", "_")) and not node.decorator_list[:1] == ["pytest"]
            and node.name not in ("keras2", "manager64")]
    return "import numpy as np\nimport tensorflow as tf\n\n\n" + "\n\n\n".join(ast.get_source_segment(source, n)
                                                                                  for n in keep)


def renamed_and_reordered(source):
    """A copy with its names changed and its top-level definitions in another order."""
    for old, new in (("x_adv", "adversarial"), ("epsilon", "budget"), ("data_manager", "dm"), ("self.model", "self.net"),
                     ("inputs", "image_in"), ("outputs", "scores"), ("feature_maps", "widths"), ("num_blocks", "depth_n")):
        source = re.sub(rf"\b{re.escape(old)}\b", new, source)
    tree = ast.parse(source)
    head = [n for n in tree.body if not isinstance(n, (ast.ClassDef, ast.FunctionDef))]
    defs = [n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))]
    return "\n".join(ast.get_source_segment(source, n) for n in head) + "\n\n\n" + "\n\n\n".join(
        ast.get_source_segment(source, n) for n in reversed(defs))


def with_another_attack(source):
    start = source.index("def mim_attack")
    end = source.find("\ndef ", start + 5)
    new = ('def mim_attack(model, x, y, eps=0.0313, steps=20, step_size=0.002, decay=1.0, value_range=(-1.0, 1.0)):\n'
           '    """My own momentum attack."""\n    g = 0.0\n    adv = x\n    for _ in range(steps):\n'
           '        grad = gradient_of_loss(model, adv, y)\n        g = decay * g + grad / abs(grad).mean()\n'
           '        adv = clip(adv + step_size * sign(g), x - eps, x + eps, value_range)\n    return adv\n')
    return source[:start] + new + (source[end:] if end != -1 else "")


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    base = tmp_path_factory.mktemp("similarity")
    original = students_2022()
    sources = {"template_style": TEMPLATE, "project": (ROOT / "models.py").read_text(), "students_2022": original,
               "copy_identical": original, "copy_renamed": renamed_and_reordered(original),
               "copy_other_attack": with_another_attack(original),
               "fault_pgd": TEMPLATE.replace("x_adv = tf.clip_by_value(x_adv, x - epsilon, x + epsilon)\n", "", 1)}
    files = {}
    for name, text in sources.items():
        (base / name).mkdir()
        (base / name / "models.py").write_text(text)
        files[name] = base / name / "models.py"
    found = compare(files, boilerplate=HERE / "template_submission.py", out_html=base / "similarity.html")
    for a, b, sim, *_ in found:
        print(f"{a:18s} {b:18s} {sim:.3f}")
    return {frozenset((a, b)): sim for a, b, sim, *_ in found}, base, found


COPIES = ("copy_identical", "copy_renamed", "copy_other_attack")


def test_the_three_copies_are_flagged_against_their_original_and_nothing_else(pairs):
    sims, base, found = pairs
    flagged = {pair for pair, sim in sims.items() if sim >= THRESHOLD}
    want = {frozenset(("students_2022", c)) for c in COPIES} | {frozenset((a, b)) for a in COPIES for b in COPIES if a < b}
    assert flagged == want, sorted((tuple(sorted(p)), round(s, 3)) for p, s in sims.items())
    assert (base / "similarity.html").is_file()  # the side-by-side view


def test_independent_solutions_stay_well_below(pairs):
    sims, _, _ = pairs
    for a, b in (("project", "template_style"), ("project", "students_2022"), ("students_2022", "template_style"),
                 ("fault_pgd", "template_style"), ("fault_pgd", "students_2022")):
        assert sims[frozenset((a, b))] < THRESHOLD / 2, (a, b, sims[frozenset((a, b))])


def test_the_csv_lists_the_pairs_over_the_threshold(pairs):
    _, _, found = pairs
    rows = similarity_csv(found).splitlines()
    assert rows[0] == "student_a,student_b,similarity,a_in_b,b_in_a,shared_tokens"
    assert len(rows) == 1 + 6
