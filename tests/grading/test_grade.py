"""The grading kit grades itself: a correct template-style submission and this project's models.py get full
marks; each planted fault loses exactly its check; hanging, crashing and broken submissions never stop the batch."""
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = (Path(__file__).with_name("template_submission.py")).read_text()
CHECKS = ["import", "data_manager", "default_model", "your_model", "fit", "attack_fgsm", "attack_pgd", "attack_mim",
          "pgd_strength", "saved_models", "robust_model", "notebook"]


def _replace(text, old, new):
    assert old in text, old
    return text.replace(old, new, 1)


FGSM_CLIP = "    return tf.clip_by_value(x_adv, clip_value_min, clip_value_max)\n\n\ndef pgd_attack"
PGD_PROJECT = "        x_adv = tf.clip_by_value(x_adv, x - epsilon, x + epsilon)\n        x_adv = tf.clip_by_value(x_adv, clip_value_min, clip_value_max)\n    return x_adv\n\n\ndef mim_attack"
MIM_RANGE = "        x_adv = tf.clip_by_value(x_adv, clip_value_min, clip_value_max)\n    return x_adv\n"
FAULTS = {
    # fault: (models.py, the checks it must lose)
    "fgsm_clipped_to_0_1": (_replace(TEMPLATE, FGSM_CLIP,
                                     "    return tf.clip_by_value(x_adv, 0.0, 1.0)\n\n\ndef pgd_attack"), {"attack_fgsm"}),
    "pgd_without_projection": (_replace(TEMPLATE, PGD_PROJECT,
                                        "        x_adv = tf.clip_by_value(x_adv, clip_value_min, clip_value_max)\n"
                                        "    return x_adv\n\n\ndef mim_attack"), {"attack_pgd"}),
    "mim_not_clipped": (TEMPLATE[:TEMPLATE.rindex(MIM_RANGE)] + "    return x_adv\n", {"attack_mim"}),
    "wrong_default_model": (_replace(TEMPLATE, "self.model.add(layers.Conv2D(32, (3, 3), padding='same', "
                                               "activation='relu',\n",
                                     "self.model.add(layers.Conv2D(48, (3, 3), padding='same', activation='relu',\n"),
                            {"default_model"}),
    "build_cnn_raises": (_replace(TEMPLATE, "        inputs = layers.Input(shape=(self.height, self.width, self.depth))",
                                  "        raise ValueError('not finished yet')"), {"your_model"}),
    "fit_never_returns": (_replace(TEMPLATE, "        batch_size = self.batch_size if batch_size is None else batch_size",
                                   "        while True:\n            pass"), {"fit"}),
}


def _write(folder, source, h5=()):
    folder.mkdir(parents=True)
    (folder / "models.py").write_text(source)
    return folder


