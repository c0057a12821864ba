"""Grading's settings are validated once, with the value and the fix (``coursekit.grading.config``)."""
from pathlib import Path

import pytest

from coursekit.grading.config import GradeConfig


def test_defaults_and_normalised_fields(tmp_path):
    (tmp_path / "handout.ipynb").write_text("{}")
    config = GradeConfig(str(tmp_path / "out"), boilerplate=str(tmp_path / "handout.ipynb"), gradebooks=["moodle"])
    assert config.out == tmp_path / "out" and config.jobs == 1 and config.timeout == 600
    assert config.boilerplate == (tmp_path / "handout.ipynb",) and config.gradebooks == ("moodle",)
    assert GradeConfig(tmp_path, boilerplate=[tmp_path, tmp_path / "handout.ipynb"]).boilerplate == (
        tmp_path, tmp_path / "handout.ipynb")


@pytest.mark.parametrize("changes, words", [
    ({"jobs": 0}, "jobs=0: give a whole number"),
    ({"jobs": 2.5}, "jobs=2.5"),
    ({"jobs": 10_000}, "more than 4 per CPU core"),
    ({"timeout": -1}, "timeout=-1: give a positive number"),
    ({"timeout": 60, "check_timeout": 120}, "check_timeout=120 is longer than timeout=60"),
    ({"memory_gb": 0}, "memory_gb=0"),
    ({"assignment": "fit9999"}, "assignment 'fit9999': choose one of fit3181"),
    ({"gradebooks": ["blackboard"]}, "gradebooks \\['blackboard'\\]"),
    ({"boilerplate": [Path("/no/such/handout.ipynb")]}, "boilerplate: /no/such/handout.ipynb does not exist"),
    ({"template": Path("/no/such/models.py")}, "template: /no/such/models.py does not exist"),
    ({"seed": "7"}, "seed='7'"),
])
def test_bad_settings_are_refused_with_the_value_and_the_fix(tmp_path, changes, words):
    with pytest.raises(ValueError, match=words):
        GradeConfig(tmp_path, **changes)


def test_grade_refuses_bad_settings_before_grading(tmp_path):
    import subprocess
    import sys

    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "models.py").write_text("x = 1")
    done = subprocess.run([sys.executable, "-m", "assignment", "grade", str(tmp_path / "s"), "--out",
                           str(tmp_path / "out"), "--jobs", "0"], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode != 0 and "error: grading settings refused: jobs=0" in done.stderr
    assert not (tmp_path / "out" / "s").exists()
