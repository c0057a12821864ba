"""A Gradescope autograder built from this project: the zip an instructor uploads, its ``setup.sh`` (run once, as
root, when Gradescope builds the image) and its ``run_autograder`` (run for every submission, in a container of
its own).

- ``build(out, settings)`` writes ``out/autograder.zip``: the two scripts, a wheel of this project (the graded code
  is the instructor's, not whatever a URL serves later), ``constraints.txt`` (the stack it was built on, with
  ``tensorflow-cpu``: Gradescope has no GPU), ``autograder.json`` (the settings) and the rubric.
- ``python -m coursekit.grading.gradescope prepare`` (from ``setup.sh``) does once what is the same for every
  submission: the kit's images, its trained model and its attacks, saved under ``source/kit`` and made private.
- ``python -m coursekit.grading.gradescope run`` (from ``run_autograder``) grades ``/autograder/submission`` with
  the same sandbox as ``grade`` and always leaves a valid ``/autograder/results/results.json``: for an empty
  submission, a zip, a notebook alone, a crash, a timeout, or a failure of the kit itself.

``COURSEKIT_AUTOGRADER_ROOT`` (default ``/autograder``) moves the whole layout, for a dry run outside Gradescope.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from coursekit.atomic_files import write_text_atomic

VENV = "coursekit-venv"  # beside source/: readable by the submission's user (Python and this project are public)
JUDGE_MARGIN = 120.0  # seconds after the submission's own limit: unpacking, loading the kit, judging, writing
# installed from constraints.txt instead of the wheel's own requirement: the same module, without the GPU kernels
CPU_BUILDS = {"tensorflow": "tensorflow-cpu"}


def root():
    return Path(os.environ.get("COURSEKIT_AUTOGRADER_ROOT", "/autograder"))


@dataclass(frozen=True)
class Settings:
    """What the instructor chose when building the zip; validated before anything is written."""
    assignment: str = "fit3181"
    timeout: float = 420.0  # the submission's own limit (the kit's), under the platform's
    check_timeout: float = 120.0
    memory_gb: float = 8.0  # address space (TensorFlow reserves far more than it uses); memory is the container's
    seed: int = 0
    platform_timeout: float = 600.0  # Gradescope's "Autograder timeout" (default 10 minutes, at most 40)
    require_isolation: bool = False
    visibility: str = "visible"

    def validate(self):
        from coursekit.grading.rubric import ASSIGNMENTS

        if self.assignment not in ASSIGNMENTS:
            raise ValueError(f"--assignment {self.assignment!r}: use one of {', '.join(ASSIGNMENTS)}")
        if not 60 <= self.platform_timeout <= 2400:
            raise ValueError(f"--platform-timeout {self.platform_timeout:g}: Gradescope allows 60 to 2400 s; give "
                             "the value set in the assignment's autograder settings")
        if not 0 < self.timeout <= self.platform_timeout - JUDGE_MARGIN:
            raise ValueError(
                f"--timeout {self.timeout:g} s leaves no margin under Gradescope's limit of {self.platform_timeout:g} "
                f"s: judging needs up to {JUDGE_MARGIN:g} s after the submission stops, and a submission still "
                "running at the platform's limit scores 0 with no results. Use --timeout "
                f"{self.platform_timeout - JUDGE_MARGIN:g} or less, or raise the limit in Gradescope and pass "
                "--platform-timeout")
        if not 0 < self.check_timeout <= self.timeout:
            raise ValueError(f"--check-timeout {self.check_timeout:g} must be positive and at most --timeout")
        from coursekit.grading.rubric import VISIBILITIES

        if self.visibility not in VISIBILITIES:
            raise ValueError(f"--visibility {self.visibility!r}: Gradescope knows {', '.join(VISIBILITIES)}")
        return self


# ----------------------------------------------------------------------------------- building the zip
def build(out, settings, rubric_path=None, wheel=None, data_dir=None, template=None):
    """Write ``out/autograder.zip`` and return its path. ``wheel``: a built wheel of this project (default: built
    here from the source checkout); ``data_dir``: the images to grade on (default: the kit's generated ones);
    ``template``: the ``models.py`` handed out, beneath a notebook handed in alone."""
    import shutil
    import tempfile
    import zipfile

    from coursekit.grading.rubric import load_rubric

    settings.validate()
    load_rubric(rubric_path, settings.assignment)  # a bad rubric fails here, not on Gradescope
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="autograder_") as tmp:
        tmp = Path(tmp)
        wheel = Path(wheel) if wheel else build_wheel(tmp / "wheel")
        if not wheel.is_file() or wheel.suffix != ".whl":
            raise FileNotFoundError(f"--wheel {wheel}: not a wheel file")
        files = {"setup.sh": SETUP_SH, "run_autograder": run_autograder_script(settings),
                 "autograder.json": json.dumps(asdict(settings), indent=2) + "\n",
                 "constraints.txt": constraints(wheel),
                 "README.txt": README_TXT}
        target = out / "autograder.zip"
        partial = target.with_suffix(".zip.partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
            for name, text in files.items():
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = (0o755 if name in ("setup.sh", "run_autograder") else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, text)
            z.write(wheel, wheel.name)
            if rubric_path:
                z.write(rubric_path, "rubric.toml")
            if template:  # the models.py handed out: beneath a notebook handed in without one
                z.write(template, "template_models.py")
            if data_dir:
                for path in sorted(Path(data_dir).rglob("*")):
                    if path.is_file():
                        z.write(path, f"images/{path.relative_to(data_dir)}")
        os.replace(partial, target)
        shutil.rmtree(tmp / "wheel", ignore_errors=True)
    return target


def project_root():
    """The source checkout this module runs from, or ``None`` when it was installed from a wheel."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").is_file() and (here / "coursekit").is_dir() else None


