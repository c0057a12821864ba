"""The Gradescope autograder (``coursekit.grading.gradescope``, ``python -m assignment autograder``).

Quick tests build the zip and check the settings, the submission finder and the results.json written when there is
nothing to grade or the kit itself fails. The slow test runs what Gradescope runs: the zip unpacked into
``/autograder/source`` of a private mount namespace, ``setup.sh`` as root (Debian's python3.11 standing in for
Ubuntu 22.04's), then ``run_autograder`` under ``capsh --drop=cap_sys_admin,...`` (a Docker container's root, where
no namespace can be made) on good, empty, misplaced, stub and hostile submissions (``gradescope_driver.py``).
"""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from coursekit.grading import gradescope
from coursekit.grading.gradescope import NothingToGrade, Settings, find_submission
from coursekit.grading.isolation import GROUP_ONLY, USER_LANDLOCK, USER_SECCOMP

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
TEMPLATE = (HERE / "template_submission.py").read_text()
TEST_TYPES = {"name": str, "score": float, "max_score": float, "status": str, "output": str, "visibility": str}


def assert_valid_results(result):
    """Gradescope's results.json: a numeric score, tests with their fields, a time and an output."""
    assert isinstance(result["score"], (int, float)) and isinstance(result["execution_time"], (int, float))
    assert isinstance(result["output"], str) and isinstance(result["tests"], list)
    for test in result["tests"]:
        for key, kind in TEST_TYPES.items():
            assert isinstance(test[key], kind), (key, test)
        assert test["status"] in ("passed", "failed") and 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")


# ------------------------------------------------------------------------------------------- quick tests
@pytest.mark.parametrize("changes, words", [
    ({"timeout": 550}, "--timeout 480 or less"),
    ({"platform_timeout": 3000}, "60 to 2400"),
    ({"check_timeout": 900}, "at most --timeout"),
    ({"visibility": "secret"}, "after_published"),
    ({"assignment": "fit9999"}, "fit3181"),
])
def test_settings_that_cannot_work_on_gradescope_are_refused_with_the_fix(changes, words):
    with pytest.raises(ValueError, match=words):
        Settings(**changes).validate()


def test_the_default_settings_fit_under_gradescopes_default_limit():
    settings = Settings().validate()
    assert settings.timeout + gradescope.JUDGE_MARGIN <= settings.platform_timeout == 600


def test_models_py_at_the_top_or_in_a_folder_is_found(tmp_path):
    (tmp_path / "top").mkdir()
    (tmp_path / "top" / "models.py").write_text("x = 1")
    assert find_submission(tmp_path / "top") == tmp_path / "top"
    (tmp_path / "nested" / "A1_jane").mkdir(parents=True)
    (tmp_path / "nested" / "A1_jane" / "models.py").write_text("x = 1")
    assert find_submission(tmp_path / "nested") == tmp_path / "nested"


def test_a_notebook_alone_is_a_submission_too(tmp_path):
    (tmp_path / "nb" / "A1_jane").mkdir(parents=True)
    (tmp_path / "nb" / "A1_jane" / "A1.ipynb").write_text("{}")
    assert find_submission(tmp_path / "nb") == tmp_path / "nb"
    with zipfile.ZipFile(tmp_path / "a1.zip", "w") as z:
        z.writestr("a1/A1.ipynb", "{}")
    (tmp_path / "zipped").mkdir()
    (tmp_path / "a1.zip").rename(tmp_path / "zipped" / "a1.zip")
    assert find_submission(tmp_path / "zipped") == tmp_path / "zipped" / "a1.zip"


def test_a_zip_holding_models_py_is_graded_from_the_zip(tmp_path):
    (tmp_path / "sub").mkdir()
    with zipfile.ZipFile(tmp_path / "sub" / "a1.zip", "w") as z:
        z.writestr("a1/models.py", "x = 1")
    assert find_submission(tmp_path / "sub") == tmp_path / "sub" / "a1.zip"


