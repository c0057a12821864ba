"""A class as it hands work in (``class_2022_style``): notebooks alone, notebooks beside the template's ``models.py``,
``models.py`` with the student's code, both. Every independent solution is graded to full marks from whichever file
holds its code, the notebooks' hours of training never run, and ``--jobs 2`` gives the scores ``--jobs 1`` gives."""
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.grading.class_2022_style import BESIDE_TEMPLATE, INDEPENDENT, NOTEBOOK_ONLY, course_material, write_class

ROOT = Path(__file__).resolve().parents[2]
BATCH = (*INDEPENDENT, "copy_identical")
pytestmark = pytest.mark.slow


def _grade(folders, out, jobs, material):
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "assignment", "grade", *map(str, folders), "--out", str(out),
                           "--jobs", str(jobs), "--timeout", "300", *(a for m in material for a in ("--boilerplate",
                                                                                                  str(m)))],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    results = {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/results.json")}
    return results, time.perf_counter() - started, done.stdout


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    made = write_class(base / "submissions")
    material = course_material(base / "material")
    folders = [made[name] for name in BATCH]
    one = _grade(folders, base / "jobs1", 1, material)
    two = _grade(folders, base / "jobs2", 2, material)
    print(f"\n{len(folders)} submissions: --jobs 1 {one[1]:.1f} s, --jobs 2 {two[1]:.1f} s "
          f"(speed-up {one[1] / two[1]:.2f})")
    return base, one, two


def _scores(results):
    return {name: {t["name"]: t["score"] for t in r["tests"]} for name, r in results.items()}


def test_every_independent_solution_gets_full_marks_wherever_its_code_is(graded):
    _, (results, _, _), _ = graded
    assert set(results) == set(BATCH)
    for name in BATCH:
        r = results[name]
        lost = [(t["name"], t["output"][:300]) for t in r["tests"] if t["score"] < t["max_score"]]
        assert r["extra_data"]["grading_status"] == "ok" and not lost, (name, lost)


def test_the_report_says_which_file_each_checks_code_came_from(graded):
    _, (results, _, _), _ = graded
    code = {name: results[name]["extra_data"]["code"] for name in BATCH}
    for name in NOTEBOOK_ONLY:
        assert code[name].startswith("the template's models.py and A1.ipynb"), code[name]
    for name in (*BESIDE_TEMPLATE, "dev"):
        assert code[name].startswith("models.py and A1.ipynb"), code[name]
    assert code["gus"] == "models.py"

    def came_from(name, check):
        return next(t["output"] for t in results[name]["tests"] if t["name"] == check).rsplit("[code: ", 1)[-1]

    assert came_from("ana", "attack_mim").startswith("A1.ipynb") and came_from("ana", "your_model").startswith("A1")
    assert came_from("dev", "attack_fgsm").startswith("models.py")  # dev's attacks are in models.py
    assert came_from("ana", "data_manager").startswith("the template's models.py")
    assert came_from("chen", "data_manager").startswith("models.py")  # the template's, as handed in beside it


def test_the_notebooks_training_cells_never_ran(graded):
    _, (results, _, _), _ = graded
    for name in BATCH:
        assert results[name]["execution_time"] < 200, (name, results[name]["execution_time"])  # hours if they ran
        assert "notebook's code cells" in results[name]["extra_data"]["code"] or name == "gus"


def test_two_jobs_give_the_same_scores_and_complete_class_files(graded):
    base, (one, _, _), (two, _, printed) = graded
    assert _scores(one) == _scores(two)
    assert "2 at once" in printed and "graded 8/8" in printed and "left" in printed  # the progress lines
    for out in (base / "jobs1", base / "jobs2"):
        rows = list(csv.DictReader((out / "grades.csv").open()))
        assert [r["student"] for r in rows] == list(BATCH)  # the submissions' order, whatever finished first
        page = (out / "index.html").read_text()
        assert all(f"{name}/report.md" in page for name in BATCH)


def test_the_copy_is_flagged_against_its_original_and_no_independent_pair_is(graded):
    base, _, _ = graded
    rows = list(csv.DictReader((base / "jobs2" / "similarity.csv").open()))
    assert [{r["student_a"], r["student_b"]} for r in rows] == [{"chen", "copy_identical"}], rows
    page = (base / "jobs2" / "index.html").read_text()
    assert "class typical" in page and "region(s)" in page
