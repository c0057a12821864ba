"""Runs inside the sandbox (``python -m coursekit.grading.worker``): imports one submission and streams each
check's result, as one JSON line, over a pipe the grader opened (not a file the student's code could write).

The student's prints go to ``student_output.log`` in the working folder; each check runs under its own time
limit (a timer signal raises ``CheckTimeout``, which ``except Exception`` in student code does not catch).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
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
    p.add_argument("--submission", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--fd", type=int, required=True)
    p.add_argument("--check-timeout", type=float, default=120)
    p.add_argument("--rubric", default="{}")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--assignment", default="fit3181")
    args = p.parse_args(argv)
    channel = os.fdopen(args.fd, "w", buffering=1)

    def send(record):
        channel.write(json.dumps(record) + "\n")
        channel.flush()

    os.chdir(args.submission)
    log = os.open("student_output.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.path.insert(0, str(args.submission))
    os.environ["MPLBACKEND"] = "Agg"
    import coursekit  # noqa: F401  (TensorFlow settings before the student's code imports it)
    import keras

    from coursekit.grading import fit3181, others

    rubric = json.loads(args.rubric)
    keras.utils.set_random_seed(args.seed)
    start = time.perf_counter()
    if args.assignment == "fit3181":
        path, checks = args.submission / "models.py", fit3181.CHECKS
    else:
        path, checks = others.find_module(args.submission, args.assignment), others.CHECKS[args.assignment]
    if path is None or not path.is_file():
        send({"type": "status", "status": "import-error", "message": f"no {path.name if path else '.py file'} "
                                                                      "in the submission"})
        return 0
    try:
        module = _limited(args.check_timeout, _import_submission, path, "models" if path.name == "models.py"
                          else path.stem)
    except CheckTimeout:
        send({"type": "status", "status": "timeout", "message": f"importing {path.name} took over "
                                                                 f"{args.check_timeout:g} s (training at import?)"})
        return 0
    except BaseException as exc:  # noqa: BLE001 (a syntax error, a crash, sys.exit: all reported)
        send({"type": "status", "status": "import-error",
              "message": "".join(traceback.format_exception_only(type(exc), exc)).strip()[-1500:]})
        return 0
    send({"type": "import_seconds", "seconds": round(time.perf_counter() - start, 2)})
    if args.assignment == "fit3181":
        ctx = fit3181.Context(module=module, data_dir=args.data, submission=args.submission, rubric={},
                              seed=args.seed)
        ctx.found_attacks = fit3181.discover_attacks(module)
    else:
        ctx = others.make_context(module, args.assignment, args.seed)
    for name, check in checks:
        ctx.rubric = rubric.get(name, {})
        started = time.perf_counter()
        record = {"type": "check", "name": name}
        try:
            keras.utils.set_random_seed(args.seed)
            fraction, message = _limited(args.check_timeout, check, ctx)
            fraction = float(fraction)
            record.update(fraction=fraction if math.isfinite(fraction) else 0.0, message=message)
        except CheckTimeout:
            record.update(fraction=0.0, message=f"stopped after {args.check_timeout:g} s (the check's time limit)")
        except fit3181.NotApplicable as exc:  # noqa: PERF203
            record.update(fraction=0.0, message=str(exc), not_applicable=True)
        except BaseException as exc:  # noqa: BLE001 (student code may raise anything, sys.exit included)
            where = traceback.extract_tb(exc.__traceback__)[-1]
            record.update(fraction=0.0, message=f"{type(exc).__name__}: {str(exc).strip()[:500]} "
                                                f"(at {Path(where.filename).name}:{where.lineno})")
        record["seconds"] = round(time.perf_counter() - started, 2)
        send(record)
    send({"type": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
