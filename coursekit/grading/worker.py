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


def _import_submission(path, name="models", notebook=None):
    """Import ``path`` as the module ``name`` and run ``notebook``'s definitions on top of it (``notebook_code``:
    classes, functions, imports, constants; never its driver cells), counting ``keras.Model.fit`` calls made on
    the way."""
    import keras

    from coursekit.grading.notebook_code import definitions, execute

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
        if notebook is not None:
            code = definitions(notebook)
            failed = execute(code, vars(module), notebook.name)
            module.__grader_notebook__ = {"kept": len(code.statements), "left_out": code.left_out,
                                          "unparsable_cells": code.unparsable_cells, "failed": failed}
    finally:
        keras.Model.fit = original
    module.__grader_fit_calls__ = calls["n"]
    return module


def _fit3181_code(submission, shared):
    """``(module file, notebook or None, what the report calls the module file)`` for a FIT3181 submission: its
    own ``models.py``, or the template's beneath a notebook handed in alone (as the 2022 notebook imports it)."""
    from coursekit.grading.fit3181.kit import Kit
    from coursekit.grading.notebook_code import pick_notebook

    own = submission / "models.py"
    notebook = pick_notebook(submission)
    if own.is_file():
        return own, notebook, "models.py"
    if notebook is not None:
        return shared / Kit.TEMPLATE_FILE, notebook, "the template's models.py"
    return None, None, "models.py"


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
    shared = Path(settings.get("shared") or work / "inputs")  # the kit's inputs, written once a batch (read-only)
    seed = settings["seed"]
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    notebook, base_label = None, None
    if args.assignment == "fit3181":
        (path, notebook, base_label), checks = _fit3181_code(submission, shared), fit3181.CHECKS
        expected = "models.py or the A1 notebook (.ipynb) with YourModel and the attacks in its cells"
    else:
        path, checks = others.find_module(submission, args.assignment), others.CHECKS[args.assignment]
        expected = ".py file"
    if path is None or not path.is_file():
        write_reply(reply, "_status", {"status": "import-error", "message": f"no {expected} in the submission"})
        return 0
    what = " and ".join(filter(None, [base_label or path.name, notebook and str(notebook.relative_to(submission))]))
    try:
        module = _limited(args.check_timeout, _import_submission, path, "models" if path.name == "models.py"
                          else path.stem, notebook)
    except CheckTimeout:
        write_reply(reply, "_status", {"status": "timeout", "message": f"importing {what} took over "
                                                                       f"{args.check_timeout:g} s (training at import?)"})
        return 0
    except BaseException as exc:  # noqa: BLE001 (a syntax error, a crash, sys.exit: all reported)
        write_reply(reply, "_status", {"status": "import-error", "message": "".join(
            traceback.format_exception_only(type(exc), exc)).strip()[-1500:]})
        return 0
    status = {"status": "ok", "import_seconds": round(time.perf_counter() - start, 2), "code": what}
    status.update({f"notebook_{k}": v for k, v in getattr(module, "__grader_notebook__", {}).items()})
    write_reply(reply, "_status", status)
    if args.assignment == "fit3181":
        ctx = fit3181.Context.from_inputs(module, work / "inputs", submission, work / "home")
        labels = {str(path): base_label, **({notebook.name: str(notebook.relative_to(submission))} if notebook else {})}
        write_reply(reply, "_sources", fit3181.code_sources(ctx, labels))
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
