"""Grading one submission: its code runs in an isolated process (``isolation``) that only computes and writes
replies; the grader validates them and judges every check in its own process. Nothing a submission does stops the
batch, touches another submission or decides its own score."""
from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import secrets
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

from coursekit.grading.isolation import (GROUP_ONLY, SEPARATE_USER, Limits, available_level, clean_environment,
                                         command, fresh_ids, kill_token_holders, sweep_user)

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
    isolation: str = ""
    peak_mb: int = 0  # the largest resident memory of the submission's processes (its worker)
    code: str = ""  # what the checks ran: "models.py", "the template's models.py and A1.ipynb", ... (and its notes)


MARKERS = {"fit3181": ("models.py", "*.ipynb")}  # a FIT3181 submission: models.py, or the notebook alone
# the judging halves run one at a time (several submissions' processes may run at once, ``grade --jobs``): they
# share the kit's model, and Keras is not meant to be called from several threads at once
GRADER_LOCK = threading.Lock()


def markers(assignment):
    """The files that make a folder a submission of ``assignment``, the first preferred."""
    return MARKERS.get(assignment, ("*.py",))


def as_patterns(marker):
    """``marker`` (one file pattern or several) as a tuple of patterns."""
    return (marker,) if isinstance(marker, str) else tuple(marker)


def submission_name(submission):
    """What a submission's reports are filed under: its folder's name, or its zip's without ``.zip``."""
    submission = Path(submission)
    return submission.stem if submission.suffix.lower() == ".zip" else submission.name


