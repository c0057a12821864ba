"""How a submission's process is walled off from the grader, the other submissions and the network.

The strongest level Linux allows here is used, and named in every ``results.json`` and report:

- ``pid+net+mount namespaces, separate user``: the submission runs as PID 1 of its own PID namespace (when it ends,
  the kernel kills every process it left, however it forked or detached), in its own network namespace (a loopback
  that is down: no network), in its own mount namespace where the other submissions, the ``--out`` folder and the
  instructor's files are covered by empty folders, as an unprivileged user id of its own that no account or other
  submission has (when the grader is root): its process limit counts its processes only, and a sweep at the end
  finds any that are left;
- ``pid+net+mount namespaces``: the same without the change of user (grading as a normal user: a user namespace);
- ``separate user, no network (seccomp), own files (landlock)``: root in a container that forbids namespaces
  (Docker's default seccomp profile, no ``CAP_SYS_ADMIN``: Gradescope). The submission runs as a user id of its
  own (``setpriv``, no new privileges), under a seccomp filter that refuses every socket but ``AF_UNIX`` (no
  network, not even 127.0.0.1) and under Landlock, which lets it open files only in its own folder (read and
  write) and in the system's, Python's and this project's folders (read): the grader's files, the rubric, the
  other submissions and ``--out`` cannot be opened whatever their permissions. Every process of its user id is
  killed at the end (``confine``);
- ``separate user, no network (seccomp)``: the same where the kernel has no Landlock: the files it must not read
  are kept from it by their permissions only (the Gradescope autograder makes its own private; a folder the
  grader leaves readable by everyone stays readable, and ``grade`` lists those it would hide);
- ``process group only``: no namespaces and no change of user (another OS, or a non-root grader in a container):
  its own session and process group, every process still carrying the submission's token killed at the end, and
  the same limits.

Every level adds the limits of ``Limits`` (address space, CPU time, file size, processes) and a cleared
environment; the total bytes written are watched by the grader (``sandbox``).
"""
from __future__ import annotations

import functools
import os
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LEVELS = ("pid+net+mount namespaces, separate user", "pid+net+mount namespaces",
          "separate user, no network (seccomp), own files (landlock)", "separate user, no network (seccomp)",
          "process group only")
NAMESPACED_USER, NAMESPACED, USER_LANDLOCK, USER_SECCOMP, GROUP_ONLY = LEVELS
SEPARATE_USER = (NAMESPACED_USER, USER_LANDLOCK, USER_SECCOMP)  # levels whose processes are swept by user id
UID_BASE = 1_900_000_000  # unprivileged ids of their own, one per submission, far from any account's
NAMESPACES = ["--pid", "--net", "--mount", "--fork", "--mount-proc", "--kill-child"]


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission (``setrlimit``): a fork bomb or a disk filler fails its own submission."""
    memory_gb: float = 8.0
    cpu_seconds: int = 1200
    file_mb: int = 256
    processes: int = 512  # threads count: TensorFlow starts a few dozen
    written_mb: int = 1024  # total under the submission's folder, watched by the grader

    def apply(self):
        """Run in the child between fork and exec (``preexec_fn``): only C-level calls and one small write, no
        import, so that it is safe while other grading threads run (``grade --jobs``)."""
        for name, value in (("RLIMIT_AS", int(self.memory_gb * 2 ** 30)), ("RLIMIT_CPU", int(self.cpu_seconds)),
                            ("RLIMIT_FSIZE", int(self.file_mb * 2 ** 20)), ("RLIMIT_NPROC", int(self.processes)),
                            ("RLIMIT_CORE", 0)):
            try:
                resource.setrlimit(getattr(resource, name), (value, value))
            except (AttributeError, ValueError, OSError):
                pass  # not on this OS: the others and the time limit still hold
        try:  # where memory runs out (a 768 MB container), the kernel's OOM killer takes the submission, not the grader
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")
        except OSError:
            pass


@functools.lru_cache(maxsize=None)
def available_level(python=sys.executable):
    """The strongest level that works here, found by starting a probe the way a submission is started."""
    if sys.platform != "linux":
        return GROUP_ONLY
    root = os.geteuid() == 0
    probe = [python, "-c", "import coursekit, numpy"]
    if _which("unshare"):
        prefix = ["unshare", *NAMESPACES] if root else ["unshare", "--user", "--map-root-user", *NAMESPACES]
        if root and _which("setpriv") and _runs([*prefix, *_drop_user(fresh_ids()), *probe]):
            return NAMESPACED_USER
        if _runs([*prefix, *probe]):
            return NAMESPACED
    if root and _which("setpriv"):
        import tempfile

        with tempfile.TemporaryDirectory(prefix="probe_") as folder:
            os.chmod(folder, 0o777)
            for level in (USER_LANDLOCK, USER_SECCOMP):
                if _runs(command(level, (), [python, "-c", NO_SOCKET_PROBE], fresh_ids(), folder)):
                    return level
    return GROUP_ONLY


# the seccomp levels' probe passes only if its wall holds: the project imports and no network socket can be made
NO_SOCKET_PROBE = ("import socket, coursekit, numpy\n"
         "try:\n    socket.socket(socket.AF_INET, socket.SOCK_STREAM)\nexcept OSError:\n    pass\n"
         "else:\n    raise SystemExit('the network is open')")


def readable_roots(python=sys.executable):
    """The folders a submission may read under Landlock besides the system's: Python's, its environment's and this
    project's (public code)."""
    roots = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(python)),
             str(Path(__file__).resolve().parents[2])}
    return sorted(roots)


