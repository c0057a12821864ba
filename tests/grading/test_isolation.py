"""The isolation of a submission's process, quickly (plain Python children, no TensorFlow): no network, no
leftover processes, covered folders, limits, a cleared environment."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from coursekit.grading import isolation
from coursekit.grading.isolation import (GROUP_ONLY, LEVELS, NAMESPACED, NAMESPACED_USER, SEPARATE_USER,
                                         USER_LANDLOCK, USER_SECCOMP, Limits, available_level, clean_environment,
                                         command)

LEVEL = available_level()
namespaced = pytest.mark.skipif(LEVEL not in (NAMESPACED_USER, NAMESPACED), reason=f"no namespaces here ({LEVEL})")


def _container_level_runs(level):
    """Whether ``level`` (a container's: no namespaces needed) can be forced here: root, setpriv, the walls."""
    if os.geteuid() != 0 or sys.platform != "linux":
        return False
    from coursekit.grading.confine import landlock_abi

    return level != USER_LANDLOCK or landlock_abi() > 0


# the container levels are forced here, whatever available_level() picks, so that they are tested on every root
# machine: a Gradescope container (no CAP_SYS_ADMIN) gets them (tests/grading/test_gradescope.py runs that case)
CONTAINER_LEVELS = [pytest.param(level, marks=pytest.mark.skipif(not _container_level_runs(level),
                                                                 reason="needs root and setpriv (and Landlock)"))
                    for level in (USER_LANDLOCK, USER_SECCOMP)]


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


def _run(code, hide=(), level=LEVEL, env=None, timeout=60, ids=None, work=None):
    cmd = command(level, hide, [sys.executable, "-c", code], ids or isolation.fresh_ids(), work)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/",
                          env=env or clean_environment("/tmp", "test-token"))


def _connect_code(port):
    return (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            "    print('CONNECTED')\nexcept OSError as exc:\n    print('refused', exc)")


@pytest.fixture
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    yield server.getsockname()[1]
    server.close()


def test_the_level_is_one_of_the_named_ones():
    assert LEVEL in LEVELS


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("capsh"), reason="needs root and capsh")
def test_root_without_cap_sys_admin_gets_a_user_of_its_own_not_the_process_group():
    """As a Docker container runs (Gradescope's): root, but namespaces cannot be made."""
    probe = f"{sys.executable} -c 'from coursekit.grading.isolation import available_level; print(available_level())'"
    done = subprocess.run(["capsh", "--drop=cap_sys_admin,cap_net_admin,cap_sys_ptrace", "--", "-c", probe],
                          capture_output=True, text=True, timeout=120, cwd=str(Path(__file__).parents[2]))
    assert done.stdout.strip() in (USER_LANDLOCK, USER_SECCOMP), done.stdout + done.stderr
    no_setuid = subprocess.run(["capsh", "--drop=cap_sys_admin,cap_net_admin,cap_sys_ptrace,cap_setuid,cap_setgid",
                                "--", "-c", probe], capture_output=True, text=True, timeout=120,
                               cwd=str(Path(__file__).parents[2]))
    assert no_setuid.stdout.strip() == GROUP_ONLY, no_setuid.stdout + no_setuid.stderr


def test_the_grader_itself_can_reach_the_listener(listener):
    done = subprocess.run([sys.executable, "-c", _connect_code(listener)], capture_output=True, text=True, timeout=60)
    assert "CONNECTED" in done.stdout  # so that the refusals below are the walls' doing


@namespaced
def test_no_network_even_to_the_graders_loopback(listener):
    done = _run(_connect_code(listener))
    assert "refused" in done.stdout and "CONNECTED" not in done.stdout


@pytest.mark.parametrize("level", CONTAINER_LEVELS)
def test_no_network_in_a_container_either(level, listener, open_dir):
    done = _run(_connect_code(listener) + "\nimport socket\nfor family in (socket.AF_INET6, socket.AF_NETLINK):\n"
                "    try:\n        socket.socket(family, socket.SOCK_RAW if family == socket.AF_NETLINK else "
                "socket.SOCK_DGRAM)\n        print('OPENED', family)\n    except OSError as exc:\n        print(exc)",
                level=level, work=open_dir)
    assert "refused" in done.stdout and "Permission denied" in done.stdout, done.stderr
    assert "CONNECTED" not in done.stdout and "OPENED" not in done.stdout


