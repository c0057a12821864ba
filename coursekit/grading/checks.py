"""A check in two halves: ``collect`` runs on the student's code (in the submission's isolated process) and
returns plain values; ``judge`` runs in the grader's process on the validated reply and returns
``(fraction, message)``. The verdict never depends on anything the student's process computed about itself.
"""
from __future__ import annotations

import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


def error_text(exc):
    """A collect half's failure as a reply carries it: the exception's type, its message (500 characters at
    most) and the student's file and line it was raised at."""
    where = traceback.extract_tb(exc.__traceback__)
    at = f" (at {Path(where[-1].filename).name}:{where[-1].lineno})" if where else ""
    return f"{type(exc).__name__}: {str(exc).strip()[:500]}{at}"


class NotApplicable(Exception):
    """Nothing to check (an optional file not handed in); the check counts only where the rubric requires it."""


@dataclass(frozen=True)
class Check:
    """One named check: ``collect(ctx) -> dict`` (``None``: the grader judges alone) and
    ``judge(replies, kit) -> (fraction, message)``, where ``replies(name)`` gives a check's ``Reply``."""
    name: str
    collect: Callable | None
    judge: Callable

    def __call__(self, ctx, kit=None):
        """Both halves in this process (tests, and students checking their own work): the reply still goes
        through ``write_reply`` and ``Reply``'s validation."""
        from coursekit.grading.replies import Reply, write_reply

        with tempfile.TemporaryDirectory(prefix="check_") as folder:
            if self.collect is not None:
                write_reply(folder, self.name, self.collect(ctx))
            return self.judge(lambda name: Reply.of(folder, name), kit if kit is not None else ctx)


def verdict(results):
    """``(fraction passed, message)`` from ``[(passed, what was checked), ...]``, each part marked ok or WRONG."""
    return (sum(bool(ok) for ok, _ in results) / len(results),
            "; ".join(("ok: " if ok else "WRONG: ") + m for ok, m in results))