def build_wheel(into):
    """A wheel of this project, built from the checkout with pip (no dependencies fetched)."""
    source = project_root()
    if source is None:
        raise FileNotFoundError("this coursekit was installed from a wheel, not run from its source: pass that "
                                "wheel with --wheel FILE (pip download coursekit --no-deps, or build one with "
                                "'pip wheel --no-deps .' in a checkout)")
    import shutil

    into.mkdir(parents=True, exist_ok=True)
    clean = into / "source"  # a copy of what the wheel is made of: a stale build/ folder in the checkout cannot leak in
    clean.mkdir()
    for name in ("pyproject.toml", "README.md", "models.py"):
        shutil.copy2(source / name, clean / name)
    for package in ("coursekit", "assignment"):
        shutil.copytree(source / package, clean / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    base = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(into), str(clean)]
    done = subprocess.run([*base, "--no-build-isolation"], capture_output=True, text=True)
    if done.returncode != 0:  # setuptools missing here: let pip fetch it into an isolated build environment
        done = subprocess.run(base, capture_output=True, text=True)
    wheels = sorted(into.glob("coursekit-*.whl"))
    if done.returncode != 0 or not wheels:
        raise RuntimeError(f"building the wheel of {source} failed: {done.stderr.strip()[-1500:]}")
    return wheels[-1]


def constraints(wheel):
    """The wheel's requirements pinned to the versions installed here (the stack the instructor built it on), with
    ``tensorflow`` as ``tensorflow-cpu``."""
    import re
    import zipfile
    from importlib.metadata import PackageNotFoundError, version

    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        lines = z.read(meta).decode().splitlines()
    pins = []
    for line in lines:
        if not line.startswith("Requires-Dist:") or "extra ==" in line:
            continue
        name = re.match(r"[A-Za-z0-9_.\-]+", line.split(":", 1)[1].strip()).group(0)
        try:
            pins.append(f"{CPU_BUILDS.get(name.lower(), name)}=={version(name)}")
        except PackageNotFoundError:
            pins.append(CPU_BUILDS.get(name.lower(), name))  # not installed here: the wheel's range decides
    import platform

    return (f"# the stack this autograder was built on (Python {platform.python_version()}), installed by setup.sh\n"
            "# before the wheel; tensorflow-cpu stands for tensorflow (Gradescope has no GPU)\n" + "\n".join(pins) + "\n")


README_TXT = """This zip is a Gradescope autograder built by coursekit (python -m assignment autograder).
Upload it as it is under "Configure Autograder" (base image: Ubuntu 22.04). setup.sh installs Python 3.11 beside
the system's, this project's wheel and its stack, and trains the grading kit once; run_autograder grades each
submission and always writes /autograder/results/results.json. Settings: autograder.json.
"""

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (python -m assignment autograder wrote it).
set -euo pipefail
ROOT="${COURSEKIT_AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
export TF_CPP_MIN_LOG_LEVEL=2
VENV="$ROOT/coursekit-venv"
trap 'echo "setup.sh failed at line $LINENO: $BASH_COMMAND (exit $?). The autograder is not ready: fix the cause and rebuild the image." >&2' ERR