def _lambda_h5(folder, marker):
    """saved_models/ with a plain model and one whose Lambda layer would write ``marker`` if it ever ran."""
    code = f"""
import coursekit, keras
inputs = keras.Input((32, 32, 3))
x = keras.layers.GlobalAveragePooling2D()(inputs)
keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x)).save("{folder}/saved_models/plain.h5")
hidden = keras.layers.Lambda(lambda t: (open("{marker}", "w").write("ran"), t)[1])(x)
keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden)).save("{folder}/saved_models/trap.h5")
"""
    (folder / "saved_models").mkdir()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, timeout=300)
    marker.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    subs = base / "submissions"
    _write(subs / "correct", TEMPLATE)
    _write(subs / "this_project", (ROOT / "models.py").read_text())
    for name, (source, _) in FAULTS.items():
        _write(subs / name, source)
    _write(subs / "syntax_error", TEMPLATE.replace("class YourModel(DefaultModel):", "class YourModel(DefaultModel)"))
    _write(subs / "crashes", _replace(TEMPLATE, "        inputs = layers.Input(shape=(self.height, self.width, self.depth))",
                                      "        import os; os._exit(3)"))
    # ignores the per-check limit and hangs: only the submission's limit can stop it
    _write(subs / "hangs", _replace(TEMPLATE, "        batch_size = self.batch_size if batch_size is None else batch_size",
                                    "        import signal, time\n        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                                    "        while True:\n            time.sleep(1)"))
    lam = _write(subs / "lambda_h5", TEMPLATE)
    marker = base / "lambda_ran"
    _lambda_h5(lam, marker)
    from tests.grading.test_similarity import renamed_and_reordered, students_2022, with_another_attack
    original = students_2022()  # an independent solution and three copies of it, for the similarity pass
    for name, source in (("student_2022", original), ("copy_identical", original),
                         ("copy_renamed", renamed_and_reordered(original)),
                         ("copy_other_attack", with_another_attack(original))):
        _write(subs / name, source)
    zipped = shutil.make_archive(str(base / "zipped"), "zip", subs / "correct")
    out = base / "out"
    done = subprocess.run([sys.executable, "-m", "assignment", "grade", str(subs), zipped, "--out", str(out),
                           "--timeout", "90", "--check-timeout", "30", "--gradebook", "moodle", "--gradebook", "canvas",
                           "--jobs", "2",  # two at once: the hanging one no longer holds up the rest
                           "--boilerplate", str(Path(__file__).with_name("template_submission.py"))],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    results = {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/results.json")}
    return out, results, marker, done.stdout


def _lost(result):
    return {t["name"] for t in result["tests"] if t["score"] < t["max_score"]}


pytestmark = pytest.mark.slow


def test_a_correct_submission_and_this_projects_models_py_get_full_marks(graded):
    _, results, _, _ = graded
    for name in ("correct", "this_project", "zipped"):
        result = results[name]
        assert result["extra_data"]["grading_status"] == "ok", name
        assert _lost(result) == set(), (name, [t["output"] for t in result["tests"] if t["score"] < t["max_score"]])
        assert result["score"] == sum(t["max_score"] for t in result["tests"]) > 30


@pytest.mark.parametrize("fault", FAULTS)
def test_each_planted_fault_loses_exactly_its_check(graded, fault):
    _, results, _, _ = graded
    result = results[fault]
    assert result["extra_data"]["grading_status"] == "ok"
    assert _lost(result) == FAULTS[fault][1], [(t["name"], t["output"]) for t in result["tests"]
                                               if t["score"] < t["max_score"]]


def test_a_lambda_h5_is_refused_and_never_run(graded):
    _, results, marker, _ = graded
    result = results["lambda_h5"]
    assert _lost(result) == {"saved_models"}
    row = next(t for t in result["tests"] if t["name"] == "saved_models")
    assert "plain.h5: loads" in row["output"] and "trap.h5" in row["output"] and 0 < row["score"] < row["max_score"]
    assert not marker.exists()


def test_broken_hanging_and_crashing_submissions_get_a_status_and_partial_results(graded):
    out, results, _, printed = graded
    assert results["syntax_error"]["extra_data"]["grading_status"] == "import-error"
    assert results["syntax_error"]["score"] == 0 and "SyntaxError" in results["syntax_error"]["output"]
    crashed = results["crashes"]
    assert crashed["extra_data"]["grading_status"] == "crash"
    scored = {t["name"] for t in crashed["tests"] if t["score"] > 0}
    assert {"import", "data_manager", "default_model"} <= scored  # kept from before the crash
    hung = results["hangs"]
    assert hung["extra_data"]["grading_status"] == "timeout"
    assert {"import", "data_manager", "default_model", "your_model"} <= {t["name"] for t in hung["tests"] if t["score"]}
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert {r["student"] for r in rows} == set(results) and len(rows) == 17
    assert list(rows[0])[:4] == ["student", "total", "max", "grading_status"] and list(rows[0])[4:] == CHECKS
    assert (out / "correct" / "report.md").read_text().startswith("# correct: ")
    assert "Grades" in printed and (out / "metrics.json").is_file()
    versions = results["correct"]["extra_data"]["versions"]
    assert set(versions) >= {"tensorflow", "keras", "python"} and results["correct"]["execution_time"] > 0


def test_the_class_page_and_gradebooks_list_every_submission(graded):
    out, results, _, printed = graded
    page = (out / "index.html").read_text()
    assert all(f"<a href='{name}/report.md'>{name}</a>" in page for name in results)
    assert "data:image/png;base64," in page and "import-error" in page and "timeout" in page
    moodle = list(csv.reader((out / "gradebook_moodle.csv").open()))
    canvas = list(csv.reader((out / "gradebook_canvas.csv").open()))
    assert len(moodle) == 18 and len(canvas) == 19  # a header (and Canvas' points row), then one row each
    totals = {r[0]: float(r[2]) for r in moodle[1:]}
    assert totals == {name: result["score"] for name, result in results.items()}


@pytest.mark.parametrize("fault", ["pgd_without_projection", "wrong_default_model", "fgsm_clipped_to_0_1"])
def test_a_students_own_check_names_the_graders_failing_check_with_its_message(graded, fault, tmp_path):
    """``python -m assignment check models.py`` (the student's side) and ``grade`` share one definition."""
    _, results, _, _ = graded
    _write(tmp_path / fault, FAULTS[fault][0])
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "assignment", "check", str(tmp_path / fault / "models.py"),
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 1, done.stderr[-3000:]  # a failing check: exit 1
    mine = json.loads((out / "metrics.json").read_text())["checks"]
    assert {name for name, row in mine.items() if row["result"] == "FAIL"} == FAULTS[fault][1]
    for name in FAULTS[fault][1]:
        graders = next(t for t in results[fault]["tests"] if t["name"] == name)
        assert graders["output"].startswith(mine[name]["message"] + " ("), (graders["output"], mine[name]["message"])
        assert graders["score"] == mine[name]["score"]


def test_the_similarity_pass_flags_the_three_copies_against_their_original_and_nothing_else(graded):
    out, _, _, printed = graded
    rows = list(csv.DictReader((out / "similarity.csv").open()))
    flagged = {frozenset((r["student_a"], r["student_b"])) for r in rows}
    group = ("student_2022", "copy_identical", "copy_renamed", "copy_other_attack")
    assert flagged == {frozenset((a, b)) for a in group for b in group if a < b}, rows
    page = (out / "index.html").read_text()
    assert "<h2>Similarity</h2>" in page and "similarity.html" in page and (out / "similarity.html").is_file()