def unpack(submission, into, marker="models.py"):
    """Copy a submission folder, or extract a ``.zip``, into ``into``; returns the (shallowest) folder holding a
    file matching ``marker`` (a pattern or a tuple of them, the first found wins), else ``into``."""
    submission = Path(submission)
    if submission.suffix.lower() == ".zip":
        with zipfile.ZipFile(submission) as z:
            for member in z.infolist():
                target = (into / member.filename).resolve()
                if not str(target).startswith(str(into.resolve())):
                    raise ValueError(f"{submission}: {member.filename} points outside the archive")
            z.extractall(into)
    else:
        shutil.copytree(submission, into, dirs_exist_ok=True, symlinks=True,  # a link is copied as a link, never
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", ".git"))  # followed
    for pattern in as_patterns(marker):
        hits = sorted((p for p in into.rglob(pattern) if ".ipynb_checkpoints" not in p.parts),
                      key=lambda p: (len(p.parts), str(p)))
        if hits:
            return hits[0].parent
    return into


def share_read_only(folder):
    """Make ``folder`` readable, not writable, by every user: the kit's inputs, written once a batch, read by each
    submission's process under its own user id."""
    os.chmod(folder, 0o755)
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    return folder


def _chown_tree(root, uid, gid):
    for folder, dirs, files in os.walk(root):
        os.chown(folder, uid, gid)
        for name in files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


def _bytes_under(root):
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


@dataclass
class Run:
    """How one submission's process is run: the limits, the isolation level and what it must not see."""
    timeout: float = 600.0
    check_timeout: float = 120.0
    limits: Limits = field(default_factory=Limits)
    isolation: str = ""
    hide: tuple = ()
    shared: Path = None  # the kit's inputs written once a batch (``share_read_only``); None: written per submission


def _kit_inputs(kit, work, run, level):
    """Screen the handed-in model files (``kit.screened``) and write this submission's settings; the kit's shared
    inputs are read in place where the submission runs under a user id of its own (they are root's, read-only),
    and copied into its folder otherwise (the same user could change them for the next submission)."""
    from coursekit.grading.fit3181 import screen_saved_models

    screen_saved_models(kit)
    if run.shared is not None and level in SEPARATE_USER:
        shared = Path(run.shared)
    elif run.shared is not None:
        shared = Path(shutil.copytree(run.shared, work / "inputs" / "shared"))
    else:
        shared = kit.write_shared(work / "inputs" / "shared")
    kit.write_settings(work / "inputs", shared)
    return shared


def grade_one(submission, kit, rubric, checks, run, assignment="fit3181"):
    """Grade ``submission`` (a folder or ``.zip``): its ``collect`` halves run in an isolated process, every
    ``judge`` half here, on the replies and on ``kit`` (the grader's data, model and settings). Returns an
    ``Outcome``; nothing the submission's process does decides a score by itself. Safe to call from several
    threads at once on one kit (each works on its own copy of the kit's per-submission fields)."""
    name = submission_name(submission)
    start = time.perf_counter()
    marker = markers(assignment)
    level = run.isolation or available_level()
    with tempfile.TemporaryDirectory(prefix="grade_") as tmp, tempfile.TemporaryDirectory(prefix="trusted_") as own:
        work = Path(tmp)
        try:
            os.replace(unpack(submission, work / "unpacked", marker), work / "submission")  # the student's copy
            shutil.rmtree(work / "unpacked", ignore_errors=True)
            trusted = unpack(submission, Path(own) / "submission", marker)  # the grader's copy: judged files
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            return Outcome(name, "crash", message=f"could not unpack {submission}: {exc}", isolation=level)
        if not any(p for pattern in marker for p in trusted.glob(pattern)):
            wanted = " or ".join(marker)
            return Outcome(name, "import-error", message=f"no {wanted} in {submission}" + (
                " (expected models.py with the template's classes, or the A1 notebook with YourModel and the "
                "attacks in its cells)" if assignment == "fit3181" else ""), isolation=level)
        mine = copy.copy(kit)  # this submission's view: its files, its screened models, its rubric line
        mine.submission = trusted
        (work / "inputs").mkdir()
        (work / "reply").mkdir()
        (work / "home").mkdir()
        reads = ()
        if assignment == "fit3181":
            with GRADER_LOCK:
                reads = (_kit_inputs(mine, work, run, level),)
        else:
            (work / "inputs" / "settings.json").write_text(json.dumps({"seed": kit.seed}))
        ids = fresh_ids()
        if level in SEPARATE_USER:
            os.chmod(work, 0o755)
            _chown_tree(work, *ids)
        token = secrets.token_hex(16)
        cmd = command(level, (*run.hide, own), [sys.executable, "-m", "coursekit.grading.worker", "--work", str(work),
                                                "--check-timeout", str(run.check_timeout), "--assignment", assignment],
                      ids, work, reads=reads)
        status, message, peak_mb = _supervise(cmd, work, run, token, level)
        if level in SEPARATE_USER:
            sweep_user(ids[0])  # in a namespace none is left (it is gone); elsewhere this ends what left the group
        tail = (work / "output.log").read_text(errors="replace")[-3000:] if (work / "output.log").is_file() else ""
        outcome = Outcome(name, "ok", isolation=level, output_tail=tail, peak_mb=peak_mb)
        with GRADER_LOCK:
            if hasattr(kit, "ready"):
                kit.ready()  # a kit loaded from disk reads its model only now, after the submission's process is gone
                mine.model, mine.dm = kit.model, kit.dm
            _judge(outcome, checks, rubric, work / "reply", mine, status, message)
        outcome.seconds = round(time.perf_counter() - start, 2)
    return outcome


def _reap(proc, block):
    """``wait4`` on the submission's first process: sets ``proc.returncode`` and returns its rusage (which covers
    every process of its tree that was waited for: the worker under ``unshare``/``setpriv``), or ``None`` while it
    runs. ``Popen.poll`` would reap it without the rusage."""
    pid, status, usage = os.wait4(proc.pid, 0 if block else os.WNOHANG)
    if pid == 0:
        return None
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage


def _supervise(cmd, work, run, token, level):
    """Run the submission's process to its end or its limit; every process it started is gone on return.
    Returns ``(status, message, peak_mb)``: the status as far as the grader itself saw (``None`` when it ended by
    itself) and the largest resident memory of any of its processes."""
    env = clean_environment(work / "home", token)
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True, preexec_fn=run.limits.apply)
    errors = []
    err_reader = threading.Thread(target=lambda: errors.append(proc.stderr.read()[-4000:]), daemon=True)
    err_reader.start()
    deadline, status, message = time.monotonic() + run.timeout, None, ""
    cap = run.limits.written_mb * 2 ** 20
    usage = _reap(proc, block=False)
    while usage is None:
        if time.monotonic() > deadline:
            status, message = "timeout", f"stopped after {run.timeout:g} s (the submission's time limit); " \
                                         "results so far kept"
        elif _bytes_under(work) > cap:
            status, message = "crash", f"stopped: it wrote over {run.limits.written_mb} MB; results so far kept"
        if status:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # unshare and the namespace's first process: all go with it
            usage = _reap(proc, block=True)
            break
        time.sleep(0.2)
        usage = _reap(proc, block=False)
    err_reader.join(timeout=10)
    if level == GROUP_ONLY:
        kill_token_holders(token)  # whatever left the process group
    if status is None and proc.returncode == -signal.SIGKILL:
        message = "killed by SIGKILL, from outside the grader: the kernel's OOM killer when memory runs out"
    elif status is None and proc.returncode != 0:
        stderr = (errors[0] if errors else b"").decode(errors="replace").strip().splitlines()
        message = f"exit code {proc.returncode}" + (f": {stderr[-1][:300]}" if stderr else "")
    return status, message, round(usage.ru_maxrss / 1024)  # kilobytes on Linux