# Python 3.11 or later beside the system's python3 (Gradescope's harness uses that one: it is left alone)
find_python() {
  for v in 3.13 3.12 3.11; do
    for p in /usr/bin/python$v /usr/local/bin/python$v; do
      if [ -x "$p" ] && "$p" -c 'import venv, ensurepip' > /dev/null 2>&1; then echo "$p"; return 0; fi
    done
  done
  return 1
}
if ! PY="$(find_python)"; then
  echo "installing python3.11 and python3.11-venv from the image's packages (Ubuntu 22.04: universe)"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq python3.11 python3.11-venv > /dev/null; } || true
  if ! PY="$(find_python)"; then
    echo "setup.sh: no Python 3.11 or later with venv here, and apt-get could not install python3.11 and" \
         "python3.11-venv. Use Gradescope's Ubuntu 22.04 base image, or add 'add-apt-repository -y" \
         "ppa:deadsnakes/ppa' before the install in setup.sh." >&2
    exit 1
  fi
fi
echo "Python for the autograder: $PY ($("$PY" --version))"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r "$SOURCE/constraints.txt"
"$VENV/bin/python" -m pip install --quiet --no-deps "$SOURCE"/coursekit-*.whl
# once for every submission: the kit's images, its trained model and its attacks (source/kit, private); -P: the
# installed wheel, never a coursekit folder that happens to be in the current directory
"$VENV/bin/python" -P -m coursekit.grading.gradescope prepare
# the submission's user may run the environment (public code) but read nothing of source/
chmod 755 "$ROOT"
chmod -R go-rwx "$SOURCE"
chmod -R a+rX "$VENV"
echo "setup.sh: the autograder is ready"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission (python -m assignment autograder wrote it). Whatever happens below, a
# valid results.json is there: this one first, replaced by the grader's own when it finishes.
ROOT="${COURSEKIT_AUTOGRADER_ROOT:-/autograder}"
export TF_CPP_MIN_LOG_LEVEL=2
mkdir -p "$ROOT/results"
cat > "$ROOT/results/results.json" << 'JSON'
{"score": 0, "execution_time": 0, "output": "The autograder stopped before it finished (it ran out of time or memory, or could not start). This is not a grade: please tell your instructor.", "tests": [], "extra_data": {"grading_status": "autograder-failed"}}
JSON
timeout --kill-after=10 __LIMIT__ "$ROOT/__VENV__/bin/python" -P -m coursekit.grading.gradescope run
status=$?
[ "$status" = 0 ] || echo "run_autograder: the grader ended with status $status; results.json says so" >&2
exit 0
"""


def run_autograder_script(settings):
    limit = int(settings.platform_timeout - 15)  # the kit's own limit inside; this one is the last resort
    return RUN_AUTOGRADER.replace("__LIMIT__", str(limit)).replace("__VENV__", VENV)


# ----------------------------------------------------------------------------------- on Gradescope
def load_settings(source):
    path = Path(source) / "autograder.json"
    return Settings(**json.loads(path.read_text())).validate()


def prepare(base=None):
    """``setup.sh``'s step: build the kit once and save it under ``source/kit``."""
    from coursekit.grading.data import make_grader_images
    from coursekit.grading.fit3181 import Kit

    base = Path(base or root())
    source = base / "source"
    settings = load_settings(source)
    if settings.assignment != "fit3181":
        print(f"{settings.assignment}: no kit to prepare (its checks need no trained model)")
        return 0
    started = time.perf_counter()
    images = source / "images"
    if not images.is_dir():
        make_grader_images(source / "kit_images", seed=settings.seed)
        images = source / "kit_images"
    template = source / "template_models.py"
    Kit.build(images.resolve(), settings.seed, template if template.is_file() else None).save(source / "kit")
    print(f"the grading kit (images, trained model, attacks) is in {source / 'kit'} "
          f"({time.perf_counter() - started:.0f} s)")
    return 0


class NothingToGrade(Exception):
    """The submission holds no file the checks can start from; the message says what was expected."""


