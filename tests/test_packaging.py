"""``pip install .``: the wheel holds coursekit, the task runner and models.py, and they work outside the clone."""
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(cmd, cwd, env=None, timeout=600):
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_wheel_installs_and_runs_from_a_folder_outside_the_clone(tmp_path):
    pytest.importorskip("setuptools", reason="building the wheel offline needs setuptools in this environment")
    wheels = tmp_path / "wheels"
    # built from a copy: setuptools writes build/ and *.egg-info beside the sources
    source = tmp_path / "source"
    anywhere = shutil.ignore_patterns(".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache")
    at_root = {"outputs", "saved_models", "datasets", "mutants"}  # data and results, not coursekit/datasets

    def ignore(folder, names):
        return set(anywhere(folder, names)) | (at_root & set(names) if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, source, ignore=ignore)
    # no build isolation and no dependencies: nothing is downloaded
    _run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-w", str(wheels),
          "-q"], cwd=tmp_path)
    (wheel,) = wheels.glob("coursekit-*.whl")
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    target = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       cwd=tmp_path).strip())
    # the dependencies come from this environment (as if installed), the project only from the wheel
    (target / "outer_site.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel), "-q"],
         cwd=tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = ("import models, coursekit, assignment, sys; "
            "assert str(__import__('pathlib').Path(models.__file__).parent) != sys.argv[1], models.__file__; "
            "from coursekit.grading.rubric import load_rubric; "  # package data: the shipped rubrics
            "assert all(load_rubric(assignment=a) for a in ('fit3181', 'technion-hw2', 'ds5220', 'recvis-a2')); "
            "print(models.YourModel(num_blocks=3).feature_maps[2], coursekit.__file__)")
    printed = _run([str(python), "-c", code, str(ROOT)], cwd=outside, env=env)
    assert printed.startswith("128 ") and str(target) in printed
    script = target / "bin" / "coursekit"  # the console script pip wrote (run with the new environment's python)
    assert script.is_file()
    printed = _run([str(python), str(script), "numerics", "--out", str(outside / "out")], cwd=outside, env=env)
    assert "metrics:" in printed and (outside / "out" / "metrics.json").is_file()
    assert "coursekit TASK --help" in _run([str(python), str(script), "--help"], cwd=outside, env=env)
    (entry_points,) = target.glob("coursekit-*.dist-info/entry_points.txt")
    assert "coursekit = assignment.__main__:main" in entry_points.read_text()