def _judge(outcome, checks, rubric, replies_dir, kit, status, message):
    """Every check's verdict, computed here from the replies (validated) and the kit."""
    from coursekit.grading.checks import NotApplicable
    from coursekit.grading.replies import MissingReply, Reply, ReplyError

    try:
        own = Reply(replies_dir, "_status")
        outcome.status = own.text("status", 40) if own.text("status", 40) in STATUSES else "crash"
        outcome.message = own.text("message", 1500) if "message" in own.values else ""
        outcome.code = _code_note(own)
    except ReplyError:
        outcome.status = "crash"
        outcome.message = "the submission's process ended before importing it" + (f" ({message})" if message else "")
    done = (replies_dir / "_done").is_dir()
    if status is not None:
        outcome.status, outcome.message = status, message
    elif outcome.status == "ok" and not done:
        outcome.status = "crash"
        outcome.message = f"the grading process ended early ({message or 'no reason given'}); results so far kept"
    sources = _sources(replies_dir)
    for name, check in checks:
        kit.rubric = rubric.get(name, {})
        started = time.perf_counter()
        record = {}
        try:
            fraction, text = check.judge(lambda n: Reply.of(replies_dir, n), kit)
            fraction = float(fraction)
            record.update(fraction=fraction if math.isfinite(fraction) else 0.0, message=text)
        except MissingReply:
            continue  # never got that far: "not run" with the submission's status
        except NotApplicable as exc:
            record.update(fraction=0.0, message=str(exc), not_applicable=True)
        except ReplyError as exc:
            record.update(fraction=0.0, message=str(exc))
        except Exception as exc:  # noqa: BLE001 (a reply the judge could not use: that check scores 0)
            record.update(fraction=0.0, message=f"{type(exc).__name__}: {str(exc).strip()[:500]}")
        seconds = time.perf_counter() - started
        with contextlib.suppress(ReplyError, ValueError):
            if check.collect is not None:
                seconds += max(0.0, min(Reply(replies_dir, name).number("seconds", finite=True), 1e6))
        record["seconds"] = round(seconds, 2)
        if sources.get(name):
            record["code"] = ", ".join(sources[name])
        outcome.checks[name] = record


def _code_note(status):
    """What the submission's process imported, and what it kept of a notebook (from its ``_status`` reply)."""
    from coursekit.grading.replies import ReplyError

    try:
        note = status.text("code", 300) if "code" in status.values else ""
        if "notebook_kept" in status.values:
            left = status.mapping("notebook_left_out")
            skipped = sum(v for v in left.values() if isinstance(v, int) and not isinstance(v, bool))
            note += (f" ({status.number('notebook_kept'):g} definitions taken from the notebook's code cells, "
                     f"{skipped} other statements not run")
            failed = status.values.get("notebook_failed")
            if isinstance(failed, list) and failed:
                shown = "; ".join(" ".join(str(part)[:120] for part in item) for item in failed[:5]
                                  if isinstance(item, list))
                note += f"; {len(failed)} failed: {shown}"
            note += ")"
        return note
    except ReplyError:
        return ""


def _sources(replies_dir):
    """``{check: [file, ...]}`` from the ``_sources`` reply (plain strings, length-capped), or ``{}``."""
    from coursekit.grading.replies import Reply, ReplyError

    try:
        raw = Reply(replies_dir, "_sources").values
    except ReplyError:
        return {}
    return {str(k)[:40]: [str(f)[:120] for f in v[:6]] for k, v in raw.items()
            if isinstance(v, list) and all(isinstance(f, str) for f in v)}