def find_submission(folder, marker=("models.py", "*.ipynb")):
    """What to grade in Gradescope's submission folder: the folder itself (a file matching ``marker``, a pattern
    or a tuple of them, at its top or in one of its folders), or the one ``.zip`` it holds. Raises
    ``NothingToGrade`` naming what was expected and found."""
    from coursekit.grading.sandbox import as_patterns

    folder = Path(folder)
    patterns = as_patterns(marker)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and "__MACOSX" not in p.parts) if folder.is_dir() \
        else []
    if any(p.match(m) for p in files for m in patterns):
        return folder
    zips = [p for p in files if p.suffix.lower() == ".zip"]
    if len(zips) == 1:
        import zipfile

        try:
            with zipfile.ZipFile(zips[0]) as z:
                if any(Path(n).match(m) for n in z.namelist() for m in patterns):
                    return zips[0]
        except zipfile.BadZipFile:
            raise NothingToGrade(f"{zips[0].name} is not a readable zip file: upload "
                                 f"{' or '.join(patterns)} itself") from None
    expected = ("models.py (the template's file with your classes and attacks) or the A1 notebook (.ipynb, with "
                "YourModel and the attacks in its cells), at the top of your submission or in one folder"
                if "models.py" in patterns else "your .py files")
    found = ", ".join(str(p.relative_to(folder)) for p in files[:10]) or "nothing"
    raise NothingToGrade(f"expected {expected}; found: {found}.")


def run(base=None):
    """``run_autograder``'s step: grade the submission into ``results/results.json``; never raises."""
    base = Path(base or root())
    started = time.perf_counter()
    target = base / "results" / "results.json"
    try:
        result = _grade(base)
    except Exception as exc:  # noqa: BLE001 (the kit's own failure: said as such, never a silent 0)
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()[-1500:]
        result = {"score": 0, "tests": [], "output": "The autograder itself failed; this is not a grade, please "
                  f"tell your instructor. ({detail})", "extra_data": {"grading_status": "autograder-failed"}}
    result["execution_time"] = round(time.perf_counter() - started, 2)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target, json.dumps(result, indent=2) + "\n")
    print(result["output"])
    return 0


def _grade(base):
    from coursekit.grading import fit3181, others
    from coursekit.grading.isolation import GROUP_ONLY, Limits, available_level
    from coursekit.grading.reports import results_json, scored_tests, versions
    from coursekit.grading.rubric import load_rubric, rubric_visibility
    from coursekit.grading.sandbox import Outcome, Run, grade_one, markers

    source = base / "source"
    settings = load_settings(source)
    rubric_path = source / "rubric.toml" if (source / "rubric.toml").is_file() else None
    rubric = load_rubric(rubric_path, settings.assignment)
    visibility = rubric_visibility(rubric_path) or settings.visibility
    checks = fit3181.CHECKS if settings.assignment == "fit3181" else others.CHECKS[settings.assignment]
    names = [name for name, _ in checks]
    level = available_level()
    outcome = None
    try:
        submission = find_submission(base / "submission", markers(settings.assignment))
    except NothingToGrade as exc:
        outcome = Outcome("submission", "import-error", message=str(exc), isolation=level)
    if outcome is None and settings.require_isolation and level == GROUP_ONLY:
        outcome = Outcome("submission", "refused", isolation=level, message=(
            "not graded: the container allows neither namespaces nor a user id of the submission's own (isolation "
            f"would be '{level}') and the autograder was built with --require-isolation"))
    if outcome is None:
        if settings.assignment == "fit3181":
            kit = fit3181.Kit.load(source / "kit")
        else:
            from types import SimpleNamespace
            kit = SimpleNamespace(seed=settings.seed, assignment=settings.assignment, rubric={}, submission=None)
        cpu = int(settings.timeout * (os.cpu_count() or 1)) + 60
        run_ = Run(settings.timeout, settings.check_timeout, Limits(memory_gb=settings.memory_gb, cpu_seconds=cpu),
                   level, (str(source), str(base / "results")))
        outcome = grade_one(submission, kit, rubric, checks, run_, settings.assignment)
    tests = scored_tests(outcome, rubric, names)
    result = results_json(outcome, tests, settings.seed, versions())
    result["visibility"] = visibility
    lost = [t["name"] for t in tests if t["score"] < t["max_score"]]
    result["output"] = (f"{result['score']:g} / {sum(t['max_score'] for t in tests):g} points. "
                        + result["output"] + (f". Lost points on: {', '.join(lost)}." if lost else "."))
    if outcome.output_tail.strip():
        result["output"] += "\n\nThe last lines your code printed:\n" + outcome.output_tail.strip()[-1500:]
    return result


def main(argv=None):
    import argparse

    p = argparse.ArgumentParser(prog="python -m coursekit.grading.gradescope",
                                description="The Gradescope autograder's two steps (setup.sh and run_autograder "
                                            "call them; build the zip with 'python -m assignment autograder').")
    p.add_argument("step", choices=["prepare", "run"])
    args = p.parse_args(argv)
    return prepare() if args.step == "prepare" else run()


if __name__ == "__main__":
    sys.exit(main())