def _which(name):
    from shutil import which
    return which(name) is not None


def _runs(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, timeout=60, env=_probe_env(),
                              cwd="/").returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _probe_env():
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def fresh_ids():
    """A user and group id for one submission that no account or other submission uses."""
    import secrets

    uid = UID_BASE + secrets.randbelow(10 ** 8)
    return uid, uid


def _drop_user(ids):
    uid, gid = ids
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--no-new-privs", "--"]


def processes_of(uid):
    """The ids of the processes running as ``uid`` (read from ``/proc``)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    if int(line.split()[1]) == uid:
                        found.append(int(entry.name))
                    break
        except (OSError, ValueError):
            continue
    return found


def sweep_user(uid, wait=30.0):
    """SIGKILL every process of ``uid`` until none is left (a fork bomb's last children take a moment to go);
    returns how many were killed."""
    import time

    killed, deadline = 0, time.monotonic() + wait
    while time.monotonic() < deadline:
        pids = processes_of(uid)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        time.sleep(0.1)
    return killed


def command(level, hide, cmd, ids=None, work=None, reads=()):
    """``cmd`` wrapped for ``level``: namespaces and the covered folders (``hide``), or seccomp and Landlock with
    ``work`` as the only folder it may write and ``reads`` (the kit's shared inputs) readable beside the system's;
    the change of user to ``ids``."""
    if level == GROUP_ONLY:
        return list(cmd)
    if level in (USER_LANDLOCK, USER_SECCOMP):
        walls = []
        if level == USER_LANDLOCK:
            walls = [arg for root in (*readable_roots(), *map(str, reads)) for arg in ("--read", root)]
            walls += ["--write", str(work)] if work else []
        # the walls first, as root, then the change of user: exec'ing a Python the new user cannot reach (one under
        # /root, as pyenv's) works only straight from setpriv
        return [sys.executable, "-m", "coursekit.grading.confine", *walls, "--", *_drop_user(ids), *cmd]
    prefix = ["unshare", *NAMESPACES] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", *NAMESPACES]
    covers = [arg for path in hide for arg in ("--hide", str(path))]
    drop = _drop_user(ids) if level == NAMESPACED_USER else []
    return [*prefix, sys.executable, "-m", "coursekit.grading.isolation", *covers, "--", *drop, *cmd]


def clean_environment(home, token, extra=None):
    """The only variables a submission sees: no instructor tokens, paths or credentials from the grader's shell."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(home), "LANG": "C.UTF-8",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2",
           "KERAS_HOME": str(Path(home) / ".keras"), "MPLCONFIGDIR": str(Path(home) / ".matplotlib"),
           "PYTHONDONTWRITEBYTECODE": "1", "COURSEKIT_GRADE_TOKEN": token}
    env.update(extra or {})
    return env


def kill_token_holders(token):
    """SIGKILL every process whose environment carries ``token`` (the ``process group only`` level's sweep for
    processes that left the group); returns how many were found."""
    found = 0
    needle = f"COURSEKIT_GRADE_TOKEN={token}".encode()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
                found += 1
        except (OSError, ValueError):
            continue
    return found


def _cover_and_exec(argv):
    """Inside the new namespaces (as their root): cover each ``--hide`` folder with an empty read-only tmpfs, then
    exec the rest (``setpriv`` and the worker). Runs as PID 1 until the exec, so the worker is PID 1."""
    hide = []
    while argv and argv[0] == "--hide":
        hide.append(argv[1])
        argv = argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    for path in hide:
        if os.path.isdir(path):
            subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=4k,mode=000", "covered", path], check=True)
        elif os.path.exists(path):
            subprocess.run(["mount", "--bind", "-o", "ro", "/dev/null", path], check=True)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    _cover_and_exec(sys.argv[1:])
