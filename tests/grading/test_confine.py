"""The unprivileged walls (``coursekit.grading.confine``): the seccomp program and Landlock, each in a child
process (both are for life)."""
import subprocess
import sys

import pytest

from coursekit.grading import confine

linux = pytest.mark.skipif(sys.platform != "linux" or __import__("platform").machine() not in confine.ARCHES,
                           reason="seccomp filter for Linux on x86_64 and aarch64")


def _confined(code, *walls):
    return subprocess.run([sys.executable, "-m", "coursekit.grading.confine", *walls, "--", sys.executable, "-c",
                           code], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("machine", sorted(confine.ARCHES))
def test_every_jump_of_the_program_lands_on_a_return_or_a_load(machine):
    prog = confine.network_filter(machine)
    assert len(prog) < 64
    for i, (code, jt, jf, _) in enumerate(prog):
        if code in (confine.JEQ_K, confine.JGE_K):
            for target in (i + 1 + jt, i + 1 + jf):
                assert target < len(prog) and prog[target][0] in (confine.RET_K, confine.LD_W_ABS, confine.JEQ_K,
                                                                   confine.JGE_K)
    assert prog[-1] == (confine.RET_K, 0, 0, confine.SECCOMP_RET_ERRNO | 13)  # the last word: EACCES


def test_an_unknown_machine_is_refused_by_name():
    with pytest.raises(confine.ConfineError, match="sparc64"):
        confine.network_filter("sparc64")


@linux
def test_sockets_but_unix_ones_and_io_uring_are_refused():
    code = ("import ctypes, errno, socket\n"
            "for family in (socket.AF_INET, socket.AF_INET6, socket.AF_PACKET):\n"
            "    try:\n        socket.socket(family, socket.SOCK_DGRAM)\n        print('OPENED', family)\n"
            "    except OSError as exc:\n        print('refused', exc.errno)\n"
            "socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()\nprint('unix ok')\n"
            "libc = ctypes.CDLL(None, use_errno=True)\nparams = ctypes.create_string_buffer(120)\n"
            "print('uring', libc.syscall(425, 4, params), ctypes.get_errno())")
    done = _confined(code)
    assert done.stdout.count("refused 13") == 3 and "OPENED" not in done.stdout, done.stdout + done.stderr
    assert "unix ok" in done.stdout and "uring -1 1" in done.stdout


@linux
def test_without_the_filter_the_same_code_opens_sockets():
    done = subprocess.run([sys.executable, "-c", "import socket; socket.socket(); print('OPENED')"],
                          capture_output=True, text=True, timeout=60)
    assert "OPENED" in done.stdout


@pytest.mark.skipif(confine.landlock_abi() < 1, reason="no Landlock in this kernel")
def test_landlock_allows_only_the_folders_named(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "secret").write_text("s")
    code = (f"open({str(tmp_path / 'mine' / 'x')!r}, 'w').write('ok'); print('wrote')\n"
            f"try:\n    open({str(tmp_path / 'theirs' / 'secret')!r}).read(); print('READ')\n"
            "except OSError as exc:\n    print('refused', exc.errno)")
    import os

    roots = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(confine.__file__))}
    walls = [a for r in sorted(roots) for a in ("--read", r)] + ["--write", str(tmp_path / "mine")]
    done = _confined(code, *walls)
    assert "wrote" in done.stdout and "refused 13" in done.stdout and "READ" not in done.stdout, done.stderr


def test_no_command_is_a_usage_error():
    done = subprocess.run([sys.executable, "-m", "coursekit.grading.confine"], capture_output=True, text=True)
    assert done.returncode == 2 and "usage" in done.stderr
