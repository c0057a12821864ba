"""Plays Gradescope for ``test_gradescope.py``: run as root inside a private mount namespace
(``unshare --mount --propagation private``), it mounts a fresh folder at ``/autograder``, unpacks the zip into
``/autograder/source``, runs ``setup.sh`` as root, then ``run_autograder`` once per submission under
``capsh --drop=...`` (a Docker container's root: no namespaces can be made), each in a fresh
``/autograder/submission`` and ``results``. For each run it records the results.json, the seconds, the peak memory
of all the run's processes together, and any process left running as a submission's user id.

``python gradescope_driver.py ZIP WORKDIR SUBMISSIONS_DIR PLAN.json``; writes ``WORKDIR/runs.json``.
"""
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

UID_BASE = 1_900_000_000
CONTAINER = ["capsh", "--drop=cap_sys_admin,cap_net_admin,cap_sys_ptrace", "--", "-c"]
NO_SETUID = ["capsh", "--drop=cap_sys_admin,cap_net_admin,cap_sys_ptrace,cap_setuid,cap_setgid", "--", "-c"]
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}


def _status(pid):
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.split()
    except OSError:
        pass
    return fields


def _tree(root_pid):
    """``root_pid`` and every process descended from it, whatever its session or user id."""
    parents = {}
    for entry in Path("/proc").glob("[0-9]*"):
        ppid = _status(entry.name).get("PPid")
        if ppid:
            parents[int(entry.name)] = int(ppid[0])
    tree, grew = {root_pid}, True
    while grew:
        new = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= new
        grew = bool(new)
    return tree


def _peak_memory(proc, peak):
    """Sample the summed resident memory of ``proc``'s tree every 50 ms until it ends (into ``peak[0]``, MB)."""
    while proc.poll() is None:
        total = sum(int(_status(pid).get("VmRSS", ["0"])[0]) for pid in _tree(proc.pid))
        peak[0] = max(peak[0], total / 1024)
        time.sleep(0.05)


MEMORY_MB = 768  # Gradescope's default container


class MemoryCgroup:
    """A cgroup v1 memory group with Gradescope's limit: the run's processes are charged there as in the container
    (shared pages once, page cache included), and the kernel's OOM killer acts at the limit."""

    def __init__(self, path, limit_mb):
        self.path = path
        path.mkdir()
        (path / "memory.limit_in_bytes").write_text(str(limit_mb << 20))

    def enter(self):  # in the child, before exec
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def close(self):
        stats = {"limit_mb": int((self.path / "memory.limit_in_bytes").read_text()) >> 20,
                 "max_usage_mb": int((self.path / "memory.max_usage_in_bytes").read_text()) >> 20,
                 "oom_kills": int(next((line.split()[1] for line in (self.path / "memory.oom_control").read_text()
                                        .splitlines() if line.startswith("oom_kill ")), "0"))}
        for _ in range(50):
            try:
                self.path.rmdir()
                break
            except OSError:
                time.sleep(0.1)
        return stats


def memory_cgroup(name, limit_mb):
    """A ``MemoryCgroup`` under this process's own memory cgroup (v1), or ``None`` where none can be made."""
    try:
        line = next(ln for ln in Path("/proc/self/cgroup").read_text().splitlines()
                    if ln.split(":")[1] == "memory")
        base = Path("/sys/fs/cgroup/memory") / line.split(":", 2)[2].lstrip("/")
        return MemoryCgroup(base / name, limit_mb) if (base / "memory.limit_in_bytes").exists() else None
    except (OSError, StopIteration, IndexError):
        return None


def _leftovers():
    return [int(e.name) for e in Path("/proc").glob("[0-9]*")
            if int(_status(e.name).get("Uid", ["0"])[0]) >= UID_BASE]


def main(zip_path, work, submissions, plan_path):
    work, submissions = Path(work), Path(submissions)
    root = Path("/autograder")
    subprocess.run(["mount", "--bind", str(work / "autograder"), str(root)], check=True)
    (root / "source").mkdir()
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):
        os.chmod(root / "source" / name, 0o755)  # Gradescope keeps the zip's modes; zipfile does not
    started = time.time()
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=ENV, capture_output=True, text=True,
                           cwd=root / "source")  # where Gradescope runs it: no coursekit of the clone in reach
    runs = {"setup": {"returncode": setup.returncode, "seconds": round(time.time() - started, 1),
                      "output": setup.stdout[-3000:] + "\n--- stderr\n" + setup.stderr[-3000:]}}
    if setup.returncode != 0:
        (work / "runs.json").write_text(json.dumps(runs))
        return 1
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    runs["source_mode"] = oct(os.stat(root / "source").st_mode & 0o777)
    for item in json.loads(Path(plan_path).read_text()):
        name = item["name"]
        for folder in ("submission", "results"):
            shutil.rmtree(root / folder, ignore_errors=True)
            (root / folder).mkdir()
        if (submissions / name).exists():
            shutil.copytree(submissions / name, root / "submission", dirs_exist_ok=True)
        if "settings" in item:  # the instructor rebuilt the zip with other settings
            path = root / "source" / "autograder.json"
            path.write_text(json.dumps({**json.loads(path.read_text()), **item["settings"]}))
        wrapper = NO_SETUID if item.get("no_setuid") else CONTAINER
        started, peak = time.time(), [0.0]
        group = memory_cgroup(f"coursekit_gradescope_{os.getpid()}_{len(runs)}", MEMORY_MB)
        proc = subprocess.Popen([*wrapper, "cd /autograder && exec /autograder/run_autograder"], env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                preexec_fn=group.enter if group else None)
        sampler = threading.Thread(target=_peak_memory, args=(proc, peak), daemon=True)
        sampler.start()
        output = proc.communicate()[0]
        sampler.join()
        seconds = round(time.time() - started, 1)
        time.sleep(1.0)  # a detached process would rewrite results.json in this time
        results = root / "results" / "results.json"
        runs[name] = {"returncode": proc.returncode, "seconds": seconds, "rss_sum_peak_mb": round(peak[0]),
                      "results": results.read_text() if results.is_file() else None,
                      "leftovers": _leftovers(), "output": output[-3000:],
                      "cgroup": group.close() if group else None}
    (work / "runs.json").write_text(json.dumps(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
