"""``.h5`` files cross the stacks of the matrix (README, "Supported versions"): a model saved with
``DefaultModel.save`` on each stack loads with ``DefaultModel.load`` and with plain ``keras.models.load_model`` on
every other, in both directions, with the same predictions to float32 round-off.

The stacks are this interpreter plus every ``.venv-stack-*`` that ``.ci/stack`` made beside the project (or those
``COURSEKIT_STACKS="name=/path/to/python,..."`` names); with none, there is nothing to cross and the test skips.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "stack_roundtrip.py"


def stacks():
    named = os.environ.get("COURSEKIT_STACKS")
    if named:
        found = dict(item.split("=", 1) for item in named.split(",") if item)
    else:
        found = {p.name.removeprefix(".venv-stack-"): str(p / "bin" / "python")
                 for p in sorted(ROOT.glob(".venv-stack-*")) if (p / "bin" / "python").is_file()}
    return {"this": sys.executable, **found}


def _run(python, *args):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([python, str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"{python} {args}:\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
def test_h5_files_written_on_each_stack_load_on_every_other(tmp_path):
    found = stacks()
    if len(found) < 2:
        pytest.skip("no other stack to cross: run .ci/stack colab-2025-07 (and colab-2026-08) first")
    for name, python in found.items():
        (tmp_path / name).mkdir()
        _run(python, "write", str(tmp_path / name))
    failures = []
    for reader, python in found.items():
        for writer in found:
            result = json.loads(_run(python, "read", str(tmp_path / writer)).strip().splitlines()[-1])
            written_by = json.loads((tmp_path / writer / "stack.json").read_text())["keras"]
            for what, diff in result.items():
                if what != "keras" and not (isinstance(diff, float) and diff <= 1e-5):
                    failures.append(f"written by Keras {written_by} ({writer}), read by Keras {result['keras']} "
                                    f"({reader}), {what}: {diff}")
    assert not failures, "\n".join(failures)