@pytest.mark.parametrize("files, words", [
    ({}, "found: nothing"),
    ({"A1.md": "# notes"}, "expected models.py .* or the A1 notebook"),
    ({"notes.txt": "hi", "model.py": "x"}, "found: model.py, notes.txt"),
    ({"broken.zip": "not a zip"}, "broken.zip is not a readable zip file"),
])
def test_nothing_to_grade_names_what_was_expected_and_found(tmp_path, files, words):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(NothingToGrade, match=words):
        find_submission(tmp_path)
    if "broken" not in words:
        with pytest.raises(NothingToGrade, match="expected models.py"):
            find_submission(tmp_path)


def _layout(tmp_path, settings=Settings(), rubric=None):
    base = tmp_path / "autograder"
    (base / "source").mkdir(parents=True)
    (base / "submission").mkdir()
    (base / "source" / "autograder.json").write_text(json.dumps(settings.__dict__))
    if rubric:
        (base / "source" / "rubric.toml").write_text(rubric)
    return base


def _results(base):
    result = json.loads((base / "results" / "results.json").read_text())
    assert_valid_results(result)
    return result


def test_an_empty_submission_gets_every_check_with_the_reason(tmp_path):
    base = _layout(tmp_path, rubric='visibility = "after_published"\n[checks.notebook]\nmax_score = 2\n')
    (base / "submission" / "A1.md").write_text("# my answers")
    assert gradescope.run(base) == 0
    result = _results(base)
    assert result["score"] == 0 and result["visibility"] == "after_published"
    assert len(result["tests"]) == 12 and all(t["score"] == 0 for t in result["tests"])
    assert "expected models.py" in result["output"] and "found: A1.md" in result["output"]
    assert result["extra_data"]["grading_status"] == "import-error"


def test_a_missing_kit_is_said_to_be_the_autograders_failure_not_a_grade(tmp_path):
    base = _layout(tmp_path)
    (base / "submission" / "models.py").write_text(TEMPLATE)
    assert gradescope.run(base) == 0
    result = _results(base)
    assert result["score"] == 0 and result["extra_data"]["grading_status"] == "autograder-failed"
    assert "not a grade" in result["output"] and "not a saved grading kit" in result["output"]


