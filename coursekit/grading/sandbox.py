"""Grading one submission in its own subprocess: a fresh TensorFlow, its own working folder, a wall-clock limit,
capped memory where the OS allows, results back over a pipe. Nothing a submission does stops the batch."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

STATUSES = ("ok", "timeout", "crash", "import-error")


@dataclass
class Outcome:
    """What came back from one submission's sandbox."""
    name: str
    status: str
    checks: dict = field(default_factory=dict)  # name -> record (fraction, message, seconds, ...)
    message: str = ""
    seconds: float = 0.0
    output_tail: str = ""


def unpack(submission, into, marker="models.py"):
    """Copy a submission folder, or extract a ``.zip``, into ``into``; returns the (shallowest) folder holding a
    file matching ``marker``, else ``into``."""
    submission = Path(submission)
    if submission.suffix.lower() == ".zip":
        with zipfile.ZipFile(submission) as z:
            for member in z.infolist():
                target = (into / member.filename).resolve()
                if not str(target).startswith(str(into.resolve())):
                    raise ValueError(f"{submission}: {member.filename} points outside the archive")
            z.extractall(into)
    else:
        shutil.copytree(submission, into, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", ".git"))
    hits = sorted(into.rglob(marker), key=lambda p: (len(p.parts), str(p)))
    return hits[0].parent if hits else into


def _limit_memory(gigabytes):
    def apply():
        os.setsid()  # its own process group: a timeout kills the submission's children too
        if gigabytes:
            try:
                import resource
                limit = int(gigabytes * 2 ** 30)
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            except (ImportError, ValueError, OSError):
                pass  # not on this OS: the time limit still holds
    return apply


def grade_one(submission, data_dir, rubric, timeout=600.0, check_timeout=120.0, memory_gb=8.0, seed=0,
              assignment="fit3181"):
    """Run ``assignment``'s checks on ``submission`` (a folder or ``.zip``) in a sandboxed subprocess; returns an
    ``Outcome``."""
    name = Path(submission).stem if Path(submission).suffix.lower() == ".zip" else Path(submission).name
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="grade_") as tmp:
        try:
            marker = "models.py" if assignment == "fit3181" else "*.py"
            work = unpack(submission, Path(tmp) / "submission", marker)
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            return Outcome(name, "crash", message=f"could not unpack {submission}: {exc}")
        if not any(work.glob(marker)):
            return Outcome(name, "import-error", message=f"no {marker} in {submission}")
        read, write = os.pipe()
        cmd = [sys.executable, "-m", "coursekit.grading.worker", "--submission", str(work), "--data", str(data_dir),
               "--fd", str(write), "--check-timeout", str(check_timeout), "--rubric", json.dumps(rubric),
               "--seed", str(seed), "--assignment", assignment]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                             os.environ.get("PYTHONPATH", "")]),
               "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2"}
        proc = subprocess.Popen(cmd, cwd=work, env=env, pass_fds=(write,), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_limit_memory(memory_gb))
        os.close(write)
        records, errors = [], []
        reader = threading.Thread(target=_read_lines, args=(read, records), daemon=True)
        reader.start()
        err_reader = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
        err_reader.start()
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        reader.join(timeout=10)
        err_reader.join(timeout=10)
        log = work / "student_output.log"
        tail = log.read_text(errors="replace")[-3000:] if log.is_file() else ""
        stderr = (errors[0] if errors else b"").decode(errors="replace")[-2000:]
    outcome = Outcome(name, "ok", seconds=round(time.perf_counter() - start, 2), output_tail=tail or stderr)
    done = False
    for record in records:
        if record.get("type") == "check":
            outcome.checks[record["name"]] = record
        elif record.get("type") == "status":
            outcome.status, outcome.message = record["status"], record.get("message", "")
        elif record.get("type") == "done":
            done = True
    if timed_out:
        outcome.status = "timeout"
        outcome.message = f"stopped after {timeout:g} s (the submission's time limit); results so far kept"
    elif outcome.status == "ok" and not done:
        outcome.status = "crash"
        outcome.message = f"the grading process ended early (exit code {proc.returncode}); results so far kept"
    return outcome


def _read_lines(fd, records):
    with os.fdopen(fd, "r", errors="replace") as channel:
        for line in channel:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # not the worker's: something else wrote to the pipe
            if isinstance(record, dict):
                records.append(record)
