"""The isolation of a submission's process, quickly (plain Python children, no TensorFlow): no network, no
leftover processes, covered folders, limits, a cleared environment."""
import os
import socket
import subprocess
import sys
import time

import pytest

from coursekit.grading import isolation
from coursekit.grading.isolation import LEVELS, Limits, available_level, clean_environment, command

LEVEL = available_level()
namespaced = pytest.mark.skipif(LEVEL == LEVELS[2], reason=f"no namespaces here ({LEVEL})")


@pytest.fixture
def open_dir():
    """A folder any user can use (pytest's own are 0700, closed to the submission's user)."""
    import shutil
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="isolation_test_"))
    os.chmod(folder, 0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _run(code, hide=(), level=LEVEL, env=None, timeout=60):
    cmd = command(level, hide, [sys.executable, "-c", code], isolation.fresh_ids())
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/",
                          env=env or clean_environment("/tmp", "test-token"))


def test_the_level_is_one_of_the_named_ones():
    assert LEVEL in LEVELS


@namespaced
def test_no_network_even_to_the_graders_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    done = _run(f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
                "    print('CONNECTED')\nexcept OSError as exc:\n    print('refused', exc)")
    server.close()
    assert "refused" in done.stdout and "CONNECTED" not in done.stdout


@namespaced
def test_a_detached_process_dies_with_the_submission(open_dir):
    marker = open_dir / "alive"
    code = (f"import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            f"        for _ in range(40):\n            open({str(marker)!r} + '.tmp', 'w').write(str(time.time()))\n"
            f"            os.replace({str(marker)!r} + '.tmp', {str(marker)!r})\n"
            "            time.sleep(0.1)\n        os._exit(0)\n    os._exit(0)\ntime.sleep(0.5)\n")
    _run(code)
    ended = time.time()
    time.sleep(1.0)
    assert marker.exists() and float(marker.read_text()) < ended  # it ran, and stopped when the submission did


@namespaced
def test_covered_folders_look_empty(open_dir):
    secret = open_dir / "class" / "ann"
    secret.mkdir(parents=True)
    (secret / "models.py").write_text("the classmate's code")
    code = f"import os\nprint(sorted(os.listdir({str(open_dir / 'class')!r})))"
    assert "ann" in _run(code).stdout
    covered = _run(code, hide=[str(open_dir / "class")])
    assert "ann" not in covered.stdout and ("[]" in covered.stdout or "PermissionError" in covered.stderr)


@pytest.mark.skipif(LEVEL != LEVELS[0], reason=f"needs a separate user (here: {LEVEL})")
def test_it_runs_as_a_user_of_its_own():
    done = _run("import os; print(os.getuid())")
    assert int(done.stdout) >= isolation.UID_BASE


def test_the_environment_is_cleared():
    os.environ["INSTRUCTOR_SECRET"] = "s3cr3t"
    try:
        done = _run("import os; print(sorted(os.environ))", level=LEVELS[2])
    finally:
        del os.environ["INSTRUCTOR_SECRET"]
    assert "INSTRUCTOR_SECRET" not in done.stdout and "COURSEKIT_GRADE_TOKEN" in done.stdout


def test_a_file_over_the_size_limit_ends_the_process(tmp_path):
    code = (f"f = open({str(tmp_path / 'big')!r}, 'wb')\nfor _ in range(64):\n    f.write(b'x' * (1 << 20))\n"
            "f.close()\nprint('WROTE IT ALL')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          preexec_fn=Limits(file_mb=8).apply)
    assert "WROTE IT ALL" not in done.stdout and done.returncode != 0
    assert (tmp_path / "big").stat().st_size <= 8 << 20


def test_the_token_sweep_finds_a_process_that_left_the_group():
    token = "sweep-test-token"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                             env=clean_environment("/tmp", token), start_new_session=True)
    time.sleep(0.3)
    assert isolation.kill_token_holders(token) == 1
    assert child.wait(timeout=10) != 0