def test_a_bad_rubric_visibility_is_refused(tmp_path):
    from coursekit.grading.rubric import load_rubric

    path = tmp_path / "rubric.toml"
    path.write_text("[checks.notebook]\nvisibility = \"sometimes\"\n")
    with pytest.raises(ValueError, match="checks.notebook.visibility"):
        load_rubric(path)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("autograder")
    (out / "rubric.toml").write_text('visibility = "after_published"\n[checks.notebook]\n'
                                     'max_score = 2  # the instructor\'s secret weights\n')
    done = subprocess.run([sys.executable, "-m", "assignment", "autograder", "--out", str(out), "--rubric",
                           str(out / "rubric.toml"), "--platform-timeout", "240", "--timeout", "60",
                           "--check-timeout", "30"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_the_zip_holds_the_scripts_the_wheel_and_a_cpu_stack(built):
    with zipfile.ZipFile(built / "autograder.zip") as z:
        names = set(z.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
        constraints = z.read("constraints.txt").decode()
        settings = json.loads(z.read("autograder.json"))
        script = z.read("run_autograder").decode()
        wheel = next(n for n in names if n.endswith(".whl"))
        with z.open(wheel) as w, zipfile.ZipFile(w) as inner:
            packaged = set(inner.namelist())
    assert {"setup.sh", "run_autograder", "constraints.txt", "autograder.json", "rubric.toml"} <= names
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert "tensorflow-cpu==" in constraints and "\ntensorflow==" not in constraints
    assert {"coursekit/grading/gradescope.py", "coursekit/grading/confine.py", "models.py"} <= packaged
    assert settings["timeout"] == 60 and settings["platform_timeout"] == 240
    assert "timeout --kill-after=10 225 " in script  # the last resort, under the platform's limit
    assert json.loads((built / "metrics.json").read_text())["zip_bytes"] > 0


def test_a_timeout_over_the_platforms_is_refused_before_a_zip_is_written(tmp_path):
    done = subprocess.run([sys.executable, "-m", "assignment", "autograder", "--out", str(tmp_path), "--timeout",
                           "590"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "--timeout 480 or less" in done.stderr
    assert not (tmp_path / "autograder.zip").exists()


# --------------------------------------------------------------------------- Gradescope, as it runs there
def _can_play_gradescope():
    return (os.geteuid() == 0 and sys.platform == "linux" and all(shutil.which(c) for c in ("unshare", "capsh",
                                                                                             "setpriv"))
            and Path("/usr/bin/python3.11").exists())


GRADESCOPE_HOSTILE = {
    "forges_gradescope_results": '''
import json, os, time
forged = json.dumps({"score": 999, "tests": []})
def forge():
    try:
        open("/autograder/results/results.json", "w").write(forged)
    except OSError as exc:
        print("could not forge", type(exc).__name__)
forge()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for _ in range(60):
            time.sleep(0.25)
            forge()
        os._exit(0)
    os._exit(0)
''',
    "reads_the_source": '''
import os
print("UID", os.getuid(), "ROOT" if os.getuid() == 0 else "not root")
for path in ("/autograder/source/rubric.toml", "/autograder/source/kit/kit.json", "/autograder/source/autograder.json"):
    try:
        print("STOLEN", open(path).read()[:300])
    except OSError as exc:
        print("could not read", path, type(exc).__name__)
''',
}


@pytest.fixture(scope="module")
def gradescope_runs(built, tmp_path_factory):
    if not _can_play_gradescope():
        pytest.skip("needs root, unshare, capsh, setpriv and /usr/bin/python3.11 (Debian's package)")
    from tests.grading.test_hostile import STUB, Listener, hostile_sources

    work = tmp_path_factory.mktemp("gradescope")
    (work / "autograder").mkdir()
    os.chmod(work, 0o755)
    subs = work / "submissions"
    listener = Listener()
    sources = {"project_models": (ROOT / "models.py").read_text(), "template_style": TEMPLATE, "stub": STUB,
               **{k: STUB + v for k, v in GRADESCOPE_HOSTILE.items()},
               **hostile_sources(Path("/autograder/source"), listener.port, work)}
    for name, text in sources.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "models.py").write_text(text)
    (subs / "empty").mkdir()
    (subs / "notebook_only").mkdir()
    (subs / "notebook_only" / "A1.ipynb").write_text('{"cells": [], "nbformat": 4, "nbformat_minor": 5}')
    (subs / "in_a_folder" / "A1_jane").mkdir(parents=True)
    (subs / "in_a_folder" / "A1_jane" / "models.py").write_text(TEMPLATE)
    (subs / "as_a_zip").mkdir()
    with zipfile.ZipFile(subs / "as_a_zip" / "A1.zip", "w") as z:
        z.writestr("A1/models.py", TEMPLATE)
    plan = [{"name": n} for n in sources] + [{"name": n} for n in ("empty", "notebook_only", "in_a_folder",
                                                                     "as_a_zip")]
    plan += [{"name": "template_style", "no_setuid": True, "as": "degraded"},
             {"name": "stub", "no_setuid": True, "settings": {"require_isolation": True}, "as": "refused"}]
    for item in plan:  # the driver keys runs by submission name: give the repeated ones their own folder
        if "as" in item:
            shutil.copytree(subs / item["name"], subs / item["as"])
            item["name"] = item.pop("as")
    (work / "plan.json").write_text(json.dumps(plan))
    Path("/autograder").mkdir(exist_ok=True)  # the mount point; what is mounted there is private to the driver
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable,
                           str(HERE / "gradescope_driver.py"), str(built / "autograder.zip"), str(work), str(subs),
                           str(work / "plan.json")], capture_output=True, text=True, timeout=3000, cwd=ROOT)
    runs = json.loads((work / "runs.json").read_text()) if (work / "runs.json").is_file() else {}
    assert done.returncode == 0, (done.stderr[-2000:], runs.get("setup", {}).get("output"))
    results = {name: json.loads(run["results"]) for name, run in runs.items()
               if isinstance(run, dict) and run.get("results")}
    return dict(runs=runs, results=results, listener=listener, hostile=[*GRADESCOPE_HOSTILE,
                                                                        *hostile_sources(Path("/x"), 0, Path("/x"))])


slow_gradescope = pytest.mark.slow


@slow_gradescope
def test_setup_installs_python_the_wheel_and_the_kit_once(gradescope_runs):
    setup = gradescope_runs["runs"]["setup"]
    assert setup["returncode"] == 0 and "the autograder is ready" in setup["output"], setup["output"]
    assert "/usr/bin/python3.1" in setup["output"] and "grading kit" in setup["output"]
    assert gradescope_runs["runs"]["source_mode"] == "0o700"


@slow_gradescope
def test_every_run_leaves_a_valid_results_json(gradescope_runs):
    runs = {k: v for k, v in gradescope_runs["runs"].items() if isinstance(v, dict) and k != "setup"}
    assert len(runs) == 22
    for name, run in runs.items():
        assert run["returncode"] == 0, (name, run["output"])
        assert_valid_results(gradescope_runs["results"][name])
        assert gradescope_runs["results"][name]["visibility"] == "after_published"


@slow_gradescope
def test_correct_submissions_get_full_marks_in_a_container(gradescope_runs):
    results = gradescope_runs["results"]
    for name in ("project_models", "template_style", "in_a_folder", "as_a_zip"):
        lost = [(t["name"], t["output"][:200]) for t in results[name]["tests"] if t["score"] < t["max_score"]]
        assert results[name]["score"] == 44 and not lost, (name, lost)
        assert results[name]["extra_data"]["isolation"] in (USER_LANDLOCK, USER_SECCOMP)


@slow_gradescope
def test_an_empty_submission_says_what_was_expected_and_a_notebook_alone_is_graded(gradescope_runs):
    results = gradescope_runs["results"]
    assert results["empty"]["score"] == 0 and "expected models.py" in results["empty"]["output"]
    alone = results["notebook_only"]  # an empty notebook: graded on the template's models.py, no attacks in it
    assert alone["extra_data"]["grading_status"] == "ok", alone["output"]
    assert alone["extra_data"]["code"].startswith("the template's models.py and A1.ipynb")
    attacks = [t for t in alone["tests"] if t["name"].startswith("attack_")]
    assert attacks and all(t["score"] == 0 and "no function with" in t["output"] for t in attacks)


@slow_gradescope
def test_no_hostile_submission_scores_more_than_the_stub_or_escapes(gradescope_runs):
    results, runs = gradescope_runs["results"], gradescope_runs["runs"]
    stub = results["stub"]["score"]
    assert stub < 10
    for name in gradescope_runs["hostile"]:
        assert results[name]["score"] <= stub, (name, results[name]["score"])
        assert runs[name]["leftovers"] == [], name  # nothing of it outlived its run
    assert gradescope_runs["listener"].connections == 0
    text = results["reads_the_source"]["output"]
    assert "STOLEN" not in text and "secret weights" not in text and "not root" in text
    assert "could not read /autograder/source/rubric.toml" in text
    assert "secret weights" not in results["reads_classmates"]["output"]
    assert "no network" in results["network_call"]["output"]
    # its own limits stop it (timeout), or in 768 MB the kernel's OOM killer, which picks the submission's process
    assert results["fork_bomb"]["extra_data"]["grading_status"] in ("timeout", "crash")


@slow_gradescope
def test_the_degraded_container_says_so_and_require_isolation_refuses(gradescope_runs):
    degraded, refused = gradescope_runs["results"]["degraded"], gradescope_runs["results"]["refused"]
    assert degraded["extra_data"]["isolation"] == GROUP_ONLY and degraded["score"] == 44
    assert refused["score"] == 0 and refused["extra_data"]["grading_status"] == "refused"
    assert "--require-isolation" in refused["output"]


@slow_gradescope
def test_a_run_fits_gradescopes_768_mb(gradescope_runs):
    """Every run happens in a memory cgroup limited to 768 MB where this machine allows one (cgroup v1 here): a
    correct submission gets full marks with no OOM kill. Printed for the README."""
    runs = gradescope_runs["runs"]
    named = ("project_models", "template_style", "stub", "empty")
    print("\nGradescope runs:", {n: {"seconds": runs[n]["seconds"], "cgroup": runs[n]["cgroup"]} for n in named},
          "setup s:", runs["setup"]["seconds"])
    if runs["project_models"]["cgroup"] is None:
        pytest.skip("no memory cgroup could be made here: the 768 MB limit was not applied")
    for name in named:
        assert runs[name]["cgroup"]["limit_mb"] == 768 and runs[name]["cgroup"]["oom_kills"] == 0, (name, runs[name])
