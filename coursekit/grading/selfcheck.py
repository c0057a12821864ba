"""Students check their own work before handing it in: ``check(models)`` in a notebook, ``python -m assignment
check models.py`` in a shell.

The same checks as ``grade`` (``fit3181.CHECKS``, ``others.CHECKS``), both halves run here, in the student's own
process, on the kit's generated images and its freshly trained model: the same messages and the same points as the
grader gives, since both come from one definition. The grader's isolation is not needed for one's own code.
"""
from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from types import ModuleType


@lru_cache(maxsize=4)
def _kit(seed):
    """The grader's images and model for FIT3181 (built once per process and seed: about half a minute)."""
    from coursekit.grading.data import make_grader_images
    from coursekit.grading.fit3181 import Kit

    folder = Path(tempfile.mkdtemp(prefix="coursekit_check_")) / "images"
    make_grader_images(folder, seed=seed)
    return Kit.build(folder, seed)


def _module(module):
    """A module object from a module, or from the path of a ``.py`` file (imported as ``models`` for models.py)."""
    if isinstance(module, ModuleType):
        return module
    path = Path(module)
    if not path.is_file():
        raise FileNotFoundError(f"no file {path}: give the path of your models.py (or the module itself)")
    sys.path.insert(0, str(path.parent.resolve()))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def check(module, *names, assignment="fit3181", seed=0, rubric=None, show=True):
    """Run the grader's checks (all, or those ``names``) on ``module`` (e.g. ``models``, or ``"models.py"``) and
    print a table: check, pass/FAIL, points and the grader's message. Returns the rows as dicts."""
    from coursekit.grading import fit3181, others
    from coursekit.grading.checks import NotApplicable, error_text
    from coursekit.grading.replies import Reply, ReplyError, write_reply
    from coursekit.grading.rubric import load_rubric

    module = _module(module)
    rubric = load_rubric(rubric, assignment)
    checks = fit3181.CHECKS if assignment == "fit3181" else others.CHECKS[assignment]
    known = [name for name, _ in checks]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown check(s) {unknown} for {assignment}: choose from {', '.join(known)}")
    wanted = set(names) or set(known)
    if "pgd_strength" in wanted:
        wanted.add("attack_pgd")  # judged from the PGD's reply
        wanted.add("attack_fgsm")
    rows = []
    with tempfile.TemporaryDirectory(prefix="coursekit_check_") as tmp:
        replies, scratch = Path(tmp) / "reply", Path(tmp) / "scratch"
        replies.mkdir()
        scratch.mkdir()
        if assignment == "fit3181":
            kit = _kit(seed)
            kit.submission = Path(getattr(module, "__file__", ".")).resolve().parent
            fit3181.screen_saved_models(kit)
            shared = kit.write_shared(Path(tmp) / "shared")
            (Path(tmp) / "inputs").mkdir()
            kit.write_settings(Path(tmp) / "inputs", shared)
            ctx = fit3181.Context.from_inputs(module, Path(tmp) / "inputs", kit.submission, scratch)
        else:
            from types import SimpleNamespace
            kit = SimpleNamespace(seed=seed, assignment=assignment, rubric={})
            ctx = others.make_context(module, assignment, seed)
        for name, item in checks:
            if name not in wanted:
                continue
            started = time.perf_counter()
            if item.collect is not None:
                try:
                    values = item.collect(ctx)
                except Exception as exc:  # noqa: BLE001 (reported as the grader reports it)
                    values = {"error": error_text(exc)}
                write_reply(replies, name, values)
            kit.rubric = rubric[name]
            settings, applicable = rubric[name], True
            try:
                fraction, message = item.judge(lambda n: Reply.of(replies, n), kit)
            except NotApplicable as exc:
                fraction, message, applicable = 0.0, str(exc), False
            except ReplyError as exc:
                fraction, message = 0.0, str(exc)
            max_score = float(settings.get("max_score", 0))
            if not applicable and not settings.get("required", False):
                max_score = 0.0
            score = round(max_score * max(0.0, min(1.0, float(fraction))), 3)
            if names and name not in names:
                continue  # run only because a check asked for needs its reply
            rows.append(dict(check=name, result="n/a" if not applicable else "pass" if score >= max_score else "FAIL",
                             score=score, max_score=max_score, message=message,
                             seconds=round(time.perf_counter() - started, 2)))
    if show:
        _print(rows)
    return rows


def _print(rows):
    width = max(len(r["check"]) for r in rows) if rows else 5
    print(f"{'check':{width}s}  result  points      message")
    for r in rows:
        points = f"{r['score']:g} / {r['max_score']:g}"
        print(f"{r['check']:{width}s}  {r['result']:6s}  {points:10s}  {r['message']}")
    total, possible = sum(r["score"] for r in rows), sum(r["max_score"] for r in rows)
    print(f"{'total':{width}s}          {total:g} / {possible:g}")
