"""Runs inside the submission's isolated process (``python -m coursekit.grading.worker --work W``): imports the
student's module and runs each check's ``collect`` half on it, writing one reply per check into ``W/reply``.

It computes, it never scores: the grader reads the replies after this process and everything it started are
gone, validates them and judges them in its own process. The student's prints go to ``W/output.log``; each check
runs under its own time limit (a timer signal raises ``CheckTimeout``, which ``except Exception`` in student code
does not catch), and the whole submission under the grader's.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys
import time
import traceback
from pathlib import Path


class CheckTimeout(BaseException):
    """A check ran past its limit (a ``BaseException``: student code catching ``Exception`` cannot keep it)."""


def _on_alarm(signum, frame):
    raise CheckTimeout()


def _limited(seconds, fn, *args):
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _import_submission(path, name="models"):
    """Import ``path`` as the module ``name``, counting ``keras.Model.fit`` calls made while importing."""
    import keras

    calls = {"n": 0}
    original = keras.Model.fit

    def counting_fit(self, *args, **kwargs):
        calls["n"] += 1
        return original(self, *args, **kwargs)

    keras.Model.fit = counting_fit
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    finally:
        keras.Model.fit = original
    module.__grader_fit_calls__ = calls["n"]
    return module


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--check-timeout", type=float, default=120)
    p.add_argument("--assignment", default="fit3181")
    args = p.parse_args(argv)
    work = args.work
    submission, reply = work / "submission", work / "reply"
    os.chdir(submission)
    log = os.open(work / "output.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.path.insert(0, str(submission))
    import coursekit  # noqa: F401  (TensorFlow settings before the student's code imports it)
    import json

    import keras

    from coursekit.grading import fit3181, others
    from coursekit.grading.checks import error_text
    from coursekit.grading.replies import write_reply

    settings = json.loads((work / "inputs" / "settings.json").read_text())
    seed = settings["seed"]
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    if args.assignment == "fit3181":
        path, checks = submission / "models.py", fit3181.CHECKS
    else:
        path, checks = others.find_module(submission, args.assignment), others.CHECKS[args.assignment]
    if path is None or not path.is_file():
        write_reply(reply, "_status", {"status": "import-error",
                                       "message": f"no {path.name if path else '.py file'} in the submission"})
        return 0
    try:
        module = _limited(args.check_timeout, _import_submission, path, "models" if path.name == "models.py"
                          else path.stem)
    except CheckTimeout:
        write_reply(reply, "_status", {"status": "timeout", "message": f"importing {path.name} took over "
                                                                       f"{args.check_timeout:g} s (training at import?)"})
        return 0
    except BaseException as exc:  # noqa: BLE001 (a syntax error, a crash, sys.exit: all reported)
        write_reply(reply, "_status", {"status": "import-error", "message": "".join(
            traceback.format_exception_only(type(exc), exc)).strip()[-1500:]})
        return 0
    write_reply(reply, "_status", {"status": "ok", "import_seconds": round(time.perf_counter() - start, 2)})
    if args.assignment == "fit3181":
        ctx = fit3181.Context.from_inputs(module, work / "inputs", submission, work / "home")
    else:
        ctx = others.make_context(module, args.assignment, seed)
    for name, check in checks:
        if check.collect is None:
            continue  # judged by the grader alone
        started = time.perf_counter()
        try:
            keras.utils.set_random_seed(seed)
            values = _limited(args.check_timeout, check.collect, ctx)
        except CheckTimeout:
            values = {"error": f"stopped after {args.check_timeout:g} s (the check's time limit)"}
        except BaseException as exc:  # noqa: BLE001 (student code may raise anything, sys.exit included)
            values = {"error": error_text(exc)}
        values["seconds"] = round(time.perf_counter() - started, 2)
        try:
            write_reply(reply, name, values)
        except Exception as exc:  # noqa: BLE001 (values that cannot be written: the check's error)
            write_reply(reply, name, {"error": f"the check's results could not be written: {error_text(exc)}",
                                      "seconds": values["seconds"]})
    write_reply(reply, "_done", {})
    return 0


if __name__ == "__main__":
    sys.exit(main())
