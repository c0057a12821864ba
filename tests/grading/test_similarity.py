"""The similarity pass flags copies (identical, renamed and reordered, one attack rewritten) against their original
and nothing else: independent solutions and near-template submissions stay below the class's threshold. Measured on
planted pairs of ``models.py`` files and on a class handing in notebooks built on shared course material."""
import ast
import re
import statistics
from pathlib import Path

import pytest

from coursekit.grading.similarity import FLOOR, OUTLIER_SPREADS, code_of, compare, flag_rule, material, similarity_csv
from tests.grading.class_2022_style import COPIES, INDEPENDENT, course_material, write_class

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
    found, rule, shared = compare(sources, material([HERE / "template_submission.py"]), base / "similarity.html")
    for a, b, sim, *_ in found:
        print(f"{a:18s} {b:18s} {sim:.3f}")
    return {frozenset((a, b)): sim for a, b, sim, *_ in found}, base, found, rule, shared


COPIES_2022 = ("copy_identical", "copy_renamed", "copy_other_attack")


def test_the_three_copies_are_flagged_against_their_original_and_nothing_else(pairs):
    sims, base, _, rule, shared = pairs
    flagged = {pair for pair, sim in sims.items() if sim >= rule.threshold}
    want = {frozenset(("students_2022", c)) for c in COPIES_2022} | {
        frozenset((a, b)) for a in COPIES_2022 for b in COPIES_2022 if a < b}
    assert flagged == want, sorted((tuple(sorted(p)), round(s, 3)) for p, s in sims.items())
    assert (base / "similarity.html").is_file()  # the side-by-side view
    assert {frozenset(k) for k in shared} == want and all(shared[k] for k in shared)  # regions for each


def test_independent_solutions_stay_well_below(pairs):
    sims, _, _, rule, _ = pairs
    for a, b in (("project", "template_style"), ("project", "students_2022"), ("students_2022", "template_style"),
                 ("fault_pgd", "template_style"), ("fault_pgd", "students_2022")):
        assert sims[frozenset((a, b))] < rule.threshold / 2, (a, b, sims[frozenset((a, b))])


def test_the_csv_lists_the_flagged_pairs_with_the_class_typical_score(pairs):
    _, _, found, rule, _ = pairs
    rows = similarity_csv(found, rule).splitlines()
    assert rows[0] == "student_a,student_b,similarity,a_in_b,b_in_a,shared_tokens,class_typical,threshold"
    assert len(rows) == 1 + 6
    assert all(r.endswith(f",{round(rule.typical, 3)},{round(rule.threshold, 3)}") for r in rows[1:])


def test_the_rule_is_the_floor_or_the_classs_outliers_whichever_is_higher():
    low = [("a", "b", s) for s in [0.1] * 20 + [0.2, 0.3]]
    assert flag_rule(low).threshold == FLOOR  # a class sharing little: the floor
    high = [("a", "b", s) for s in (0.4, 0.45, 0.5, 0.55, 0.6, 0.5, 0.5)]
    rule = flag_rule(high)
    assert rule.typical == 0.5 and rule.threshold == pytest.approx(0.5 + OUTLIER_SPREADS * 1.4826 * 0.05)
    assert rule.threshold > FLOOR  # material shared by everyone and not listed as boilerplate flags nobody


# ---------------------------------------------------------------- a class handing in notebooks (class_2022_style)
@pytest.fixture(scope="module")
def handed_in(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    made = write_class(base / "submissions")
    return {name: code_of(folder) for name, folder in made.items()}, course_material(base / "material")


def _ranges(found, copies):
    independent = [s for a, b, s, *_ in found if a in INDEPENDENT and b in INDEPENDENT]
    against_original = [s for a, b, s, *_ in found if {a, b} & set(copies) and {a, b} - set(copies) <= {"chen"}]
    return independent, against_original


def test_all_course_material_as_boilerplate_flags_every_copy_and_no_independent_pair(handed_in):
    students, material_paths = handed_in
    assert all(students[name].strip() for name in students)  # notebook cells and models.py read
    found, rule, shared = compare(students, material(material_paths))
    independent, copies = _ranges(found, COPIES)
    print(f"all material: independent {min(independent):.2f}-{max(independent):.2f}, copies "
          f"{min(copies):.2f}-{max(copies):.2f}, {rule}")
    flagged = {frozenset((a, b)) for a, b, s, *_ in found if s >= rule.threshold}
    group = ("chen", *COPIES)
    assert flagged == {frozenset((a, b)) for a in group for b in group if a < b}
    assert max(independent) < rule.threshold <= min(copies)


def test_with_only_the_template_as_boilerplate_the_outlier_rule_still_separates_them(handed_in):
    students, _ = handed_in
    found, rule, _ = compare(students, material([]))
    independent, copies = _ranges(found, COPIES)
    print(f"template only: independent {min(independent):.2f}-{max(independent):.2f}, copies "
          f"{min(copies):.2f}-{max(copies):.2f}, {rule}")
    assert max(independent) < rule.threshold <= min(copies)
    assert rule.threshold > FLOOR  # the class's own spread raised it: the floor alone would flag independents


def test_course_material_lowers_the_independent_students_scores(handed_in):
    students, material_paths = handed_in
    only_template, _, _ = compare(students, material([]))
    everything, _, _ = compare(students, material(material_paths))
    independent_before, _ = _ranges(only_template, COPIES)
    independent_after, _ = _ranges(everything, COPIES)
    assert statistics.median(independent_after) < statistics.median(independent_before) - 0.1