@pytest.mark.parametrize("level", CONTAINER_LEVELS)
def test_in_a_container_a_detached_process_is_swept_by_its_user_id(level, open_dir):
    marker = open_dir / "alive"
    ids = isolation.fresh_ids()
    code = (f"import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            f"        for _ in range(100):\n            open({str(marker)!r} + '.tmp', 'w').write(str(time.time()))\n"
            f"            os.replace({str(marker)!r} + '.tmp', {str(marker)!r})\n"
            "            time.sleep(0.1)\n        os._exit(0)\n    os._exit(0)\ntime.sleep(0.5)\n")
    _run(code, level=level, ids=ids, work=open_dir)
    assert isolation.processes_of(ids[0])  # it outlived the submission's process...
    assert isolation.sweep_user(ids[0]) >= 1  # ...until the sweep the grader runs after every submission
    ended = time.time()
    time.sleep(1.0)
    assert marker.exists() and float(marker.read_text()) < ended and not isolation.processes_of(ids[0])


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


@pytest.mark.parametrize("level", CONTAINER_LEVELS)
def test_in_a_container_the_graders_files_cannot_be_read(level, open_dir, tmp_path):
    """Landlock keeps out even what everyone may read; without it, permissions keep out the grader's private files
    (pytest's tmp_path is 0700, as the autograder makes /autograder/source)."""
    shared = Path(tempfile.mkdtemp(prefix="isolation_open_"))
    os.chmod(shared, 0o755)
    (shared / "rubric.toml").write_text("secret weights")
    os.chmod(shared / "rubric.toml", 0o644)
    (tmp_path / "rubric.toml").write_text("secret weights")
    code = ("import sys\nfor p in sys.argv[1:]:\n    try:\n        print(open(p).read())\n"
            "    except OSError as exc:\n        print('refused', exc)")
    try:
        done = subprocess.run(command(level, (), [sys.executable, "-c", code, str(tmp_path / "rubric.toml"),
                                                  str(shared / "rubric.toml")], isolation.fresh_ids(), open_dir),
                              capture_output=True, text=True, timeout=60, cwd="/",
                              env=clean_environment("/tmp", "test-token"))
    finally:
        shutil.rmtree(shared)
    assert done.stdout.count("refused") == (2 if level == USER_LANDLOCK else 1), done.stdout + done.stderr
    assert done.stdout.count("secret weights") == (0 if level == USER_LANDLOCK else 1)


@pytest.mark.parametrize("level", CONTAINER_LEVELS)
def test_in_a_container_its_own_folder_is_writable(level, open_dir):
    done = _run(f"open({str(open_dir / 'out.txt')!r}, 'w').write('mine'); print('WROTE')", level=level,
                work=open_dir)
    assert "WROTE" in done.stdout, done.stderr
    assert (open_dir / "out.txt").read_text() == "mine"


@pytest.mark.parametrize("level", [pytest.param(NAMESPACED_USER, marks=pytest.mark.skipif(
    LEVEL != NAMESPACED_USER, reason=f"needs namespaces and a separate user (here: {LEVEL})")), *CONTAINER_LEVELS])
def test_it_runs_as_a_user_of_its_own(level, open_dir):
    done = _run("import os; print(os.getuid(), os.getgid(), os.getgroups())", level=level, work=open_dir)
    uid, gid = map(int, done.stdout.split()[:2])
    assert uid >= isolation.UID_BASE and gid >= isolation.UID_BASE, done.stderr
    assert "[]" in done.stdout


def test_the_environment_is_cleared():
    os.environ["INSTRUCTOR_SECRET"] = "s3cr3t"
    try:
        done = _run("import os; print(sorted(os.environ))", level=GROUP_ONLY)
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
